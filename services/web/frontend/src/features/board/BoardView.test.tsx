import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/problem";
import type { Board, TaskState, TaskSummary } from "../../api/types";
import { BoardView } from "./BoardView";
import { COLUMNS } from "./moves";

function task(overrides: Partial<TaskSummary>): TaskSummary {
  return {
    id: "t1", campaign_id: "c1", key: "draft", title: "Write the draft", role: "writer", queue: "writer",
    due_date: "2030-01-10", start_date: "2030-01-01", status: "ready", sla: "on_time", assignee_id: "wendy",
    revision_round: 0, blocked_reason: null, version: 3, ...overrides,
  };
}

function board(tasks: TaskSummary[]): Board {
  const columns = Object.fromEntries(COLUMNS.map((state) => [state, tasks.filter((t) => t.status === state)]));
  const counts = Object.fromEntries(COLUMNS.map((state) => [state, tasks.filter((t) => t.status === state).length]));
  return { campaign_id: "c1", columns, counts } as unknown as Board;
}

function renderBoard(tasks: TaskSummary[], run = vi.fn().mockResolvedValue({})) {
  render(
    <MemoryRouter>
      <BoardView board={board(tasks)} campaignId="c1" run={run} />
    </MemoryRouter>,
  );
  return run;
}

describe("BoardView", () => {
  it("shows a column per state with its cards", () => {
    renderBoard([task({}), task({ id: "t2", title: "Design", status: "in_review" })]);
    const ready = screen.getByRole("region", { name: /Ready/ });
    expect(within(ready).getByText("Write the draft")).toBeInTheDocument();
    expect(screen.getByRole("region", { name: /In review/ })).toHaveTextContent("Design");
  });

  it("offers only the legal targets and runs the command for a move", async () => {
    const run = renderBoard([task({})]);
    const menu = screen.getByRole("combobox", { name: "Move Write the draft to" });
    const options = within(menu).getAllByRole("option").map((option) => option.getAttribute("value"));
    expect(options).toEqual(["", "in_progress", "blocked", "cancelled"] satisfies ("" | TaskState)[]);
    await userEvent.selectOptions(menu, "in_progress");
    expect(run).toHaveBeenCalledWith("start", expect.objectContaining({ id: "t1", version: 3 }), "");
  });

  it("asks for the submission's reference before submitting", async () => {
    const run = renderBoard([task({ status: "in_progress" })]);
    await userEvent.selectOptions(screen.getByRole("combobox", { name: /Move/ }), "submitted");
    await userEvent.type(screen.getByLabelText(/reference of the submission/), "https://docs/draft-1");
    await userEvent.click(screen.getByRole("button", { name: "Submit" }));
    expect(run).toHaveBeenCalledWith("submit", expect.objectContaining({ id: "t1" }), "https://docs/draft-1");
  });

  it("shows the server's problem when it refuses the move", async () => {
    const run = vi.fn().mockRejectedValue(
      new ApiError({
        title: "Conflict",
        status: 409,
        detail: "cannot start task t1: transition ready -> in_progress is not allowed",
      }),
    );
    renderBoard([task({})], run);
    await userEvent.selectOptions(screen.getByRole("combobox", { name: /Move/ }), "in_progress");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Conflict");
    expect(alert).toHaveTextContent("(409)");
    expect(alert).toHaveTextContent("transition ready -> in_progress is not allowed");
  });
});
