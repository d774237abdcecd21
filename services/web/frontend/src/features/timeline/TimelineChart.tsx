import { formatDate } from "../../components/dates";
import { relativeDay, timelineSpan, type TimelineRow } from "./layout";

/** Launch-relative bars (one row a task); critical-path tasks drawn and labelled as such. */
export function TimelineChart({ rows }: { rows: TimelineRow[] }) {
  if (!rows.length) return <p className="empty">This campaign has no task.</p>;
  const { min, max } = timelineSpan(rows);
  const width = max - min + 1;
  const left = (day: number) => `${((day - min) / width) * 100}%`;
  return (
    <div className="timeline" role="table" aria-label="Tasks relative to the launch day">
      <div role="rowgroup">
        <div role="row" className="timeline-row timeline-head">
          <span role="columnheader">Task</span>
          <span role="columnheader" className="timeline-track">
            <span className="sr-only">Days from launch</span>
            <span className="timeline-launch" style={{ left: left(0) }} aria-hidden="true">
              launch
            </span>
          </span>
        </div>
      </div>
      <div role="rowgroup">
        {rows.map((row) => (
          <div role="row" key={row.task.task_id} className={row.critical ? "timeline-row critical" : "timeline-row"}>
            <span role="rowheader" className="timeline-label">
              {row.task.title}
              {row.critical ? <span className="badge critical-badge">critical</span> : null}
              {row.dependsOn.length ? <span className="muted"> after {row.dependsOn.join(", ")}</span> : null}
            </span>
            <span role="cell" className="timeline-track">
              <span className="timeline-launch-line" style={{ left: left(0) }} aria-hidden="true" />
              <span
                className="timeline-bar"
                style={{ left: left(row.from), width: `${((row.to - row.from + 1) / width) * 100}%` }}
                title={`${formatDate(row.task.start_date)} – ${formatDate(row.task.due_date)}`}
              />
              <span className="sr-only">
                {relativeDay(row.from)} to {relativeDay(row.to)}, due {formatDate(row.task.due_date)}, {row.task.status}
                {row.critical ? ", on the critical path" : ""}
              </span>
            </span>
          </div>
        ))}
      </div>
    </div>
  );
}
