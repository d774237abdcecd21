import { screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const fetchMock = vi.hoisted(() => {
  const mock = vi.fn();
  globalThis.fetch = mock;
  return mock;
});

import { calls, json, renderRoutes } from "../../test/api";
import { MyApprovals } from "./MyWork";

function item(step: number, steps: number) {
  return {
    id: "t1", campaign_id: "c1", key: "post", title: "Write the launch post", role: "writer", queue: "writer",
    due_date: "2030-01-10", start_date: "2030-01-08", status: "submitted", sla: "on_time", assignee_id: "ben",
    revision_round: 0, blocked_reason: null, version: 4, step, steps, step_approver: null,
    required_approvals: 1, approvals: [], escalated_to: null,
    submission: { version: 1, reference: "https://docs/post-1", submitted_by: "ben", note: null },
    consulted_missing: [],
  };
}

describe("My work: approvals waiting for me", () => {
  beforeEach(() => {
    fetchMock.mockReset();
  });

  it("counts the API's step from 1, as it does (a one-step chain is step 1 of 1)", async () => {
    fetchMock.mockResolvedValue(json([item(1, 1)]));
    renderRoutes([{ path: "/", element: <MyApprovals /> }], "/");
    const region = await screen.findByRole("region", { name: "Approvals waiting for me" });
    expect(await screen.findByRole("link", { name: "Write the launch post" })).toBeInTheDocument();
    expect(region).toHaveTextContent("Step 1 of 1 (0/1 approvals)");
    expect(region).not.toHaveTextContent("Step 2 of 1");
    expect(calls(fetchMock)).toEqual(["GET /api/execution/approvals?approver=me&limit=500"]);
  });

  it("shows the second step of two as step 2 of 2", async () => {
    fetchMock.mockResolvedValue(json([item(2, 2)]));
    renderRoutes([{ path: "/", element: <MyApprovals /> }], "/");
    expect(await screen.findByText(/Step 2 of 2/)).toBeInTheDocument();
  });
});
