import type { ActivityEntry, ArchivedEvent } from "../../api/types";
import { formatDateTime } from "../../components/dates";

/** "task.submitted" → "task submitted". */
export function eventLabel(type: string): string {
  return type.replace(/^marketflow\./, "").replace(/\.v\d+$/, "").replace(/[._]/g, " ");
}

/** Events oldest first: when, what, who did it and why. */
export function AuditTimeline({ events }: { events: (ArchivedEvent | ActivityEntry)[] }) {
  if (!events.length) return <p className="empty">Nothing has happened yet.</p>;
  return (
    <ol className="audit-timeline">
      {events.map((event) => (
        <li key={event.id}>
          <time dateTime={event.time}>{formatDateTime(event.time)}</time>
          <div>
            <strong>{eventLabel(event.type)}</strong>{" "}
            <span className="muted">by</span> <span className="actor">{event.actor}</span>
            {"role" in event && event.role === "on_behalf" ? <span className="muted"> (for this member)</span> : null}
            {event.reason ? <div className="reason">Reason: {event.reason}</div> : null}
            <div className="muted">
              {event.source} · {event.subject}
            </div>
          </div>
        </li>
      ))}
    </ol>
  );
}
