import type { CampaignTask } from "../../api/types";

const DAY = 86_400_000;
const toDay = (iso: string) => Math.round(Date.parse(`${iso}T00:00:00Z`) / DAY);

export interface TimelineRow {
  task: CampaignTask;
  /** Days from launch of the task's first and last day (negative: before launch). */
  from: number;
  to: number;
  critical: boolean;
  dependsOn: string[];
}

/** Tasks placed relative to the launch day, in start order, the critical path marked. */
export function timelineRows(tasks: CampaignTask[], launchDate: string, criticalPath: string[]): TimelineRow[] {
  const launch = toDay(launchDate);
  const titles = new Map(tasks.map((task) => [task.task_id, task.title]));
  const critical = new Set(criticalPath);
  return tasks
    .map((task) => {
      const to = toDay(task.due_date) - launch;
      const from = task.start_date ? Math.min(toDay(task.start_date) - launch, to) : to;
      return {
        task,
        from,
        to,
        critical: critical.has(task.task_id) || critical.has(task.key),
        dependsOn: task.depends_on.map((id) => titles.get(id) ?? id),
      };
    })
    .sort((a, b) => a.from - b.from || a.to - b.to);
}

/** The span of days to draw: every task and the launch day itself. */
export function timelineSpan(rows: TimelineRow[]): { min: number; max: number } {
  const min = Math.min(0, ...rows.map((row) => row.from));
  const max = Math.max(0, ...rows.map((row) => row.to));
  return { min, max };
}

export function relativeDay(day: number): string {
  if (day === 0) return "launch";
  return day < 0 ? `L${day}` : `L+${day}`;
}

/** Tasks whose dates differ between two plans of the same campaign (a reschedule's effect). */
export function movedTasks(before: CampaignTask[], after: CampaignTask[]) {
  const old = new Map(before.map((task) => [task.task_id, task]));
  return after
    .map((task) => ({ task, was: old.get(task.task_id) }))
    .filter(({ task, was }) => was && (was.due_date !== task.due_date || was.start_date !== task.start_date))
    .map(({ task, was }) => ({ title: task.title, fromDue: was!.due_date, toDue: task.due_date }));
}
