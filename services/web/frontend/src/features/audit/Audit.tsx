import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { nextCursor, reporting, unwrap } from "../../api/client";
import type { ArchivedEvent, CampaignState } from "../../api/types";
import { formatDate, formatDateTime } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { stateLabel } from "../../components/StateLabel";
import { canAuditMember, canExport } from "../auth/roles";
import { useSignedInMember } from "../auth/session";
import { campaignLinks } from "../campaigns/queries";
import { AuditTimeline } from "./AuditTimeline";

type Kind = "tasks" | "campaigns" | "members";
const TITLES: Record<Kind, string> = { tasks: "Task", campaigns: "Campaign", members: "Member" };

interface Page<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Every page of a history ({events}, paged by cursor), oldest first. */
async function allEvents<E, T extends { events: E[] }>(page: (cursor?: string) => Promise<Page<T>>): Promise<E[]> {
  const events: E[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 20; n += 1) {
    const result = await page(cursor);
    const data = await unwrap(Promise.resolve(result));
    events.push(...data.events);
    const next = nextCursor(result.response);
    if (!next) break;
    cursor = next;
  }
  return events;
}

async function allActivity(memberId: string) {
  const entries = [];
  let cursor: string | undefined;
  for (let n = 0; n < 20; n += 1) {
    const result = await reporting.GET("/audit/members/{member_id}/activity", {
      params: { path: { member_id: memberId }, query: { include: "all", limit: 500, ...(cursor ? { cursor } : {}) } },
    });
    entries.push(...(await unwrap(Promise.resolve(result))));
    const next = nextCursor(result.response);
    if (!next) break;
    cursor = next;
  }
  return entries;
}

export default function Audit() {
  const { kind: rawKind = "", subjectId = "" } = useParams();
  const me = useSignedInMember();
  if (!(rawKind in TITLES)) {
    return (
      <section>
        <h1>Audit</h1>
        <p>Audit trails exist for tasks, campaigns and members.</p>
      </section>
    );
  }
  const kind = rawKind as Kind;
  const allowed = kind !== "members" || canAuditMember(me, subjectId);
  return (
    <div className="audit">
      <h1>
        {TITLES[kind]} audit trail <span className="muted">{subjectId}</span>
      </h1>
      {canExport(me) ? <ExportLinks subject={subjectId} /> : null}
      {!allowed ? (
        <p role="note" className="card">
          Only admins, auditors, the member themselves and their managers may read a member’s activity. Open{" "}
          <Link to={`/audit/members/${me.member_id}`}>your own activity</Link>.
        </p>
      ) : kind === "campaigns" ? (
        <CampaignAudit campaignId={subjectId} />
      ) : kind === "tasks" ? (
        <TaskAudit taskId={subjectId} />
      ) : (
        <MemberAudit memberId={subjectId} />
      )}
    </div>
  );
}

function ExportLinks({ subject }: { subject: string }) {
  const href = (format: string) => `/api/reporting/archive/export?format=${format}&subject=${encodeURIComponent(subject)}`;
  return (
    <nav aria-label="Export the audit trail" className="row export">
      <span className="muted">Export:</span>
      <a className="button" href={href("jsonl")} download={`audit-${subject}.jsonl`}>
        JSON Lines
      </a>
      <a className="button" href={href("csv")} download={`audit-${subject}.csv`}>
        CSV
      </a>
      <a className="button" href={href("ocel")} download={`audit-${subject}.ocel.json`}>
        OCEL 2.0
      </a>
    </nav>
  );
}

function TaskAudit({ taskId }: { taskId: string }) {
  const history = useQuery({
    queryKey: ["reporting", "task-history", taskId],
    queryFn: () =>
      allEvents<ArchivedEvent, { events: ArchivedEvent[] }>((cursor) =>
        reporting.GET("/tasks/{task_id}/history", { params: { path: { task_id: taskId }, query: { limit: 500, ...(cursor ? { cursor } : {}) } } }),
      ),
  });
  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      <QueryState what="the task's history" isPending={history.isPending} error={history.error}>
        <AuditTimeline events={history.data ?? []} />
      </QueryState>
    </section>
  );
}

function MemberAudit({ memberId }: { memberId: string }) {
  const activity = useQuery({ queryKey: ["reporting", "activity", memberId], queryFn: () => allActivity(memberId) });
  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Everything they did or had done for them</h2>
      <QueryState what="the member's activity" isPending={activity.isPending} error={activity.error}>
        <AuditTimeline events={activity.data ?? []} />
      </QueryState>
    </section>
  );
}

function CampaignAudit({ campaignId }: { campaignId: string }) {
  const history = useQuery({
    queryKey: ["reporting", "campaign-history", campaignId],
    queryFn: () =>
      allEvents<ArchivedEvent, { events: ArchivedEvent[] }>((cursor) =>
        reporting.GET("/campaigns/{campaign_id}/history", {
          params: { path: { campaign_id: campaignId }, query: { limit: 500, ...(cursor ? { cursor } : {}) } },
        }),
      ),
  });
  const links = campaignLinks(campaignId);
  return (
    <>
      <p className="row">
        <Link to={links.board}>Board</Link>
        <Link to={links.timeline}>Timeline</Link>
      </p>
      <QueryState what="the campaign's history" isPending={history.isPending} error={history.error}>
        {history.data ? (
          <div className="grid-2">
            <AsOf campaignId={campaignId} events={history.data} />
            <section aria-labelledby="timeline-heading" className="card">
              <h2 id="timeline-heading">Timeline</h2>
              <AuditTimeline events={history.data} />
            </section>
          </div>
        ) : null}
      </QueryState>
    </>
  );
}

/** A slider over the campaign's events: the campaign as it stood just after the chosen one. */
function AsOf({ campaignId, events }: { campaignId: string; events: ArchivedEvent[] }) {
  const [index, setIndex] = useState(Math.max(0, events.length - 1));
  const at = events[index]?.time;
  const state = useQuery({
    queryKey: ["reporting", "campaign-state", campaignId, at ?? "now"],
    queryFn: () =>
      unwrap(reporting.GET("/campaigns/{campaign_id}/state", { params: { path: { campaign_id: campaignId }, query: at ? { as_of: at } : {} } })),
    placeholderData: keepPreviousData,
  });
  return (
    <section aria-labelledby="asof-heading" className="card">
      <h2 id="asof-heading">The campaign as it was</h2>
      {events.length > 1 ? (
        <div className="field">
          <label htmlFor="as-of">As of</label>
          <input
            id="as-of"
            type="range"
            min={0}
            max={events.length - 1}
            value={index}
            aria-valuetext={at ? `${formatDateTime(at)}: ${events[index]?.type}` : "now"}
            onChange={(event) => setIndex(Number(event.target.value))}
            className="slider"
          />
          <output htmlFor="as-of">
            {at ? formatDateTime(at) : "now"} (event {index + 1} of {events.length})
          </output>
        </div>
      ) : null}
      <QueryState what="the campaign's state" isPending={state.isPending} error={state.error}>
        {state.data ? <CampaignStateTable state={state.data} /> : null}
      </QueryState>
    </section>
  );
}

export function CampaignStateTable({ state }: { state: CampaignState }) {
  return (
    <>
      <p>
        <strong>{state.name}</strong> · {state.status} · launch {formatDate(state.launch_date)}
      </p>
      <div className="table-scroll">
        <table>
          <caption>Tasks then</caption>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">State</th>
              <th scope="col">Assignee</th>
              <th scope="col">Due</th>
            </tr>
          </thead>
          <tbody>
            {state.tasks.map((task) => (
              <tr key={task.task_id}>
                <th scope="row">
                  <Link to={`/audit/tasks/${task.task_id}`}>{task.title ?? task.key ?? task.task_id}</Link>
                </th>
                <td>{stateLabel(task.state)}</td>
                <td>{task.assignee_id ?? (task.queue ? `queue ${task.queue}` : "—")}</td>
                <td>{formatDate(task.due_date)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
