import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

const fetchMock = vi.hoisted(() => {
  const mock = vi.fn();
  globalThis.fetch = mock;
  return mock;
});

import type { NotificationItem } from "../../api/types";
import { calls, json, renderRoutes } from "../../test/api";
import { inAppPath, notificationTarget } from "../notifications";
import NotificationsPage from "./NotificationsPage";

const origin = window.location.origin;
const item = (id: string, overrides: Partial<NotificationItem> = {}): NotificationItem => ({
  id, recipient_id: "m-ann", kind: "task.assigned", subject_id: `t-${id}`, campaign_id: "c1",
  title: `Write copy ${id} · Spring launch`, text: `You were assigned ${id}`, read: false,
  created_at: "2030-03-01T09:00:00Z", caused_by: null, version: 2, link: `${origin}/tasks/t-${id}`,
  ...overrides,
});

function serve(pages: Record<string, Response>, unread = 1) {
  fetchMock.mockImplementation(async (request: Request) => {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/unread-count")) return json({ unread });
    if (request.method === "POST" && url.pathname.endsWith("/read-all")) return json({ marked: unread });
    if (request.method === "POST") return json(item("n1", { read: true, version: 3 }));
    return pages[url.searchParams.get("cursor") ?? ""]!.clone();
  });
}

const render = () => renderRoutes([{ path: "/notifications", element: <NotificationsPage /> }], "/notifications");

describe("notification links", () => {
  it("maps this origin's /tasks, /campaigns and /preferences links to in-app routes", () => {
    expect(inAppPath(`${origin}/tasks/t1`, origin)).toBe("/tasks/t1");
    expect(inAppPath(`${origin}/campaigns/c1?x=1`, origin)).toBe("/campaigns/c1?x=1");
    expect(inAppPath("/preferences", origin)).toBe("/preferences");
    expect(inAppPath("https://elsewhere.example/tasks/t1", origin)).toBeNull();
    expect(inAppPath(`${origin}/reports`, origin)).toBeNull();
    expect(inAppPath(null, origin)).toBeNull();
  });

  it("keeps other links as they are and falls back to the subject without one", () => {
    expect(notificationTarget(item("a", { link: "https://elsewhere.example/tasks/t1" }), origin))
      .toEqual({ href: "https://elsewhere.example/tasks/t1" });
    expect(notificationTarget(item("b", { link: null }), origin)).toEqual({ to: "/tasks/t-b" });
    expect(notificationTarget(item("c", { link: null, kind: "campaign.dates_moved" }), origin)).toEqual({ to: "/campaigns/c1" });
  });
});

describe("NotificationsPage", () => {
  beforeEach(() => {
    fetchMock.mockReset();
  });

  it("lists notifications with unread ones marked, links in the app, and loads more by cursor", async () => {
    serve({
      "": json([item("n1"), item("n2", { read: true })], 200, { Link: '</notifications?cursor=abc&limit=25>; rel="next"' }),
      abc: json([item("n3", { read: true, link: null, kind: "campaign.dates_moved", title: "Dates moved" })]),
    });
    render();
    expect(screen.getByText("Loading your notifications…")).toHaveAttribute("role", "status");
    const list = await screen.findByRole("list");
    const [first, second] = within(list).getAllByRole("listitem");
    expect(first).toHaveTextContent("Unread");
    expect(first).toHaveTextContent("You were assigned n1");
    expect(within(first!).getByRole("link", { name: "Open Write copy n1 · Spring launch" })).toHaveAttribute("href", "/tasks/t-n1");
    expect(second).not.toHaveTextContent("Unread");
    expect(within(second!).queryByRole("button", { name: /Mark read/ })).toBeNull();

    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByText("Dates moved")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open Dates moved" })).toHaveAttribute("href", "/campaigns/c1");
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
    expect(calls(fetchMock)).toContain("GET /api/notification/notifications?limit=25&cursor=abc");
  });

  it("marks one read with If-Match from its version and refreshes the unread count", async () => {
    serve({ "": json([item("n1")]) });
    render();
    await userEvent.click(await screen.findByRole("button", { name: "Mark read: Write copy n1 · Spring launch" }));
    await waitFor(() => expect(calls(fetchMock).filter((c) => c.endsWith("/unread-count"))).toHaveLength(2));
    const post = fetchMock.mock.calls.map(([r]) => r as Request).find((r) => r.method === "POST")!;
    expect(new URL(post.url).pathname).toBe("/api/notification/notifications/n1/read");
    expect(post.headers.get("If-Match")).toBe('"2"');
    expect(post.headers.get("X-Requested-With")).toBe("marketflow");
  });

  it("marks all read and says how many", async () => {
    serve({ "": json([item("n1")]) }, 1);
    render();
    await userEvent.click(await screen.findByRole("button", { name: "Mark all read" }));
    expect(await screen.findByText(/marked 1 read/)).toBeInTheDocument();
    expect(calls(fetchMock)).toContain("POST /api/notification/notifications/read-all");
  });

  it("shows the server's problem when the list fails", async () => {
    fetchMock.mockImplementation(async (request: Request) =>
      request.url.endsWith("/unread-count")
        ? json({ unread: 0 })
        : json({ title: "Service Unavailable", status: 503, detail: "catching up" }, 503));
    render();
    expect(await screen.findByRole("alert")).toHaveTextContent("catching up");
  });
});
