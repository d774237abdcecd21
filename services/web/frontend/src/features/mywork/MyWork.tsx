import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { execution, ifMatch, planning, unwrap } from "../../api/client";
import type { TaskSummary } from "../../api/types";
import { formatDate, formatDateTime } from "../../components/dates";
import { Loading, QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { SlaBadge } from "../../components/SlaBadge";
import { stateLabel } from "../../components/StateLabel";
import { useSignedInMember } from "../auth/session";
import { useMarkRead, useNotifications } from "../notifications";
import { claimableQueues, openByDueDate } from "./tasks";

function boardLink(task: Pick<TaskSummary, "campaign_id" | "id">): string {
  return `/campaigns/${task.campaign_id}/board/tasks/${task.id}`;
}

export function MyWork() {
  return (
    <div className="my-work">
      <h1>My work</h1>
      <div className="grid-2">
        <MyTasks />
        <MyApprovals />
        <Claimable />
        <MyNotifications />
      </div>
    </div>
  );
}

function MyTasks() {
  const tasks = useQuery({
    queryKey: ["execution", "tasks", "me"],
    queryFn: () => unwrap(execution.GET("/tasks", { params: { query: { assignee: "me", limit: 500 } } })),
  });
  const open = tasks.data ? openByDueDate(tasks.data) : [];
  return (
    <section aria-labelledby="my-tasks" className="card">
      <h2 id="my-tasks">My tasks by due date</h2>
      <QueryState what="your tasks" isPending={tasks.isPending} error={tasks.error}>
        {open.length === 0 ? (
          <p className="empty">No open task in your hands.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Due</th>
                <th scope="col">Task</th>
                <th scope="col">State</th>
                <th scope="col">SLA</th>
              </tr>
            </thead>
            <tbody>
              {open.map((task) => (
                <tr key={task.id}>
                  <td>{formatDate(task.due_date)}</td>
                  <td>
                    <Link to={boardLink(task)}>{task.title}</Link>
                    {task.blocked_reason ? <div className="muted">Blocked: {task.blocked_reason}</div> : null}
                  </td>
                  <td>{stateLabel(task.status)}</td>
                  <td>
                    <SlaBadge sla={task.sla} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </section>
  );
}

export function MyApprovals() {
  const approvals = useQuery({
    queryKey: ["execution", "approvals", "me"],
    queryFn: () => unwrap(execution.GET("/approvals", { params: { query: { approver: "me", limit: 500 } } })),
  });
  return (
    <section aria-labelledby="my-approvals" className="card">
      <h2 id="my-approvals">Approvals waiting for me</h2>
      <QueryState what="your approvals" isPending={approvals.isPending} error={approvals.error}>
        {approvals.data?.length === 0 ? (
          <p className="empty">Nothing waits for your approval.</p>
        ) : (
          <ul className="list">
            {approvals.data?.map((item) => (
              <li key={`${item.id}-${item.step}`}>
                <Link to={boardLink(item)}>{item.title}</Link>{" "}
                <SlaBadge sla={item.sla} />
                <div className="muted">
                  Step {item.step} of {item.steps} ({item.approvals.length}/{item.required_approvals}{" "}
                  approvals) · submission {item.submission.version} by {item.submission.submitted_by} · due{" "}
                  {formatDate(item.due_date)}
                </div>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </section>
  );
}

function Claimable() {
  const me = useSignedInMember();
  const queryClient = useQueryClient();
  const member = useQuery({
    queryKey: ["planning", "members", me.member_id],
    queryFn: () =>
      unwrap(planning.GET("/members/{member_id}", { params: { path: { member_id: me.member_id } } })),
  });
  const teams = useQueries({
    queries: (member.data?.team_ids ?? []).map((teamId) => ({
      queryKey: ["planning", "teams", teamId],
      queryFn: () => unwrap(planning.GET("/teams/{team_id}", { params: { path: { team_id: teamId } } })),
    })),
  });
  const teamsReady = teams.every((team) => !team.isPending);
  const queues =
    member.data && teamsReady
      ? claimableQueues(member.data.roles, teams.map((team) => team.data?.queues ?? []))
      : [];
  const queueTasks = useQueries({
    queries: queues.map((queue) => ({
      queryKey: ["execution", "queues", queue],
      queryFn: () => unwrap(execution.GET("/queues/{queue}", { params: { path: { queue }, query: { limit: 100 } } })),
    })),
  });
  const claim = useMutation({
    mutationFn: (task: TaskSummary) =>
      unwrap(
        execution.POST("/tasks/{task_id}/claim", {
          params: { path: { task_id: task.id }, header: ifMatch(task.version) },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["execution"] }),
  });
  const tasks = openByDueDate(queueTasks.flatMap((result) => result.data ?? []));
  const failed = [member.error, ...teams.map((t) => t.error), ...queueTasks.map((q) => q.error)].find(Boolean);
  const pending = member.isPending || !teamsReady || queueTasks.some((q) => q.isPending);
  return (
    <section aria-labelledby="claimable" className="card">
      <h2 id="claimable">Claimable from my queues</h2>
      {queues.length ? <p className="muted">Queues: {queues.join(", ")}</p> : null}
      {claim.error ? <ProblemAlert error={claim.error} onDismiss={() => claim.reset()} /> : null}
      {failed ? <ProblemAlert error={failed} /> : null}
      {pending && !failed ? <Loading what="your queues" /> : null}
      {!pending && tasks.length === 0 ? <p className="empty">No task waits in your queues.</p> : null}
      <ul className="list">
        {tasks.map((task) => (
          <li key={task.id}>
            <Link to={boardLink(task)}>{task.title}</Link> <span className="muted">({task.queue})</span>{" "}
            <SlaBadge sla={task.sla} />
            <div className="row">
              <span className="muted">due {formatDate(task.due_date)}</span>
              <button
                type="button"
                onClick={() => claim.mutate(task)}
                disabled={claim.isPending}
                aria-label={`Claim ${task.title}`}
              >
                Claim
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function MyNotifications() {
  const notifications = useNotifications();
  const markRead = useMarkRead();
  return (
    <section aria-labelledby="notifications-title" id="notifications" className="card">
      <h2 id="notifications-heading">
        <span id="notifications-title">My notifications</span>
      </h2>
      <p>
        <Link to="/notifications">All notifications</Link> · <Link to="/preferences">Preferences</Link>
      </p>
      {markRead.error ? <ProblemAlert error={markRead.error} onDismiss={() => markRead.reset()} /> : null}
      <QueryState what="your notifications" isPending={notifications.isPending} error={notifications.error}>
        {notifications.data?.length === 0 ? <p className="empty">No notification.</p> : null}
        <ul className="list">
          {notifications.data?.map((item) => (
            <li key={item.id} className={item.read ? "read" : "unread"}>
              <span>{item.read ? null : <strong className="sr-only">Unread: </strong>}{item.text}</span>
              <div className="row">
                <span className="muted">{formatDateTime(item.created_at)}</span>
                {item.read ? null : (
                  <button type="button" onClick={() => markRead.mutate(item)} disabled={markRead.isPending}>
                    Mark read
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      </QueryState>
    </section>
  );
}
