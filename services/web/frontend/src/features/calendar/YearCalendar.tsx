import { useMutation, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { nextCursor, planning, unwrap } from "../../api/client";
import { ApiError, toProblem } from "../../api/problem";
import type { CalendarEntry } from "../../api/types";
import { formatDate } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useSignedInMember } from "../auth/session";
import { groupByPeriod } from "./grouping";

async function calendarYear(year: number, filters: { team_id?: string; goal_id?: string; member_id?: string }) {
  const entries: CalendarEntry[] = [];
  let cursor: string | null = null;
  do {
    const result = await planning.GET("/calendar", {
      params: { query: { from: `${year}-01-01`, to: `${year}-12-31`, ...filters, limit: 500, ...(cursor ? { cursor } : {}) } },
    });
    if (!result.response.ok || !result.data) {
      throw new ApiError(toProblem(result.error, result.response.status, result.response.statusText));
    }
    entries.push(...result.data);
    cursor = nextCursor(result.response);
  } while (cursor);
  return entries;
}

export default function YearCalendar() {
  const me = useSignedInMember();
  const [params, setParams] = useSearchParams();
  const year = Number(params.get("year")) || new Date().getFullYear();
  const period = params.get("period") === "quarter" ? "quarter" : "month";
  const showTasks = params.get("tasks") === "1";
  const filters = {
    ...(params.get("team") ? { team_id: params.get("team") as string } : {}),
    ...(params.get("goal") ? { goal_id: params.get("goal") as string } : {}),
    ...(params.get("member") ? { member_id: params.get("member") as string } : {}),
  };
  const update = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const teams = useQuery({ queryKey: ["planning", "teams"], queryFn: () => unwrap(planning.GET("/teams", { params: { query: { limit: 500 } } })) });
  const goals = useQuery({ queryKey: ["planning", "goals"], queryFn: () => unwrap(planning.GET("/goals", { params: { query: { limit: 500 } } })) });
  const members = useQuery({ queryKey: ["planning", "members"], queryFn: () => unwrap(planning.GET("/members", { params: { query: { limit: 500 } } })) });
  const calendar = useQuery({
    queryKey: ["planning", "calendar", year, filters],
    queryFn: () => calendarYear(year, filters),
  });
  const entries = (calendar.data ?? []).filter((entry) => showTasks || entry.kind === "launch");
  const buckets = groupByPeriod(entries, year, period);

  const feedKind = filters.team_id ? "team" : "member";
  const feedId = filters.team_id ?? filters.member_id ?? me.member_id;
  const icsPath = `/api/planning/calendar/${feedKind === "team" ? "teams" : "members"}/${encodeURIComponent(feedId)}.ics`;
  const feed = useMutation({
    mutationFn: () =>
      unwrap(
        planning.POST("/members/{member_id}/calendar-feeds", {
          params: { path: { member_id: me.member_id } },
          body: { kind: feedKind, id: feedId },
        }),
      ),
  });

  return (
    <div className="calendar">
      <h1>Year calendar {year}</h1>
      <form className="filters" onSubmit={(event) => event.preventDefault()} aria-label="Calendar filters">
        <div className="row">
          <button type="button" onClick={() => update("year", String(year - 1))}>
            <span aria-hidden="true">‹ </span>
            <span className="sr-only">Previous year, </span>
            {year - 1}
          </button>
          <button type="button" onClick={() => update("year", String(year + 1))}>
            <span className="sr-only">Next year, </span>
            {year + 1}
            <span aria-hidden="true"> ›</span>
          </button>
        </div>
        <label>
          View by
          <select value={period} onChange={(event) => update("period", event.target.value === "month" ? null : event.target.value)}>
            <option value="month">Month</option>
            <option value="quarter">Quarter</option>
          </select>
        </label>
        <label>
          Team
          <select value={filters.team_id ?? ""} onChange={(event) => update("team", event.target.value)}>
            <option value="">All teams</option>
            {teams.data?.map((team) => <option key={team.team_id} value={team.team_id}>{team.name}</option>)}
          </select>
        </label>
        <label>
          Goal
          <select value={filters.goal_id ?? ""} onChange={(event) => update("goal", event.target.value)}>
            <option value="">All goals</option>
            {goals.data?.map((goal) => <option key={goal.id} value={goal.id}>{goal.name}</option>)}
          </select>
        </label>
        <label>
          Member
          <select value={filters.member_id ?? ""} onChange={(event) => update("member", event.target.value)}>
            <option value="">Everyone</option>
            {members.data?.map((member) => <option key={member.member_id} value={member.member_id}>{member.name}</option>)}
          </select>
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={showTasks} onChange={(event) => update("tasks", event.target.checked ? "1" : null)} />
          Show tasks
        </label>
      </form>
      {[teams.error, goals.error, members.error].filter(Boolean).map((error, index) => <ProblemAlert key={index} error={error} />)}

      <section className="card ics" aria-labelledby="ics-title">
        <h2 id="ics-title">Subscribe</h2>
        <p>
          <a href={icsPath} download>
            Download the {feedKind === "team" ? "team" : "member"} calendar (.ics)
          </a>{" "}
          ·{" "}
          <button type="button" onClick={() => feed.mutate()} disabled={feed.isPending}>
            Create a subscribe address for {feedKind} {feedId}
          </button>
        </p>
        {feed.data ? (
          <p>
            <label htmlFor="feed-url">Subscribe address (shown once; keep it secret)</label>
            <input id="feed-url" readOnly value={feed.data.url} onFocus={(event) => event.target.select()} />
          </p>
        ) : null}
        {feed.error ? <ProblemAlert error={feed.error} onDismiss={() => feed.reset()} /> : null}
      </section>

      <QueryState what="the calendar" isPending={calendar.isPending} error={calendar.error}>
        <div className={`year-grid by-${period}`}>
          {buckets.map((bucket) => (
            <section key={bucket.key} className="month card" aria-labelledby={`b-${bucket.key}`}>
              <h2 id={`b-${bucket.key}`}>
                {bucket.label} <span className="count">{bucket.entries.length}</span>
              </h2>
              <ul className="list">
                {bucket.entries.map((entry) => (
                  <li key={entry.uid} className={`entry entry-${entry.kind}`}>
                    <Link to={`/campaigns/${entry.campaign_id}/board${entry.task_id ? `/tasks/${entry.task_id}` : ""}`}>
                      {entry.kind === "launch" ? (
                        <>
                          <span aria-hidden="true" className="launch-mark">◆ </span>
                          {entry.campaign}
                        </>
                      ) : (
                        entry.title
                      )}
                    </Link>
                    <div className="muted">
                      {formatDate(entry.kind === "launch" ? entry.start_date : entry.due_date)}
                      {entry.kind === "task" ? ` · ${entry.campaign}` : ""}
                    </div>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      </QueryState>
    </div>
  );
}
