import type { TaskState } from "../../api/types";

/** Board columns, in the lifecycle's order. */
export const COLUMNS: readonly TaskState[] = [
  "planned",
  "ready",
  "in_progress",
  "submitted",
  "in_review",
  "approved",
  "done",
  "blocked",
  "cancelled",
];

/** The execution command a move calls, and what it asks of the person moving the card. */
export type Command =
  | "start"
  | "submit"
  | "approve"
  | "request-changes"
  | "complete"
  | "block"
  | "unblock"
  | "cancel";

export interface Move {
  command: Command;
  label: string;
  /** The text the command needs: a reference for a submission, a comment, a reason. */
  needs?: "reference" | "comment" | "reason";
}

const OPEN_BEFORE_REVIEW: readonly TaskState[] = ["planned", "ready", "in_progress"];
const IN_REVIEW: readonly TaskState[] = ["submitted", "in_review"];
const FINISHED: readonly TaskState[] = ["done", "cancelled"];

/**
 * The command moving a card from one column to another, or null when no command does
 * (planned → ready happens by itself when the predecessors finish; done and cancelled
 * are final). Mirrors execution's lifecycle (services/execution/domain/task.py
 * TRANSITIONS); the server still decides — who may act, the task's version, consulted
 * roles — and its refusal is shown as it gives it.
 */
export function moveFor(from: TaskState, to: TaskState): Move | null {
  if (from === to || FINISHED.includes(from)) return null;
  if (to === "cancelled") return { command: "cancel", label: "Cancel", needs: "reason" };
  if (to === "blocked") {
    return OPEN_BEFORE_REVIEW.includes(from) ? { command: "block", label: "Block", needs: "reason" } : null;
  }
  if (from === "blocked") {
    // Unblocking resumes where the task was; the server knows which state that is.
    return OPEN_BEFORE_REVIEW.includes(to) ? { command: "unblock", label: "Unblock" } : null;
  }
  if (from === "ready" && to === "in_progress") return { command: "start", label: "Start" };
  if (from === "in_progress" && to === "submitted") {
    return { command: "submit", label: "Submit", needs: "reference" };
  }
  if (from === "in_progress" && to === "done") return { command: "complete", label: "Complete" };
  if (IN_REVIEW.includes(from) && (to === "approved" || to === "in_review")) {
    return { command: "approve", label: "Approve" };
  }
  if (IN_REVIEW.includes(from) && to === "in_progress") {
    return { command: "request-changes", label: "Request changes", needs: "comment" };
  }
  if (from === "approved" && to === "done") return { command: "complete", label: "Complete" };
  return null;
}

/** The columns a card in this state can be dropped on. */
export function legalTargets(from: TaskState): TaskState[] {
  return COLUMNS.filter((to) => moveFor(from, to) !== null);
}

/** The moves offered as buttons in the card detail (one per command). */
export function movesFrom(from: TaskState): Move[] {
  const seen = new Set<Command>();
  const moves: Move[] = [];
  for (const to of COLUMNS) {
    const move = moveFor(from, to);
    if (move && !seen.has(move.command)) {
      seen.add(move.command);
      moves.push(move);
    }
  }
  return moves;
}
