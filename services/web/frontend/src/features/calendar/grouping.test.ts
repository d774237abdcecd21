import { describe, expect, it } from "vitest";
import type { CalendarEntry } from "../../api/types";
import { groupByPeriod } from "./grouping";

function entry(uid: string, kind: "launch" | "task", start: string, due: string, title = uid): CalendarEntry {
  return {
    uid, kind, title, start_date: start, due_date: due, campaign_id: "c", campaign: "Launch X",
    team_id: null, goal_ids: [], updated_at: "2030-01-01T00:00:00Z",
  } as CalendarEntry;
}

describe("groupByPeriod", () => {
  const entries = [
    entry("b", "launch", "2030-03-20", "2030-03-20"),
    entry("a", "launch", "2030-03-02", "2030-03-02"),
    entry("t", "task", "2030-03-28", "2030-04-03"),
    entry("old", "launch", "2029-12-31", "2029-12-31"),
    entry("dec", "launch", "2030-12-31", "2030-12-31"),
  ];

  it("puts launches on their day and tasks on their due date, every month present", () => {
    const months = groupByPeriod(entries, 2030, "month");
    expect(months).toHaveLength(12);
    expect(months[2]?.label).toBe("March");
    expect(months[2]?.entries.map((e) => e.uid)).toEqual(["a", "b"]);
    expect(months[3]?.entries.map((e) => e.uid)).toEqual(["t"]);
    expect(months[11]?.entries.map((e) => e.uid)).toEqual(["dec"]);
    expect(months.flatMap((m) => m.entries).some((e) => e.uid === "old")).toBe(false);
  });

  it("groups by quarter", () => {
    const quarters = groupByPeriod(entries, 2030, "quarter");
    expect(quarters.map((q) => q.key)).toEqual(["2030-Q1", "2030-Q2", "2030-Q3", "2030-Q4"]);
    expect(quarters[0]?.label).toBe("Q1 (Jan–Mar)");
    expect(quarters[0]?.entries.map((e) => e.uid)).toEqual(["a", "b"]);
    expect(quarters[1]?.entries.map((e) => e.uid)).toEqual(["t"]);
  });
});
