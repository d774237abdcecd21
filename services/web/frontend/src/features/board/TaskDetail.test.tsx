import { render, screen, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import type { TaskDetail } from "../../api/types";
import { chainStepStates, TaskDetailView } from "./TaskDetail";

const CHAIN = [
  { role: "brand", member_id: null, required_approvals: 1 },
  { role: "legal", member_id: null, required_approvals: 1 },
] as unknown as TaskDetail["approval_chain"];

function states(status: TaskDetail["status"], current_step: number | null) {
  return chainStepStates({ status, approval_chain: CHAIN, current_step });
}

describe("the approval chain of a card (current_step counts from 1)", () => {
  it("waits on every step before the task is submitted", () => {
    expect(states("ready", 1)).toEqual(["waiting", "waiting"]);
    expect(states("in_progress", 1)).toEqual(["waiting", "waiting"]);
  });

  it("marks the step being waited on as current, the ones before as done", () => {
    expect(states("submitted", 1)).toEqual(["current", "waiting"]);
    expect(states("in_review", 2)).toEqual(["done", "current"]);
  });

  it("marks every step done once approved", () => {
    expect(states("approved", 3)).toEqual(["done", "done"]);
    expect(states("done", 3)).toEqual(["done", "done"]);
  });

  it("says 'current step' on the step waited on in the detail panel", () => {
    const task = {
      id: "t1", campaign_id: "c1", title: "Write the launch post", status: "submitted", sla: "on_time",
      due_date: "2030-01-10", description: null, blocked_reason: null, revision_round: 0,
      assignee_id: "ben", pending_approvers: ["erin"], consulted_missing: [], queue: "writer",
      approval_chain: CHAIN.slice(0, 1), current_step: 1, step_approvals: [[]], submissions: [],
      comments: [], history: [], delegations: [], version: 4,
    } as unknown as TaskDetail;
    render(
      <QueryClientProvider client={new QueryClient()}>
        <TaskDetailView task={task} />
      </QueryClientProvider>,
    );
    const chain = screen.getByRole("list", { name: "Approval chain" });
    const [step] = within(chain).getAllByRole("listitem");
    expect(step).toHaveTextContent("brand — 0/1 · current step");
    expect(step).toHaveClass("step-current");
  });
});
