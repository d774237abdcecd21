import { describe, expect, it } from "vitest";
import { legalTargets, moveFor, movesFrom } from "./moves";

describe("board moves", () => {
  it("maps each lifecycle step to its execution command", () => {
    expect(moveFor("ready", "in_progress")?.command).toBe("start");
    expect(moveFor("in_progress", "submitted")).toMatchObject({ command: "submit", needs: "reference" });
    expect(moveFor("in_progress", "done")?.command).toBe("complete");
    expect(moveFor("submitted", "approved")?.command).toBe("approve");
    expect(moveFor("in_review", "in_review")).toBeNull();
    expect(moveFor("submitted", "in_progress")).toMatchObject({ command: "request-changes", needs: "comment" });
    expect(moveFor("approved", "done")?.command).toBe("complete");
    expect(moveFor("blocked", "ready")?.command).toBe("unblock");
    expect(moveFor("ready", "blocked")).toMatchObject({ command: "block", needs: "reason" });
    expect(moveFor("planned", "cancelled")).toMatchObject({ command: "cancel", needs: "reason" });
  });

  it("refuses moves no command makes", () => {
    expect(moveFor("planned", "ready")).toBeNull(); // readiness follows the predecessors
    expect(moveFor("ready", "done")).toBeNull();
    expect(moveFor("done", "in_progress")).toBeNull();
    expect(moveFor("cancelled", "ready")).toBeNull();
    expect(moveFor("submitted", "blocked")).toBeNull();
    expect(moveFor("approved", "in_progress")).toBeNull();
  });

  it("lists the legal targets and one button per command", () => {
    expect(legalTargets("ready")).toEqual(["in_progress", "blocked", "cancelled"]);
    expect(legalTargets("done")).toEqual([]);
    expect(movesFrom("in_review").map((move) => move.command)).toEqual(["request-changes", "approve", "cancel"]);
  });
});
