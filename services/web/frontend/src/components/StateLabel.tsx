export const STATE_LABELS: Record<string, string> = {
  planned: "Planned",
  ready: "Ready",
  in_progress: "In progress",
  submitted: "Submitted",
  in_review: "In review",
  approved: "Approved",
  done: "Done",
  blocked: "Blocked",
  cancelled: "Cancelled",
};

export function stateLabel(state: string): string {
  return STATE_LABELS[state] ?? state;
}
