import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ifMatch, notification, request, unwrap } from "../api/client";
import { CONTRACT_PATHS } from "../api/generated/paths";
import type { NotificationItem } from "../api/types";

export const NOTIFICATIONS_KEY = ["notification", "notifications"] as const;

/** notification's unread counter, once its contract has it (it is being added). */
export const HAS_UNREAD_COUNT = (CONTRACT_PATHS.notification as readonly string[]).includes(
  "/notifications/unread-count",
);

export function useNotifications() {
  return useQuery({
    queryKey: NOTIFICATIONS_KEY,
    queryFn: () => unwrap(notification.GET("/notifications", { params: { query: { limit: 100 } } })),
    refetchInterval: 30_000,
  });
}

export function countUnread(items: readonly NotificationItem[]): number {
  return items.filter((item) => !item.read).length;
}

/** The header's count: the counter endpoint when the contract has it, else the list's unread. */
export function useUnreadCount() {
  const list = useQuery({
    queryKey: NOTIFICATIONS_KEY,
    queryFn: () => unwrap(notification.GET("/notifications", { params: { query: { limit: 100 } } })),
    enabled: !HAS_UNREAD_COUNT,
    refetchInterval: 30_000,
  });
  const counter = useQuery({
    queryKey: [...NOTIFICATIONS_KEY, "unread-count"],
    queryFn: () => request<{ unread: number }>("/api/notification/notifications/unread-count"),
    enabled: HAS_UNREAD_COUNT,
    refetchInterval: 30_000,
  });
  if (HAS_UNREAD_COUNT) return counter.data?.unread;
  return list.data ? countUnread(list.data) : undefined;
}

export function useMarkRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (item: NotificationItem) =>
      unwrap(
        notification.POST("/notifications/{notification_id}/read", {
          params: { path: { notification_id: item.id }, header: ifMatch(item.version) },
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: NOTIFICATIONS_KEY }),
  });
}
