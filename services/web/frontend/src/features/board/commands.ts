import { execution, ifMatch, unwrap } from "../../api/client";
import type { Command } from "./moves";

/** Runs an execution command on the task at the version the board showed (If-Match). */
export function runCommand(command: Command, taskId: string, version: number, text: string) {
  const params = { path: { task_id: taskId }, header: ifMatch(version) };
  switch (command) {
    case "start":
      return unwrap(execution.POST("/tasks/{task_id}/start", { params, body: {} }));
    case "submit":
      return unwrap(execution.POST("/tasks/{task_id}/submit", { params, body: { reference: text, note: "" } }));
    case "approve":
      return unwrap(execution.POST("/tasks/{task_id}/approve", { params, body: { comment: text } }));
    case "request-changes":
      return unwrap(execution.POST("/tasks/{task_id}/request-changes", { params, body: { comment: text } }));
    case "complete":
      return unwrap(execution.POST("/tasks/{task_id}/complete", { params, body: {} }));
    case "block":
      return unwrap(execution.POST("/tasks/{task_id}/block", { params, body: { reason: text } }));
    case "unblock":
      return unwrap(execution.POST("/tasks/{task_id}/unblock", { params, body: {} }));
    case "cancel":
      return unwrap(execution.POST("/tasks/{task_id}/cancel", { params, body: { reason: text } }));
  }
}
