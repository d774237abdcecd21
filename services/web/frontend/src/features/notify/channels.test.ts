import { describe, expect, it } from "vitest";
import { fromTable, KINDS, timeZones, toTable } from "./channels";

describe("channels per kind", () => {
  it("shows each kind as the service applies it: its own choice, else every other kind's, else all", () => {
    expect(toTable({})["task.done"]).toEqual(["in_app", "email", "webhook"]);
    const table = toTable({ "*": ["email"], "task.done": ["in_app"] });
    expect(table["*"]).toEqual(["in_app", "email"]);
    expect(table["task.late"]).toEqual(["in_app", "email"]);
    expect(table["task.done"]).toEqual(["in_app"]);
  });

  it("sends * and only the kinds that differ from it, keeping kinds the page does not show", () => {
    const table = toTable({ "*": ["in_app", "email"] });
    table["task.done"] = ["in_app"];
    expect(fromTable(table, { "other.kind": ["in_app"] })).toEqual({
      "other.kind": ["in_app"], "*": ["in_app", "email"], "task.done": ["in_app"],
    });
    expect(KINDS).toHaveLength(18);
  });

  it("offers the IANA zones with UTC and the current one", () => {
    const zones = timeZones("Mars/Olympus");
    expect(zones).toContain("Europe/Helsinki");
    expect(zones).toContain("UTC");
    expect(zones).toContain("Mars/Olympus");
  });
});
