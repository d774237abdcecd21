import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useSearchParams } from "react-router";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { reporting, unwrap } from "../../api/client";
import type {
  ApprovalsReport,
  CampaignProgress,
  FlowReport,
  GoalsReport,
  OnTimeReport,
  WorkloadReport,
} from "../../api/types";
import { formatDate } from "../../components/dates";
import { QueryState } from "../../components/Loading";

const REPORTS = [
  ["progress", "Progress"],
  ["on-time", "On time"],
  ["flow", "Flow"],
  ["approvals", "Approvals"],
  ["workload", "Workload"],
  ["goals", "Goals"],
] as const;
type ReportName = (typeof REPORTS)[number][0];

export interface ReportQuery {
  from?: string;
  to?: string;
  as_of?: string;
}

/** A local date-time input ("2025-03-01T12:00") as ISO 8601 with the reader's offset. */
export function asOfParam(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  if (Number.isNaN(date.getTime())) return undefined;
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  return `${local.length === 16 ? `${local}:00` : local}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

function fetchReport(name: ReportName, query: ReportQuery): Promise<unknown> {
  const params = { params: { query } };
  switch (name) {
    case "progress":
      return unwrap(reporting.GET("/reports/progress", params));
    case "on-time":
      return unwrap(reporting.GET("/reports/on-time", { params: { query: { ...query, limit: 100 } } }));
    case "flow":
      return unwrap(reporting.GET("/reports/flow", params));
    case "approvals":
      return unwrap(reporting.GET("/reports/approvals", params));
    case "workload":
      return unwrap(reporting.GET("/reports/workload", params));
    case "goals":
      return unwrap(reporting.GET("/reports/goals", params));
  }
}

export default function Reports() {
  const [params, setParams] = useSearchParams();
  const raw = params.get("report");
  const name: ReportName = REPORTS.some(([key]) => key === raw) ? (raw as ReportName) : "progress";
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const asOf = params.get("as_of") ?? "";
  const query: ReportQuery = {
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(asOfParam(asOf) ? { as_of: asOfParam(asOf) } : {}),
  };
  const update = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const report = useQuery<unknown>({ queryKey: ["reporting", name, query], queryFn: () => fetchReport(name, query) });

  return (
    <div className="reports">
      <h1>Reports</h1>
      <nav aria-label="Reports" className="tabs">
        {REPORTS.map(([key, label]) => (
          <button
            key={key}
            type="button"
            aria-current={key === name ? "page" : undefined}
            onClick={() => update("report", key)}
          >
            {label}
          </button>
        ))}
      </nav>
      <form className="filters" aria-label="Report period" onSubmit={(event) => event.preventDefault()}>
        <label>
          From
          <input type="date" value={from} onChange={(event) => update("from", event.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(event) => update("to", event.target.value)} />
        </label>
        <label>
          As of
          <input type="datetime-local" value={asOf} onChange={(event) => update("as_of", event.target.value)} />
        </label>
        {from || to || asOf ? (
          <button type="button" onClick={() => setParams(new URLSearchParams({ report: name }), { replace: true })}>
            Now, all time
          </button>
        ) : null}
      </form>
      <QueryState what={`the ${name} report`} isPending={report.isPending} error={report.error}>
        {report.data ? <ReportBody name={name} data={report.data} /> : null}
      </QueryState>
    </div>
  );
}

function ReportBody({ name, data }: { name: ReportName; data: unknown }) {
  switch (name) {
    case "progress":
      return <ProgressReport rows={data as CampaignProgress[]} />;
    case "on-time":
      return <OnTime report={data as OnTimeReport} />;
    case "flow":
      return <Flow report={data as FlowReport} />;
    case "approvals":
      return <Approvals report={data as ApprovalsReport} />;
    case "workload":
      return <Workload report={data as WorkloadReport} />;
    case "goals":
      return <Goals report={data as GoalsReport} />;
  }
}

function Chart({ title, children }: { title: string; children: ReactNode }) {
  return (
    <figure className="chart card">
      <figcaption>{title}</figcaption>
      <div style={{ width: "100%", height: 260 }}>
        <ResponsiveContainer>{children as React.ReactElement}</ResponsiveContainer>
      </div>
    </figure>
  );
}

const pct = (value: number | null | undefined) => (value === null || value === undefined ? "—" : `${Math.round(value * 10) / 10}%`);
const num = (value: number | null | undefined) => (value === null || value === undefined ? "—" : String(Math.round(value * 10) / 10));

export function ProgressReport({ rows }: { rows: CampaignProgress[] }) {
  if (!rows.length) return <p className="empty">No campaign in this period.</p>;
  return (
    <>
      <Chart title="Percent done by campaign">
        <BarChart data={rows} layout="vertical" margin={{ left: 120 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" domain={[0, 100]} unit="%" />
          <YAxis type="category" dataKey="name" width={120} />
          <Tooltip />
          <Bar dataKey="percent_done" name="Done (%)" fill="#2563eb" />
        </BarChart>
      </Chart>
      <table>
        <caption>Campaign progress</caption>
        <thead>
          <tr>
            <th scope="col">Campaign</th>
            <th scope="col">Status</th>
            <th scope="col">Launch</th>
            <th scope="col">Days to launch</th>
            <th scope="col">Done</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.campaign_id}>
              <td>{row.name}</td>
              <td>{row.status}</td>
              <td>{formatDate(row.launch_date)}</td>
              <td>{row.days_to_launch ?? "—"}</td>
              <td>
                {row.tasks_done}/{row.tasks_total} ({pct(row.percent_done)})
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function OnTime({ report }: { report: OnTimeReport }) {
  const byTeam = report.by_team.map((group) => ({ ...group, id: group.id ?? "no team" }));
  return (
    <>
      <dl className="figures">
        <div><dt>Tasks done</dt><dd>{report.overall.tasks_done}</dd></div>
        <div><dt>On time</dt><dd>{report.overall.done_on_time}</dd></div>
        <div><dt>Share on time</dt><dd>{pct(report.overall.share_on_time)}</dd></div>
        <div><dt>Median working days late</dt><dd>{num(report.overall.working_days_late_median)}</dd></div>
      </dl>
      <Chart title="Share on time by team">
        <BarChart data={byTeam}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="id" />
          <YAxis domain={[0, 100]} unit="%" />
          <Tooltip />
          <Bar dataKey="share_on_time" name="On time (%)" fill="#15803d" />
        </BarChart>
      </Chart>
      <h2>Needs attention</h2>
      {report.attention.length === 0 ? <p className="empty">Nothing overdue or at risk.</p> : (
        <table>
          <thead><tr><th scope="col">Task</th><th scope="col">Kind</th><th scope="col">Due</th><th scope="col">Assignee</th></tr></thead>
          <tbody>
            {report.attention.map((item) => (
              <tr key={item.task_id}>
                <td>{item.title ?? item.key ?? item.task_id}</td>
                <td>{item.kind.replace(/_/g, " ")}</td>
                <td>{formatDate(item.due_date)}</td>
                <td>{item.assignee_id ?? `queue ${item.queue ?? "—"}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Flow({ report }: { report: FlowReport }) {
  const states = Object.entries(report.hours_in_state).map(([state, hours]) => ({ state: state.replace(/_/g, " "), hours }));
  return (
    <>
      <dl className="figures">
        <div><dt>Tasks done</dt><dd>{report.tasks_done}</dd></div>
        <div><dt>Cycle time median (h)</dt><dd>{num(report.cycle_time_hours.median)}</dd></div>
        <div><dt>Lead time median (h)</dt><dd>{num(report.lead_time_hours.median)}</dd></div>
        <div><dt>Lead time p90 (h)</dt><dd>{num(report.lead_time_hours.p90)}</dd></div>
      </dl>
      <Chart title="Throughput: tasks done per week">
        <BarChart data={report.throughput}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="week" />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Bar dataKey="tasks_done" name="Tasks done" fill="#2563eb" />
        </BarChart>
      </Chart>
      <Chart title="Hours in each wait">
        <BarChart data={states}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="state" />
          <YAxis />
          <Tooltip />
          <Bar dataKey="hours" name="Hours" fill="#9333ea" />
        </BarChart>
      </Chart>
    </>
  );
}

function Approvals({ report }: { report: ApprovalsReport }) {
  return (
    <>
      <dl className="figures">
        <div><dt>Tasks approved</dt><dd>{report.first_time_approval.tasks_approved}</dd></div>
        <div><dt>First-time approval</dt><dd>{pct(report.first_time_approval.share_percent)}</dd></div>
        <div><dt>Mean revision rounds</dt><dd>{num(report.revision_rounds.mean)}</dd></div>
        <div><dt>Delegations</dt><dd>{report.delegations.count}</dd></div>
      </dl>
      <Chart title="Turnaround by approver (hours)">
        <BarChart data={report.turnaround_by_approver}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="approver" />
          <YAxis />
          <Tooltip />
          <Legend />
          <Bar dataKey="median_hours" name="Median" fill="#2563eb" />
          <Bar dataKey="p90_hours" name="p90" fill="#f59e0b" />
        </BarChart>
      </Chart>
      <Chart title="Revision rounds per task">
        <BarChart data={report.revision_rounds.distribution}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="rounds" />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Bar dataKey="tasks" name="Tasks" fill="#9333ea" />
        </BarChart>
      </Chart>
    </>
  );
}

function Workload({ report }: { report: WorkloadReport }) {
  const rows = report.members.map((member) => ({
    name: member.name ?? member.member_id,
    capacity: member.weekly_capacity_hours,
    ...Object.fromEntries(member.weeks.map((week, index) => [`w${index}`, week.effort_hours])),
  }));
  const weeks = report.members[0]?.weeks ?? [];
  const colors = ["#2563eb", "#0891b2", "#9333ea", "#f59e0b"];
  return (
    <>
      <p className="muted">Planned effort due per ISO week from {formatDate(report.day)} against weekly capacity.</p>
      <Chart title="Effort due per week (hours)">
        <BarChart data={rows}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="name" />
          <YAxis />
          <Tooltip />
          <Legend />
          {weeks.map((week, index) => (
            <Bar key={week.week} dataKey={`w${index}`} name={week.week} fill={colors[index % colors.length]} />
          ))}
          <Bar dataKey="capacity" name="Weekly capacity" fill="#9ca3af" />
        </BarChart>
      </Chart>
      <table>
        <caption>Members</caption>
        <thead><tr><th scope="col">Member</th><th scope="col">Open</th><th scope="col">Overdue</th><th scope="col">Over capacity</th></tr></thead>
        <tbody>
          {report.members.map((member) => (
            <tr key={member.member_id}>
              <td>{member.name ?? member.member_id}</td>
              <td>{member.open_tasks}</td>
              <td>{member.overdue_tasks}</td>
              <td>{member.over_capacity_now ? "now" : member.over_capacity_next_four_weeks ? "within 4 weeks" : "no"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Queue depth</h2>
      <ul className="list">
        {report.queues.map((queue) => <li key={queue.queue}>{queue.queue}: {queue.open_unassigned} waiting</li>)}
      </ul>
    </>
  );
}

function Goals({ report }: { report: GoalsReport }) {
  return (
    <>
      <dl className="figures">
        <div><dt>Weighted attainment</dt><dd>{pct(report.weighted_attainment_percent)}</dd></div>
        <div><dt>Goals not measured</dt><dd>{report.goals_unmeasured}</dd></div>
      </dl>
      <Chart title="Attainment by goal">
        <BarChart data={report.goals}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="name" />
          <YAxis unit="%" />
          <Tooltip />
          <Bar dataKey="attainment_percent" name="Attainment (%)" fill="#15803d" />
        </BarChart>
      </Chart>
    </>
  );
}
