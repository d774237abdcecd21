import { Link } from "react-router";
import type { NotificationItem } from "../../api/types";
import { formatDateTime } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { notificationTarget, useMarkAllRead, useMarkRead, useNotificationPages, useUnreadCount } from "../notifications";

/** The signed-in member's notifications, newest first, a page at a time. */
export default function NotificationsPage() {
  const pages = useNotificationPages();
  const unread = useUnreadCount();
  const markRead = useMarkRead();
  const markAll = useMarkAllRead();
  const items = pages.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section aria-labelledby="notifications-page-heading" className="notifications-page">
      <div className="row page-head">
        <h1 id="notifications-page-heading">Notifications</h1>
        <button
          type="button"
          onClick={() => markAll.mutate()}
          disabled={markAll.isPending || unread === 0}
        >
          Mark all read
        </button>
      </div>
      <p className="muted" role="status" aria-live="polite">
        {unread === undefined ? null : `${unread} unread`}
        {markAll.data ? ` · marked ${markAll.data.marked} read` : null}
      </p>
      {markAll.error ? <ProblemAlert error={markAll.error} onDismiss={() => markAll.reset()} /> : null}
      {markRead.error ? <ProblemAlert error={markRead.error} onDismiss={() => markRead.reset()} /> : null}
      <QueryState what="your notifications" isPending={pages.isPending} error={pages.error}>
        <NotificationList
          items={items}
          onMarkRead={(item) => markRead.mutate(item)}
          marking={markRead.isPending ? markRead.variables?.id : undefined}
        />
        {pages.isFetchNextPageError ? <ProblemAlert error={pages.error} /> : null}
        {pages.hasNextPage ? (
          <button type="button" onClick={() => pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
            {pages.isFetchingNextPage ? "Loading more…" : "Load more"}
          </button>
        ) : null}
      </QueryState>
    </section>
  );
}

/** The list: unread ones marked (bold and "Unread" for screen readers), each with its link and "Mark read". */
export function NotificationList({
  items,
  onMarkRead,
  marking,
}: {
  items: readonly NotificationItem[];
  onMarkRead: (item: NotificationItem) => void;
  marking?: string | undefined;
}) {
  if (items.length === 0) return <p className="empty">No notification.</p>;
  return (
    <ul className="list notification-list">
      {items.map((item) => {
        const target = notificationTarget(item);
        const title = item.title || item.kind;
        return (
          <li key={item.id} className={item.read ? "read" : "unread"}>
            <h2 className="notification-title">
              {item.read ? null : (
                <span className="badge unread-badge">
                  Unread<span className="sr-only">:</span>
                </span>
              )}{" "}
              {title}
            </h2>
            <p className="notification-text">{item.text}</p>
            <div className="row">
              <time className="muted" dateTime={item.created_at}>
                {formatDateTime(item.created_at)}
              </time>
              {target && "to" in target ? (
                <Link to={target.to} aria-label={`Open ${title}`}>
                  Open
                </Link>
              ) : null}
              {target && "href" in target ? (
                <a href={target.href} aria-label={`Open ${title}`} rel="noopener noreferrer">
                  Open
                </a>
              ) : null}
              {item.read ? null : (
                <button
                  type="button"
                  onClick={() => onMarkRead(item)}
                  disabled={marking === item.id}
                  aria-label={`Mark read: ${title}`}
                >
                  Mark read
                </button>
              )}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
