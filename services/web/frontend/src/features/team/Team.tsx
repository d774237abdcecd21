import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { allPages, execution, planning, reporting, unwrap } from "../../api/client";
import type { MemberSummary, PlannedAbsence } from "../../api/types";
import { formatDate, formatDateTime } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { canAuditMember, seesAll } from "../auth/roles";
import { useSignedInMember } from "../auth/session";
import { fieldErrors } from "../playbooks/PlanCampaignForm";
import { WorkloadHeatmap } from "./WorkloadHeatmap";

export default function Team() {
  const me = useSignedInMember();
  const members = useQuery({
    queryKey: ["planning", "members"],
    queryFn: () => allPages((cursor) => planning.GET("/members", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
  });
  // Contributors may read only their own workload.
  const workload = useQuery({
    queryKey: ["reporting", "workload", seesAll(me) ? "all" : me.member_id],
    queryFn: () => unwrap(reporting.GET("/reports/workload", { params: { query: seesAll(me) ? {} : { member_id: me.member_id } } })),
  });
  return (
    <div className="team">
      <h1>Team</h1>
      <section aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        <QueryState what="the members" isPending={members.isPending} error={members.error}>
          <MemberTable members={members.data ?? []} />
        </QueryState>
      </section>
      <section aria-labelledby="workload-heading">
        <h2 id="workload-heading">Workload by week</h2>
        <QueryState what="the workload" isPending={workload.isPending} error={workload.error}>
          {workload.data ? <WorkloadHeatmap members={workload.data.members} /> : null}
        </QueryState>
      </section>
      {members.data ? <RecordAbsence members={members.data} /> : null}
    </div>
  );
}

function MemberTable({ members }: { members: MemberSummary[] }) {
  const me = useSignedInMember();
  const names = new Map(members.map((member) => [member.member_id, member.name]));
  return (
    <div className="table-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Roles</th>
            <th scope="col">Teams</th>
            <th scope="col">Capacity (h/week)</th>
            <th scope="col">Absences</th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <tr key={member.member_id}>
              <th scope="row">
                {canAuditMember(me, member.member_id) ? (
                  <Link to={`/audit/members/${member.member_id}`} aria-label={`${member.name}: activity`}>
                    {member.name}
                  </Link>
                ) : (
                  member.name
                )}
                {member.active ? null : <span className="muted"> (inactive)</span>}
              </th>
              <td>{member.roles.join(", ") || "—"}</td>
              <td>{member.team_ids.join(", ") || "—"}</td>
              <td>{member.weekly_capacity_hours}</td>
              <td>
                {member.absences.length ? (
                  <ul className="list">
                    {member.absences.map((absence) => (
                      <li key={absence.absence_id}>
                        {formatDate(absence.starts_on)} – {formatDate(absence.ends_on)}
                        {absence.reason ? ` (${absence.reason})` : ""}
                        {absence.backup_member_id ? `, backup ${names.get(absence.backup_member_id) ?? absence.backup_member_id}` : ""}
                      </li>
                    ))}
                  </ul>
                ) : (
                  "—"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RecordAbsence({ members }: { members: MemberSummary[] }) {
  const me = useSignedInMember();
  const queryClient = useQueryClient();
  const [memberId, setMemberId] = useState(me.member_id);
  const [startsOn, setStartsOn] = useState("");
  const [endsOn, setEndsOn] = useState("");
  const [backup, setBackup] = useState("");
  const [reason, setReason] = useState("");
  const record = useMutation({
    mutationFn: () =>
      unwrap(
        planning.POST("/members/{member_id}/absences", {
          params: { path: { member_id: memberId } },
          body: { starts_on: startsOn, ends_on: endsOn, backup_member_id: backup || null, reason: reason || null, spread_by_capacity: false },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["planning", "members"] }),
  });
  const errors = fieldErrors(record.error);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    record.mutate();
  };
  const choosable = seesAll(me) ? members : members.filter((member) => member.member_id === me.member_id || member.manager_id === me.member_id);
  return (
    <section className="card" aria-labelledby="absence-heading">
      <h2 id="absence-heading">Record a holiday</h2>
      <form className="filters" onSubmit={submit} noValidate>
        <label>
          Who is away
          <select value={memberId} onChange={(event) => setMemberId(event.target.value)}>
            {choosable.map((member) => (
              <option key={member.member_id} value={member.member_id}>{member.name}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={startsOn} onChange={(event) => setStartsOn(event.target.value)} aria-invalid={Boolean(errors.starts_on)} />
          {errors.starts_on ? <span className="field-error">{errors.starts_on}</span> : null}
        </label>
        <label>
          Until
          <input type="date" value={endsOn} onChange={(event) => setEndsOn(event.target.value)} aria-invalid={Boolean(errors.ends_on)} />
          {errors.ends_on ? <span className="field-error">{errors.ends_on}</span> : null}
        </label>
        <label>
          Backup
          <select value={backup} onChange={(event) => setBackup(event.target.value)}>
            <option value="">No backup (the work goes to the queues)</option>
            {members
              .filter((member) => member.member_id !== memberId && member.active)
              .map((member) => (
                <option key={member.member_id} value={member.member_id}>{member.name}</option>
              ))}
          </select>
        </label>
        <label>
          Reason
          <input value={reason} onChange={(event) => setReason(event.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={record.isPending}>
          Record absence
        </button>
      </form>
      {record.error ? <ProblemAlert error={record.error} onDismiss={() => record.reset()} /> : null}
      {record.data ? <WhatMoved absence={record.data} /> : null}
    </section>
  );
}

/** What execution moved for an absence (it acts on it once planning's event reaches it). */
function WhatMoved({ absence }: { absence: PlannedAbsence }) {
  // The list (not GET /absences/{id}): it answers 200 with nothing until execution has it.
  const outcome = useQuery({
    queryKey: ["execution", "absences", absence.member_id],
    queryFn: () =>
      allPages((cursor) => execution.GET("/absences", { params: { query: { member_id: absence.member_id, limit: 200, ...(cursor ? { cursor } : {}) } } })),
    refetchInterval: (query) => (query.state.data?.some((item) => item.id === absence.absence_id) ? false : 2000),
  });
  const found = outcome.data?.find((item) => item.id === absence.absence_id);
  return (
    <div aria-live="polite">
      <h3>
        Recorded: {formatDate(absence.starts_on)} – {formatDate(absence.ends_on)}
      </h3>
      <QueryState what="what moved" isPending={outcome.isPending} error={outcome.error}>
        {!found ? (
          <p className="muted">Waiting for execution to hand the work over…</p>
        ) : (
          <>
            <p>
              Status: {found.status}
              {found.started_at ? ` since ${formatDateTime(found.started_at)}` : " (work moves when the absence starts)"}
            </p>
            {found.warnings.length ? (
              <ul>{found.warnings.map((warning) => <li key={warning}>{warning}</li>)}</ul>
            ) : null}
            {found.moved.length ? (
              <table>
                <caption>What moved</caption>
                <thead>
                  <tr><th scope="col">Task</th><th scope="col">What</th><th scope="col">From</th><th scope="col">To</th><th scope="col">When</th></tr>
                </thead>
                <tbody>
                  {found.moved.map((move) => (
                    <tr key={`${move.task_id}-${move.what}-${move.at}`}>
                      <td><Link to={`/audit/tasks/${move.task_id}`}>{move.task_id.slice(0, 8)}</Link></td>
                      <td>{move.what}</td>
                      <td>{move.from_member ?? "—"}</td>
                      <td>{move.to_member ?? (move.to_queue ? `queue ${move.to_queue}` : "—")}</td>
                      <td>{formatDateTime(move.at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="empty">Nothing has moved yet.</p>
            )}
          </>
        )}
      </QueryState>
    </div>
  );
}
