import type { TaskSummary } from "../../api/types";

const FINISHED = new Set(["done", "cancelled"]);

/** Open tasks, soonest due first (then by title), as "My work" lists them. */
export function openByDueDate<T extends Pick<TaskSummary, "status" | "due_date" | "title">>(
  tasks: readonly T[],
): T[] {
  return tasks
    .filter((task) => !FINISHED.has(task.status))
    .sort((a, b) => a.due_date.localeCompare(b.due_date) || a.title.localeCompare(b.title));
}

/** The queues a member may claim from: those named after their roles and their teams' queues. */
export function claimableQueues(roles: readonly string[], teamQueues: readonly string[][]): string[] {
  return [...new Set([...roles, ...teamQueues.flat()])].sort();
}
