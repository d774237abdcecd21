import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { MemberLoad } from "../../api/types";
import { WorkloadHeatmap, heatLevel } from "./WorkloadHeatmap";

const member: MemberLoad = {
  member_id: "ben", name: "Ben", team_ids: ["marketing"], weekly_capacity_hours: 20, open_tasks: 3, overdue_tasks: 1,
  over_capacity_now: false, over_capacity_next_four_weeks: true,
  weeks: [
    { week: "2030-W01", starts_on: "2029-12-31", tasks_due: 1, effort_hours: 4, over_capacity: false },
    { week: "2030-W02", starts_on: "2030-01-07", tasks_due: 4, effort_hours: 26, over_capacity: true },
  ],
};

describe("WorkloadHeatmap", () => {
  it("shows a cell per member and week, over-capacity weeks marked", () => {
    render(<WorkloadHeatmap members={[member]} />);
    expect(screen.getAllByRole("columnheader").map((cell) => cell.textContent)).toEqual(["Member", "Open", "2030-W01", "2030-W02"]);
    const cells = within(screen.getByRole("row", { name: /Ben/ })).getAllByRole("cell");
    expect(cells[1]).toHaveTextContent("4/20");
    expect(cells[1]).toHaveClass("heat-1");
    expect(cells[2]).toHaveTextContent("26/20 over");
    expect(cells[2]).toHaveClass("heat-4");
  });

  it("grades the load against capacity", () => {
    expect(heatLevel(0, 20, false)).toBe(0);
    expect(heatLevel(10, 20, false)).toBe(2);
    expect(heatLevel(18, 20, false)).toBe(3);
    expect(heatLevel(5, 0, false)).toBe(3);
  });
});
