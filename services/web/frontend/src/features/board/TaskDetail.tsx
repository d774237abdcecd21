import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { execution, ifMatch, unwrap } from "../../api/client";
import type { TaskDetail } from "../../api/types";
import { formatDate, formatDateTime } from "../../components/dates";
import { QueryState } from "../../components/Loading";
import { ProblemAlert } from "../../components/ProblemAlert";
import { SlaBadge } from "../../components/SlaBadge";
import { stateLabel } from "../../components/StateLabel";

export function TaskDetailPanel({ taskId }: { taskId: string }) {
  const detail = useQuery({
    queryKey: ["execution", "task", taskId],
    queryFn: () => unwrap(execution.GET("/tasks/{task_id}", { params: { path: { task_id: taskId } } })),
  });
  return (
    <QueryState what="the task" isPending={detail.isPending} error={detail.error}>
      {detail.data ? <TaskDetailView task={detail.data} /> : null}
    </QueryState>
  );
}

/** Who must act next: the assignee, the pending approvers, or the queue. */
export function whoMustAct(task: Pick<TaskDetail, "status" | "assignee_id" | "pending_approvers" | "queue" | "consulted_missing">): string {
  if (task.status === "done" || task.status === "cancelled") return "Nobody: the task is finished.";
  if (task.status === "submitted" || task.status === "in_review") {
    const parts = [];
    if (task.pending_approvers.length) parts.push(`approvers ${task.pending_approvers.join(", ")}`);
    if (task.consulted_missing.length) parts.push(`consulted roles ${task.consulted_missing.join(", ")}`);
    return parts.length ? `Waiting for ${parts.join(" and ")}.` : "Waiting for review.";
  }
  if (task.assignee_id) return `${task.assignee_id} (assignee).`;
  return `Anyone who can claim from queue ${task.queue}.`;
}

export type StepState = "done" | "current" | "waiting";

/** Each approval step's state. The API's `current_step` counts from 1 (the step being
 * waited on, or the next one before submission; past the last once all approved). A step is
 * current only while the task is under review. */
export function chainStepStates(task: Pick<TaskDetail, "status" | "approval_chain" | "current_step">): StepState[] {
  const finished = task.status === "approved" || task.status === "done";
  const reviewing = task.status === "submitted" || task.status === "in_review";
  const current = task.current_step === null ? null : task.current_step - 1;
  return task.approval_chain.map((_, index) => {
    if (finished || (current !== null && index < current)) return "done";
    if (reviewing && index === current) return "current";
    return "waiting";
  });
}

export function TaskDetailView({ task }: { task: TaskDetail }) {
  const queryClient = useQueryClient();
  const states = chainStepStates(task);
  const [comment, setComment] = useState("");
  const addComment = useMutation({
    mutationFn: () =>
      unwrap(
        execution.POST("/tasks/{task_id}/comments", {
          params: { path: { task_id: task.id }, header: ifMatch(task.version) },
          body: { text: comment },
        }),
      ),
    onSuccess: () => {
      setComment("");
      return queryClient.invalidateQueries({ queryKey: ["execution", "task", task.id] });
    },
  });
  return (
    <div>
      <h2>{task.title}</h2>
      <p>
        {stateLabel(task.status)} <SlaBadge sla={task.sla} /> · due {formatDate(task.due_date)}
        {task.revision_round ? ` · revision round ${task.revision_round}` : ""}
      </p>
      {task.description ? <p>{task.description}</p> : null}
      {task.blocked_reason ? <p>Blocked: {task.blocked_reason}</p> : null}
      <h3>Who must act</h3>
      <p>{whoMustAct(task)}</p>

      <h3 id="approval-chain">Approval chain</h3>
      {task.approval_chain.length === 0 ? (
        <p className="muted">No approval: submitting approves it.</p>
      ) : (
        <ol className="chain" aria-labelledby="approval-chain">
          {task.approval_chain.map((step, index) => {
            const approvals = task.step_approvals[index] ?? [];
            const state = states[index];
            return (
              <li key={index} className={`step step-${state}`}>
                {step.member_id ?? step.role} — {approvals.length}/{step.required_approvals}
                {approvals.length ? ` (${approvals.join(", ")})` : ""}
                {state === "current" ? <strong> · current step</strong> : null}
              </li>
            );
          })}
        </ol>
      )}

      <h3>Submissions</h3>
      {task.submissions.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ul className="list">
          {task.submissions.map((submission) => (
            <li key={submission.version}>
              #{submission.version} <code>{submission.reference}</code> by {submission.submitted_by}
              {submission.note ? ` — ${submission.note}` : ""}
            </li>
          ))}
        </ul>
      )}

      <h3>Comments</h3>
      {task.comments.length === 0 ? <p className="muted">No comment.</p> : null}
      <ul className="list">
        {task.comments.map((entry) => (
          <li key={entry.id}>
            <strong>{entry.author}</strong>{" "}
            <span className="muted">
              {formatDateTime(entry.at)}
              {entry.kind !== "Commented" ? ` · ${entry.kind === "ApprovalGiven" ? "approval" : "changes requested"}` : ""}
            </span>
            <div>{entry.text}</div>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (comment.trim()) addComment.mutate();
        }}
      >
        <label htmlFor="new-comment">Add a comment</label>
        <textarea id="new-comment" value={comment} onChange={(event) => setComment(event.target.value)} rows={2} />
        <button type="submit" disabled={addComment.isPending || !comment.trim()}>
          Comment
        </button>
        {addComment.error ? <ProblemAlert error={addComment.error} onDismiss={() => addComment.reset()} /> : null}
      </form>

      <h3>History</h3>
      <ol className="history">
        {task.history.map((event) => (
          <li key={event.version}>
            <span className="muted">{formatDateTime(event.time)}</span> {event.type} by {event.actor}
            {event.reason ? ` — ${event.reason}` : ""}
          </li>
        ))}
      </ol>
    </div>
  );
}
