import { screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const fetchMock = vi.hoisted(() => {
  const mock = vi.fn();
  globalThis.fetch = mock;
  return mock;
});

import { calls, json, renderRoutes } from "../../test/api";
import PreferencesPage from "./Preferences";

describe("PreferencesPage", () => {
  beforeEach(() => {
    fetchMock.mockReset();
  });

  it("asks only for the member's own preferences and webhooks", async () => {
    fetchMock.mockImplementation(async (request: Request) =>
      request.url.endsWith("/preferences")
        ? json({ member_id: "m-ann", time_zone: "Europe/Helsinki", channels: {}, quiet_hours: ["22:00", "07:00"], digest: true, version: 2 })
        : json([{ id: "w1", owner: "member:m-ann", url: "https://hooks.example/in", kinds: ["task.late"], active: true }]));
    renderRoutes([{ path: "/preferences", element: <PreferencesPage /> }], "/preferences");
    expect(await screen.findByLabelText("Time zone")).toHaveValue("Europe/Helsinki");
    expect(screen.getByLabelText("Quiet hours from")).toHaveValue("22:00");
    expect(screen.getByLabelText("Daily digest")).toBeChecked();
    expect(await screen.findByText("https://hooks.example/in")).toBeInTheDocument();
    expect(calls(fetchMock).sort()).toEqual([
      "GET /api/notification/members/m-ann/webhooks",
      "GET /api/notification/notifications/preferences",
    ]);
  });

  it("shows the server's problem when the preferences cannot be read", async () => {
    fetchMock.mockImplementation(async (request: Request) =>
      request.url.endsWith("/preferences")
        ? json({ title: "Forbidden", status: 403, detail: "not yours" }, 403)
        : json([]));
    renderRoutes([{ path: "/preferences", element: <PreferencesPage /> }], "/preferences");
    expect(await screen.findByRole("alert")).toHaveTextContent("not yours");
    expect(await screen.findByText("No webhook.")).toBeInTheDocument();
  });
});
