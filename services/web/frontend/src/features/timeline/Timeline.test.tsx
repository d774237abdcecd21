import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { CampaignTask } from "../../api/types";
import { movedTasks, relativeDay, timelineRows } from "./layout";
import { TimelineChart } from "./TimelineChart";

const task = (overrides: Partial<CampaignTask>): CampaignTask =>
  ({ task_id: "a", key: "brief", title: "Brief", start_date: "2030-03-01", due_date: "2030-03-04", depends_on: [], status: "done", ...overrides }) as CampaignTask;

const tasks = [
  task({ task_id: "b", key: "pr", title: "Press release", start_date: "2030-03-05", due_date: "2030-03-08", depends_on: ["a"], status: "ready" }),
  task({}),
];

describe("timeline layout", () => {
  it("places tasks relative to the launch day, in start order, with their dependencies", () => {
    const rows = timelineRows(tasks, "2030-03-10", ["b"]);
    expect(rows.map((row) => [row.task.key, row.from, row.to, row.critical, row.dependsOn])).toEqual([
      ["brief", -9, -6, false, []],
      ["pr", -5, -2, true, ["Brief"]],
    ]);
    expect(relativeDay(-5)).toBe("L-5");
    expect(relativeDay(0)).toBe("launch");
  });

  it("lists the tasks a reschedule moved", () => {
    const after = tasks.map((t) => (t.task_id === "b" ? { ...t, due_date: "2030-03-15" } : t));
    expect(movedTasks(tasks, after)).toEqual([{ title: "Press release", fromDue: "2030-03-08", toDue: "2030-03-15" }]);
  });
});

describe("TimelineChart", () => {
  it("highlights and names the critical path", () => {
    render(<TimelineChart rows={timelineRows(tasks, "2030-03-10", ["b"])} />);
    const critical = screen.getByRole("row", { name: /Press release/ });
    expect(critical).toHaveClass("critical");
    expect(critical).toHaveTextContent("on the critical path");
    expect(critical).toHaveTextContent("after Brief");
    expect(screen.getByRole("row", { name: /^Brief/ })).not.toHaveClass("critical");
  });
});
