import type { Playbook, TaskTemplate } from "../../api/types";

export type RaciLetter = "R" | "A" | "C" | "I";

/** Every task of a playbook, in phase order (a playbook's tasks live in its phases). */
export function playbookTasks(playbook: Pick<Playbook, "phases" | "tasks">): TaskTemplate[] {
  const inPhases = playbook.phases.flatMap((phase) => phase.tasks);
  return inPhases.length ? inPhases : playbook.tasks;
}

/** The roles of the matrix: the playbook's own, then any a task names, in order of appearance. */
export function raciRoles(roles: string[], tasks: TaskTemplate[]): string[] {
  const seen = new Set(roles);
  const all = [...roles];
  for (const task of tasks) {
    for (const role of [task.role, ...(task.approval_chain ?? []).map((step) => step.role), ...(task.consulted ?? []), ...(task.informed ?? [])]) {
      if (!seen.has(role)) {
        seen.add(role);
        all.push(role);
      }
    }
  }
  return all;
}

/** R: the responsible role; A: each approver of the chain; C: consulted; I: informed. */
export function raciLetters(task: TaskTemplate, role: string): RaciLetter[] {
  const letters: RaciLetter[] = [];
  if (task.role === role) letters.push("R");
  if ((task.approval_chain ?? []).some((step) => step.role === role)) letters.push("A");
  if ((task.consulted ?? []).includes(role)) letters.push("C");
  if ((task.informed ?? []).includes(role)) letters.push("I");
  return letters;
}

/** A task's date rule in words (offsets are working days from the launch day). */
export function dateRuleText(task: TaskTemplate): string {
  const rule = task.date_rule;
  if (rule?.kind === "anchor") {
    const offset = rule.offset_working_days ?? 0;
    if (offset === 0) return "due on launch day";
    return `due ${Math.abs(offset)} working day${Math.abs(offset) === 1 ? "" : "s"} ${offset < 0 ? "before" : "after"} launch`;
  }
  return task.depends_on?.length ? `after ${task.depends_on.join(", ")}` : "after its predecessors";
}
