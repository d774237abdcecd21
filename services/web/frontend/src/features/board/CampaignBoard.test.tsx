import { screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const fetchMock = vi.hoisted(() => {
  const mock = vi.fn();
  globalThis.fetch = mock;
  return mock;
});

import { calls, json, renderRoutes } from "../../test/api";
import CampaignBoard from "./CampaignBoard";
import { COLUMNS } from "./moves";

const TASK = {
  id: "t1", campaign_id: "c1", key: "post", title: "Write the launch post", role: "writer", queue: "writer",
  due_date: "2030-01-10", start_date: "2030-01-08", status: "ready", sla: "on_time", assignee_id: "ben",
  revision_round: 0, blocked_reason: null, version: 1,
};
const BOARD = {
  campaign_id: "c1",
  columns: Object.fromEntries(COLUMNS.map((state) => [state, state === "ready" ? [TASK] : []])),
  counts: Object.fromEntries(COLUMNS.map((state) => [state, state === "ready" ? 1 : 0])),
};
const routes = [{ path: "/campaigns/:campaignId/board", element: <CampaignBoard /> }];

/** Answers by path; execution lists no task of the campaign for the first `empty` asks. */
function answer(empty: number) {
  let asked = 0;
  fetchMock.mockImplementation(async (input: Request) => {
    const url = new URL(input.url);
    if (url.pathname === "/api/execution/tasks") return json(asked++ < empty ? [] : [TASK]);
    if (url.pathname === "/api/execution/campaigns/c1/board") return json(BOARD);
    if (url.pathname === "/api/planning/campaigns/c1") return json({ id: "c1", name: "Launch post", launch_date: "2030-01-10", status: "active" });
    return json({ title: "Not found", status: 404 }, 404);
  });
}

describe("a board just planned", () => {
  beforeEach(() => {
    fetchMock.mockReset();
  });

  it("says the campaign is being set up until execution has its tasks, and asks for the board only then", async () => {
    answer(1);
    renderRoutes(routes, { pathname: "/campaigns/c1/board", state: { planned: true } });
    expect(await screen.findByRole("status")).toHaveTextContent("Setting up the campaign…");
    expect(await screen.findByRole("link", { name: "Write the launch post" }, { timeout: 3_000 })).toBeInTheDocument();
    const asked = calls(fetchMock);
    expect(asked.filter((call) => call.startsWith("GET /api/execution/tasks?campaign_id=c1"))).toHaveLength(2);
    expect(asked.filter((call) => call === "GET /api/execution/campaigns/c1/board")).toHaveLength(1);
    expect(asked.indexOf("GET /api/execution/campaigns/c1/board")).toBeGreaterThan(
      asked.lastIndexOf("GET /api/execution/tasks?campaign_id=c1&limit=1"),
    );
  });

  it("reached by a link, asks for the board at once (no polling)", async () => {
    answer(0);
    renderRoutes(routes, "/campaigns/c1/board");
    await waitFor(() => expect(screen.getByRole("link", { name: "Write the launch post" })).toBeInTheDocument());
    expect(calls(fetchMock).some((call) => call.startsWith("GET /api/execution/tasks"))).toBe(false);
  });
});
