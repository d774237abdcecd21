import { describe, expect, it } from "vitest";
import { claimableQueues, openByDueDate } from "./tasks";

describe("my work", () => {
  it("lists open tasks soonest due first", () => {
    const tasks = [
      { status: "in_progress", due_date: "2030-02-01", title: "B" },
      { status: "done", due_date: "2029-01-01", title: "finished" },
      { status: "ready", due_date: "2030-01-15", title: "A" },
      { status: "cancelled", due_date: "2029-01-01", title: "gone" },
    ] as const;
    expect(openByDueDate([...tasks]).map((task) => task.title)).toEqual(["A", "B"]);
  });

  it("claims from role queues and the teams' queues, once each", () => {
    expect(claimableQueues(["writer"], [["design", "writer"], ["events"]])).toEqual(["design", "events", "writer"]);
  });
});

describe("notifications and who must act", () => {
  it("counts the unread notifications", async () => {
    const { countUnread } = await import("../notifications");
    expect(countUnread([{ read: false }, { read: true }, { read: false }] as never)).toBe(2);
  });

  it("names who must act on a task", async () => {
    const { whoMustAct } = await import("../board/TaskDetail");
    const base = { assignee_id: "wendy", pending_approvers: [], queue: "writer", consulted_missing: [] };
    expect(whoMustAct({ ...base, status: "in_progress" })).toBe("wendy (assignee).");
    expect(whoMustAct({ ...base, status: "in_review", pending_approvers: ["ann", "al"], consulted_missing: ["legal"] }))
      .toBe("Waiting for approvers ann, al and consulted roles legal.");
    expect(whoMustAct({ ...base, status: "ready", assignee_id: null })).toBe("Anyone who can claim from queue writer.");
    expect(whoMustAct({ ...base, status: "done" })).toBe("Nobody: the task is finished.");
  });
});
