import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ifMatch, nextCursor, notification, unwrap } from "../api/client";
import type { NotificationItem } from "../api/types";

export const NOTIFICATIONS_KEY = ["notification", "notifications"] as const;
export const UNREAD_COUNT_KEY = [...NOTIFICATIONS_KEY, "unread-count"] as const;
const PAGES_KEY = [...NOTIFICATIONS_KEY, "pages"] as const;

/** Items per page of the notifications page. */
export const PAGE_SIZE = 25;

export function useNotifications() {
  return useQuery({
    queryKey: NOTIFICATIONS_KEY,
    queryFn: () => unwrap(notification.GET("/notifications", { params: { query: { limit: 100 } } })),
    refetchInterval: 30_000,
  });
}

export interface NotificationPage {
  items: NotificationItem[];
  next: string | null;
}

/** The caller's notifications, newest first, a page at a time (cursor from Link / X-Next-Cursor). */
export function useNotificationPages() {
  return useInfiniteQuery({
    queryKey: PAGES_KEY,
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }): Promise<NotificationPage> => {
      const pending = notification.GET("/notifications", {
        params: { query: { limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
      });
      const items = await unwrap(pending);
      return { items, next: nextCursor((await pending).response) };
    },
    getNextPageParam: (last) => last.next ?? undefined,
  });
}

export function countUnread(items: readonly NotificationItem[]): number {
  return items.filter((item) => !item.read).length;
}

/** The header's count: notification's unread counter. */
export function useUnreadCount() {
  const counter = useQuery({
    queryKey: UNREAD_COUNT_KEY,
    queryFn: () => unwrap(notification.GET("/notifications/unread-count")),
    refetchInterval: 30_000,
  });
  return counter.data?.unread;
}

/** Refreshes every notification query (lists, pages and the unread count). */
function useInvalidateNotifications() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: NOTIFICATIONS_KEY });
}

export function useMarkRead() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: (item: NotificationItem) =>
      unwrap(
        notification.POST("/notifications/{notification_id}/read", {
          params: { path: { notification_id: item.id }, header: ifMatch(item.version) },
        }),
      ),
    onSettled: invalidate,
  });
}

export function useMarkAllRead() {
  const invalidate = useInvalidateNotifications();
  return useMutation({
    mutationFn: () => unwrap(notification.POST("/notifications/read-all")),
    onSettled: invalidate,
  });
}

/** The in-app route of a web-app link (this origin's /tasks/…, /campaigns/…, /preferences), else null. */
export function inAppPath(link: string | null | undefined, origin = window.location.origin): string | null {
  if (!link) return null;
  let url: URL;
  try {
    url = new URL(link, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin) return null;
  if (!/^\/(tasks|campaigns)\/[^/]+|^\/preferences\/?$/.test(url.pathname)) return null;
  return url.pathname + url.search + url.hash;
}

/** Where a notification leads: its link in the app, else its link elsewhere, else its subject. */
export function notificationTarget(item: NotificationItem, origin = window.location.origin):
  { to: string } | { href: string } | null {
  const path = inAppPath(item.link, origin);
  if (path) return { to: path };
  if (item.link && /^https?:\/\//i.test(item.link)) return { href: item.link };
  if (item.kind.startsWith("campaign.") && item.campaign_id) return { to: `/campaigns/${item.campaign_id}` };
  if (/^(task|approval|comment)\./.test(item.kind)) return { to: `/tasks/${item.subject_id}` };
  return null;
}
