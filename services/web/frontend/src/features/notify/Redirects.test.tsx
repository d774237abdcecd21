import { screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const fetchMock = vi.hoisted(() => {
  const mock = vi.fn();
  globalThis.fetch = mock;
  return mock;
});

import { calls, json, renderRoutes } from "../../test/api";
import { CampaignRedirect, TaskRedirect } from "./Redirects";

const routes = [
  { path: "/tasks/:taskId", element: <TaskRedirect /> },
  { path: "/campaigns/:campaignId", element: <CampaignRedirect /> },
];

describe("links from e-mails and webhooks", () => {
  beforeEach(() => {
    fetchMock.mockReset();
  });

  it("takes /tasks/:id to the task's card on its campaign's board, replacing the entry", async () => {
    fetchMock.mockResolvedValue(json({ id: "t1", campaign_id: "c1", version: 3 }));
    renderRoutes(routes, "/tasks/t1");
    expect(screen.getByRole("status")).toHaveTextContent("Loading the task");
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/campaigns/c1/board/tasks/t1"));
    expect(calls(fetchMock)).toEqual(["GET /api/execution/tasks/t1"]);
  });

  it("shows the server's problem when the task is not there or not the member's to see", async () => {
    fetchMock.mockResolvedValue(json({ title: "Not found", status: 404, detail: "no task t9" }, 404));
    renderRoutes(routes, "/tasks/t9");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Not found");
    expect(alert).toHaveTextContent("(404)");
    expect(alert).toHaveTextContent("no task t9");
    expect(screen.getByTestId("location")).toHaveTextContent("/tasks/t9");
  });

  it("shows a 403 as the server words it", async () => {
    fetchMock.mockResolvedValue(json({ title: "Forbidden", status: 403, detail: "not your team's task" }, 403));
    renderRoutes(routes, "/tasks/t2");
    expect(await screen.findByRole("alert")).toHaveTextContent("not your team's task");
  });

  it("takes /campaigns/:id to the campaign's board without a request", async () => {
    renderRoutes(routes, "/campaigns/c7");
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/campaigns/c7/board"));
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
