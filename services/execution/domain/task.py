"""A task's lifecycle, assignment and approval chain.

planned -> ready (all predecessors done) -> in_progress -> submitted -> in_review ->
approved -> done; changes requested sends a reviewed task back to in_progress (one more
revision round); a task can be blocked (with a reason) and unblocked, and cancelled.
Every refusal says which transition from which state; a refused command records nothing.

Who holds a role is resolved when the work needs someone: ``role_members`` are the
campaign's holders (from planning) joined with the directory's at that moment, recorded
by ``RoleHoldersResolved`` with the occasion as its reason. An approval step that nobody
left can satisfy (separation of duties) is escalated to the campaign's planner, who may
then decide it.

No ``from __future__ import annotations``: event classes are built from signatures.
"""

import datetime as dt
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from services.execution.domain.approval import (
    ApprovalStep,
    Submission,
    delegate_of,
    eligible_approvers,
)
from shared.domain import Aggregate, Conflict, EventMeta, Forbidden, InvalidCommand, event


class TaskState(StrEnum):
    PLANNED = "planned"
    READY = "ready"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    DONE = "done"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


S = TaskState
TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    S.PLANNED: frozenset({S.READY, S.BLOCKED, S.CANCELLED}),
    S.READY: frozenset({S.IN_PROGRESS, S.BLOCKED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.SUBMITTED, S.DONE, S.BLOCKED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.IN_PROGRESS, S.APPROVED, S.CANCELLED}),
    S.IN_REVIEW: frozenset({S.IN_REVIEW, S.IN_PROGRESS, S.APPROVED, S.CANCELLED}),
    S.APPROVED: frozenset({S.DONE, S.CANCELLED}),
    S.BLOCKED: frozenset({S.PLANNED, S.READY, S.IN_PROGRESS, S.CANCELLED}),
    S.DONE: frozenset(),
    S.CANCELLED: frozenset(),
}
TERMINAL_STATES = frozenset({S.DONE, S.CANCELLED})
OPEN_STATES = frozenset(TaskState) - TERMINAL_STATES
WORK_IN_PROGRESS_STATES = frozenset({S.PLANNED, S.READY, S.IN_PROGRESS, S.BLOCKED})
"""Open tasks in the assignee's hands (not waiting for reviewers): what a WIP limit counts."""
REVIEW_STATES = frozenset({S.SUBMITTED, S.IN_REVIEW})


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


class ReviewTarget(BaseModel):
    """The step of the submission an approver acted on (what they saw). An approval still
    applies when others approved the same step meanwhile (N of M commutes), not when the
    step was completed, the chain changed or a new submission arrived."""

    model_config = ConfigDict(frozen=True)

    submission_version: int
    step_index: int
    step: ApprovalStep


def _escalation_key(submission_version: int, step_index: int) -> str:
    return f"{submission_version}:{step_index}"


class Task(Aggregate):
    @event("Opened")
    def __init__(
        self,
        id: UUID,
        campaign_id: UUID,
        key: str,
        title: str,
        role: str,
        due_date: dt.date,
        meta: EventMeta,
        description: str = "",
        start_date: dt.date | None = None,
        depends_on: list[UUID] | None = None,
        queue: str | None = None,
        approval_chain: list[ApprovalStep] | None = None,
        consulted_roles: list[str] | None = None,
        role_members: dict[str, list[str]] | None = None,
        deliverable: str | None = None,
        team_id: str | None = None,
        complete_on_approval: bool = True,
    ) -> None:
        self.campaign_id = campaign_id
        self.key = key
        self.title = title
        self.role = role
        self.due_date = due_date
        self.description = description
        self.start_date = start_date
        self.depends_on: list[UUID] = list(depends_on or [])
        self.queue = queue or role
        self.approval_chain: list[ApprovalStep] = list(approval_chain or [])
        self.consulted_roles: list[str] = list(consulted_roles or [])
        # The campaign's own holders (planning's assignments), and the resolved ones:
        # those joined with the directory's holders at the last time of need.
        self.campaign_role_members: dict[str, list[str]] = {
            role_name: list(members) for role_name, members in (role_members or {}).items()}
        self.role_members: dict[str, list[str]] = {
            role_name: list(members) for role_name, members in self.campaign_role_members.items()}
        self.deliverable = deliverable
        self.team_id = team_id
        self.complete_on_approval = complete_on_approval
        # Who planned the campaign: escalations go to them.
        self.planned_by = meta.actor
        self.escalations: dict[str, str | None] = {}
        self.status = S.PLANNED
        self.assignee_id: str | None = None
        self.completed_by: str | None = None
        self.predecessors_done: set[UUID] = set()
        self.blocked_reason: str | None = None
        self.blocked_from: TaskState | None = None
        self.revision_round = 0
        self.submissions: list[Submission] = []
        self.current_step = 0
        self.step_approvals: list[list[str]] = []
        self.comments: list[dict[str, object]] = []
        self.delegations: dict[str, str | None] = {}

    # --- reading ------------------------------------------------------------------

    @property
    def submission(self) -> Submission | None:
        return self.submissions[-1] if self.submissions else None

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATES

    @property
    def waiting_for_predecessors(self) -> list[UUID]:
        return [pid for pid in self.depends_on if pid not in self.predecessors_done]

    @property
    def roles_needed(self) -> list[str]:
        """Every role this task needs someone for: its own, approvers', consulted."""
        roles = [self.role, *(step.role for step in self.approval_chain if step.role),
                 *self.consulted_roles]
        return sorted(set(roles))

    def escalated_to(self, index: int) -> str | None:
        """Who decides step ``index`` of the current submission since it was escalated."""
        if self.submission is None:
            return None
        return self.escalations.get(_escalation_key(self.submission.version, index))

    def approvers_of_step(self, index: int) -> set[str]:
        approvers = eligible_approvers(self.approval_chain[index], self.role_members,
                                       self.delegations)
        escalated_to = self.escalated_to(index)
        if escalated_to:
            approvers.add(escalated_to)
        return approvers

    def review_target(self) -> ReviewTarget | None:
        """The step waiting now, as an approver sees it (None when none is waiting)."""
        if (self.status not in REVIEW_STATES or self.submission is None
                or self.current_step >= len(self.approval_chain)):
            return None
        return ReviewTarget(submission_version=self.submission.version,
                            step_index=self.current_step,
                            step=self.approval_chain[self.current_step])

    def approvals_missing(self) -> int:
        """Approvals the current step still needs."""
        step = self.current_step
        return self.approval_chain[step].required_approvals - len(self.step_approvals[step])

    def step_unsatisfiable(self) -> bool:
        """Fewer members may still approve the current step than it needs (e.g. the
        submitter is its only approver): it would wait forever."""
        target = self.review_target()
        if target is None or self.escalated_to(target.step_index):
            return False
        return len(self.pending_approvers()) < self.approvals_missing()

    def approved_steps_by(self, member_id: str) -> list[int]:
        return [index for index, approvers in enumerate(self.step_approvals)
                if member_id in approvers]

    def pending_approvers(self) -> set[str]:
        """Who may still approve the current step of the current submission."""
        if self.status not in REVIEW_STATES or self.current_step >= len(self.approval_chain):
            return set()
        submitter = self.submission.submitted_by if self.submission else None
        return {member for member in self.approvers_of_step(self.current_step)
                if member != submitter and not self.approved_steps_by(member)}

    def consulted_missing(self) -> list[str]:
        """Consulted roles nobody of which has commented on the current submission. A
        role nobody holds (now) cannot be asked: it does not hold the approval up."""
        version = self.submission.version if self.submission else 0
        commenters = {str(c["author"]) for c in self.comments if c["submission_version"] == version}
        missing = []
        for role in self.consulted_roles:
            members = {delegate_of(m, self.delegations) or m
                       for m in self.role_members.get(role, [])}
            members |= set(self.role_members.get(role, []))
            if members and not members & commenters:
                missing.append(role)
        return missing

    def _refuse(self, verb: str, target: TaskState) -> Conflict:
        return Conflict(f"cannot {verb} task {self.id}: transition {self.status} -> {target} "
                        "is not allowed")

    def _require(self, verb: str, target: TaskState) -> None:
        if target not in TRANSITIONS[self.status]:
            raise self._refuse(verb, target)

    def _require_assignee(self, verb: str, meta: EventMeta) -> None:
        if self.assignee_id != meta.actor:
            holder = self.assignee_id or "nobody"
            raise Forbidden(f"only the assignee ({holder}) can {verb} task {self.id}")

    # --- readiness ------------------------------------------------------------------

    def predecessor_finished(self, predecessor_id: UUID, meta: EventMeta) -> None:
        """A task this one depends on is done (or cancelled); ready when all are."""
        if predecessor_id not in self.depends_on or predecessor_id in self.predecessors_done:
            return
        if not self.is_open:
            return
        self._predecessor_finished(predecessor_id, meta)
        if not self.waiting_for_predecessors and self.status == S.PLANNED:
            self._ready(self.campaign_id, meta)

    @event("PredecessorFinished")
    def _predecessor_finished(self, predecessor_id: UUID, meta: EventMeta) -> None:
        self.predecessors_done.add(predecessor_id)

    def make_ready_if_free(self, meta: EventMeta) -> None:
        """Ready now if nothing is left to wait for (called when a task opens)."""
        if self.status == S.PLANNED and not self.waiting_for_predecessors:
            self._ready(self.campaign_id, meta)

    @event("Ready")
    def _ready(self, campaign_id: UUID, meta: EventMeta) -> None:
        self.status = S.READY

    # --- assignment -------------------------------------------------------------------

    def assign(self, assignee_id: str, meta: EventMeta, *, via: str = "planned",
               absence_id: UUID | None = None, role_holders: list[str] | None = None) -> None:
        """``role_holders``: who held the task's role when it was resolved (recorded)."""
        if not self.is_open:
            raise Conflict(f"cannot assign task {self.id}: it is {self.status}")
        if _blank(assignee_id):
            raise InvalidCommand("assignee_id: must not be blank")
        if assignee_id == self.assignee_id:
            raise Conflict(f"cannot assign task {self.id}: it is already assigned to "
                           f"{assignee_id}")
        self._assigned(assignee_id, self.campaign_id, self.title, self.due_date, meta,
                       previous_assignee_id=self.assignee_id, via=via, absence_id=absence_id,
                       role_holders=sorted(role_holders) if role_holders is not None else None)

    # Events repeat the task's campaign, title and due date so that each one can be
    # published on its own: subscribers need no lookups.
    @event("Assigned")
    def _assigned(self, assignee_id: str, campaign_id: UUID, title: str, due_date: dt.date,
                  meta: EventMeta, previous_assignee_id: str | None = None,
                  via: str = "planned", absence_id: UUID | None = None,
                  role_holders: list[str] | None = None) -> None:
        self.assignee_id = assignee_id

    def assign_to_sole_holder(self, meta: EventMeta) -> None:
        """Unassigned and not sent to a queue by the planner: the only holder of its role
        takes it; with several (or none) it waits in the role's queue."""
        holders = self.role_members.get(self.role, [])
        if self.assignee_id is None and self.is_open and len(holders) == 1:
            self.assign(holders[0], meta.model_copy(update={
                "reason": f"the only holder of role '{self.role}' when the task opened"}),
                role_holders=holders)

    def resolve_role_holders(self, directory: dict[str, list[str]], inactive: set[str],
                             occasion: str, meta: EventMeta) -> None:
        """Join the campaign's holders of each role this task needs with the directory's
        holders now (``directory``: role -> members), leaving out members no longer
        active. Records who holds what, and why, only when that changed."""
        resolved = {}
        for role in self.roles_needed:
            members = set(self.campaign_role_members.get(role, [])) | set(
                directory.get(role, []))
            if members - inactive:
                resolved[role] = sorted(members - inactive)
        if resolved == {role: sorted(members) for role, members in self.role_members.items()
                        if members}:
            return
        held = "; ".join(f"'{role}': {', '.join(members)}" for role, members in resolved.items())
        self._role_holders_resolved(resolved, self.campaign_id, meta.model_copy(update={
            "reason": f"role holders resolved {occasion} (campaign and directory): "
                      f"{held or 'nobody'}"}))

    @event("RoleHoldersResolved")
    def _role_holders_resolved(self, role_members: dict[str, list[str]], campaign_id: UUID,
                               meta: EventMeta) -> None:
        self.role_members = {role: list(members) for role, members in role_members.items()}

    def claim(self, meta: EventMeta, *, team_queue_of: str | None = None) -> None:
        """The actor takes the task from its queue: as a holder of its role, or as a
        member of ``team_queue_of``, the team owning the queue."""
        if self.assignee_id is not None:
            raise Conflict(f"cannot claim task {self.id}: it is already assigned to "
                           f"{self.assignee_id}")
        holders = self.role_members.get(self.role, [])
        if meta.actor in holders:
            why = f"{meta.actor} holds role '{self.role}'"
        elif team_queue_of is not None:
            why = f"{meta.actor} is in team {team_queue_of}, which owns queue '{self.queue}'"
        else:
            raise Forbidden(f"{meta.actor} cannot claim task {self.id}: it needs role "
                            f"'{self.role}' (held by {', '.join(holders) or 'nobody'}) or a "
                            f"member of the team owning queue '{self.queue}'")
        self.assign(meta.actor, meta.model_copy(update={"reason": why}), via="claimed",
                    role_holders=holders)

    def reassign(self, assignee_id: str, meta: EventMeta) -> None:
        if _blank(meta.reason):
            raise InvalidCommand("reason: a reassignment needs a reason")
        self.assign(assignee_id, meta, via="reassigned")

    def return_to_queue(self, meta: EventMeta, *, absence_id: UUID | None = None) -> None:
        if not self.is_open:
            raise Conflict(f"cannot return task {self.id} to the queue: it is {self.status}")
        if self.assignee_id is None:
            raise Conflict(f"cannot return task {self.id} to the queue: it is not assigned")
        self._unassigned(self.assignee_id, self.campaign_id, self.queue, meta,
                         absence_id=absence_id)

    @event("Unassigned")
    def _unassigned(self, previous_assignee_id: str, campaign_id: UUID, queue: str,
                    meta: EventMeta, absence_id: UUID | None = None) -> None:
        self.assignee_id = None

    def delegate_approvals(self, member_id: str, backup_id: str | None, meta: EventMeta,
                           *, absence_id: UUID | None = None) -> None:
        """``member_id``'s approvals on this task go to ``backup_id`` (or, without one,
        back to the other approvers of the step)."""
        if backup_id == member_id:
            raise InvalidCommand("a member cannot be their own backup")
        self._approvals_delegated(member_id, backup_id, meta, absence_id=absence_id)

    @event("ApprovalsDelegated")
    def _approvals_delegated(self, member_id: str, backup_id: str | None, meta: EventMeta,
                             absence_id: UUID | None = None) -> None:
        self.delegations[member_id] = backup_id

    # --- doing the work ------------------------------------------------------------------

    def start(self, meta: EventMeta) -> None:
        self._require("start", S.IN_PROGRESS)
        if self.status != S.READY:
            raise self._refuse("start", S.IN_PROGRESS)
        self._require_assignee("start", meta)
        self._started(self.campaign_id, meta)

    @event("Started")
    def _started(self, campaign_id: UUID, meta: EventMeta) -> None:
        self.status = S.IN_PROGRESS

    def submit(self, reference: str, note: str, meta: EventMeta) -> None:
        self._require("submit", S.SUBMITTED)
        self._require_assignee("submit", meta)
        if _blank(reference):
            raise InvalidCommand("reference: a submission names the deliverable it submits")
        version = len(self.submissions) + 1
        first_approvers = sorted(self.approvers_of_step(0) - {meta.actor}) \
            if self.approval_chain else []
        self._submitted(version, reference.strip(), note, self.campaign_id, first_approvers,
                        meta)
        if not self.approval_chain:
            self._chain_completed(version, meta.model_copy(
                update={"reason": "the deliverable has no approval chain"}))

    def _chain_completed(self, submission_version: int, meta: EventMeta) -> None:
        """Approved; and done at once when the playbook says approval completes it."""
        self._approved(submission_version, self.campaign_id, meta)
        if self.complete_on_approval:
            why = f"approval of submission {submission_version} completes the task"
            if meta.reason:
                why = f"{meta.reason}; {why}"
            self._completed(self.campaign_id, meta.model_copy(update={"reason": why}),
                            on_approval=True)

    def escalate_if_unsatisfiable(self, candidates: list[str], meta: EventMeta) -> None:
        """A step nobody left can satisfy goes to the first of ``candidates`` (the
        campaign's planner, then the team's manager) who did not submit the work, instead
        of waiting forever; recorded once per step of a submission, also when there is
        nobody to escalate to (the event says so)."""
        if not self.step_unsatisfiable():
            return
        target = self.review_target()
        assert target is not None and self.submission is not None
        key = _escalation_key(target.submission_version, target.step_index)
        if key in self.escalations:
            return
        submitter = self.submission.submitted_by
        # Separation of duties holds for whoever decides the step, too.
        escalate_to = next((who for who in candidates if who != submitter), None)
        missing, pending = self.approvals_missing(), sorted(self.pending_approvers())
        why = (f"step {target.step_index + 1} ({target.step.label()}) of submission "
               f"{target.submission_version} needs {missing} more approval(s) but only "
               f"{len(pending)} member(s) may still give one ({', '.join(pending) or 'none'}; "
               f"{submitter} submitted it)")
        self._step_escalated(target.step_index, target.submission_version, escalate_to,
                             pending, self.campaign_id,
                             meta.model_copy(update={"reason": why}))

    @event("ApprovalStepEscalated")
    def _step_escalated(self, step_index: int, submission_version: int,
                        escalated_to: str | None, eligible_approvers: list[str],
                        campaign_id: UUID, meta: EventMeta) -> None:
        self.escalations[_escalation_key(submission_version, step_index)] = escalated_to

    @event("Submitted")
    def _submitted(self, version: int, reference: str, note: str, campaign_id: UUID,
                   first_approvers: list[str], meta: EventMeta) -> None:
        self.submissions.append(Submission(version=version, reference=reference, note=note,
                                           submitted_by=meta.actor))
        self.status = S.SUBMITTED
        # A new submission restarts the chain from step one.
        self.current_step = 0
        self.step_approvals = [[] for _ in self.approval_chain]

    def _check_reviewer(self, verb: str, target: TaskState, meta: EventMeta,
                        seen: ReviewTarget | None = None) -> int:
        """The current step's index, if ``meta.actor`` may act on it now (and it is still
        the step ``seen`` by the actor, when given)."""
        if self.status not in REVIEW_STATES:
            raise self._refuse(verb, target)
        step = self.current_step
        if step >= len(self.approval_chain):
            raise Conflict(f"cannot {verb} task {self.id}: no approval step is waiting")
        who = meta.actor
        assert self.submission is not None
        if seen is not None and seen != self.review_target():
            raise Conflict(
                f"cannot {verb} step {seen.step_index + 1} of submission "
                f"{seen.submission_version} of task {self.id}: meanwhile the task moved on "
                f"(now step {step + 1} of submission {self.submission.version}); reload")
        if who == self.submission.submitted_by:
            raise Forbidden(f"separation of duties: {who} submitted version "
                            f"{self.submission.version} of task {self.id} and cannot review it")
        if who in self.step_approvals[step]:
            raise Conflict(f"cannot {verb} task {self.id}: {who} already approved step "
                           f"{step + 1} of submission {self.submission.version}")
        earlier = self.approved_steps_by(who)
        if earlier:
            raise Forbidden(f"separation of duties: {who} already approved step "
                            f"{earlier[0] + 1} of task {self.id}'s approval chain and cannot "
                            f"act on step {step + 1}")
        if who not in self.approvers_of_step(step):
            raise Forbidden(f"{who} is not an approver of step {step + 1} "
                            f"({self.approval_chain[step].label()}) of task {self.id}")
        return step

    def approve(self, comment: str, meta: EventMeta, seen: ReviewTarget | None = None) -> None:
        step = self._check_reviewer("approve", S.IN_REVIEW, meta, seen)
        required = self.approval_chain[step].required_approvals
        # The member a stuck step was escalated to decides it alone.
        completes_step = (len(self.step_approvals[step]) + 1 >= required
                          or meta.actor == self.escalated_to(step))
        if completes_step:
            missing = self.consulted_missing()
            if missing:
                raise Conflict(
                    f"cannot complete step {step + 1} of task {self.id}: consulted roles "
                    f"{', '.join(missing)} have not commented on submission "
                    f"{self.submission.version if self.submission else 0}")
        completes_chain = completes_step and step + 1 == len(self.approval_chain)
        version = self.submission.version if self.submission else 0
        # Who the next step waits for, so they can be told it is their turn.
        next_approvers = [] if not completes_step or completes_chain else sorted(
            member for member in self.approvers_of_step(step + 1)
            if member not in (meta.actor, self.submission.submitted_by if self.submission
                              else None) and not self.approved_steps_by(member))
        self._approval_given(step, version, comment, completes_step, self.campaign_id, meta,
                             next_approvers)
        if completes_chain:
            self._chain_completed(version, meta)

    @event("ApprovalGiven")
    def _approval_given(self, step_index: int, submission_version: int, comment: str,
                        step_completed: bool, campaign_id: UUID, meta: EventMeta,
                        next_approvers: list[str] | None = None) -> None:
        self.status = S.IN_REVIEW
        self.step_approvals[step_index].append(meta.actor)
        if comment:
            self._add_comment(comment, submission_version, meta.actor)
        if step_completed:
            self.current_step = step_index + 1

    @event("Approved")
    def _approved(self, submission_version: int, campaign_id: UUID, meta: EventMeta) -> None:
        self.status = S.APPROVED

    def request_changes(self, comment: str, meta: EventMeta,
                        seen: ReviewTarget | None = None) -> None:
        step = self._check_reviewer("request changes on", S.IN_PROGRESS, meta, seen)
        if _blank(comment):
            raise InvalidCommand("comment: say what should change")
        version = self.submission.version if self.submission else 0
        self._changes_requested(step, version, comment, self.revision_round + 1,
                                self.campaign_id, meta)

    @event("ChangesRequested")
    def _changes_requested(self, step_index: int, submission_version: int, comment: str,
                           revision_round: int, campaign_id: UUID, meta: EventMeta) -> None:
        self.status = S.IN_PROGRESS
        self.revision_round = revision_round
        self._add_comment(comment, submission_version, meta.actor)

    def complete(self, meta: EventMeta) -> None:
        self._require("complete", S.DONE)
        if self.status == S.IN_PROGRESS and self.approval_chain:
            raise Conflict(f"cannot complete task {self.id}: transition in_progress -> done "
                           "is not allowed before its approval chain approved a submission")
        self._require_assignee("complete", meta)
        self._completed(self.campaign_id, meta)

    @event("Completed")
    def _completed(self, campaign_id: UUID, meta: EventMeta, on_approval: bool = False) -> None:
        self.status = S.DONE
        self.completed_by = meta.actor

    # --- interruptions --------------------------------------------------------------------

    def block(self, reason: str, meta: EventMeta) -> None:
        self._require("block", S.BLOCKED)
        if _blank(reason):
            raise InvalidCommand("reason: say what blocks the task")
        self._blocked(reason.strip(), self.campaign_id, meta)

    @event("Blocked")
    def _blocked(self, reason: str, campaign_id: UUID, meta: EventMeta) -> None:
        self.blocked_from = self.status
        self.blocked_reason = reason
        self.status = S.BLOCKED

    def unblock(self, meta: EventMeta) -> None:
        if self.status != S.BLOCKED or self.blocked_from is None:
            raise Conflict(f"cannot unblock task {self.id}: it is {self.status}, not blocked")
        self._unblocked(self.blocked_from, self.campaign_id, meta)

    @event("Unblocked")
    def _unblocked(self, resumed_state: TaskState, campaign_id: UUID, meta: EventMeta) -> None:
        self.status = resumed_state
        self.blocked_from = None
        self.blocked_reason = None
        if self.status == S.PLANNED and not self.waiting_for_predecessors:
            self.status = S.READY

    def cancel(self, reason: str, meta: EventMeta) -> None:
        self._require("cancel", S.CANCELLED)
        if _blank(reason):
            raise InvalidCommand("reason: say why the task is cancelled")
        self._cancelled(reason.strip(), self.campaign_id, meta)

    @event("Cancelled")
    def _cancelled(self, reason: str, campaign_id: UUID, meta: EventMeta) -> None:
        self.status = S.CANCELLED

    # --- conversation ---------------------------------------------------------------------

    def comment(self, text: str, meta: EventMeta) -> None:
        if _blank(text):
            raise InvalidCommand("text: a comment must not be blank")
        version = self.submission.version if self.submission else 0
        self._commented(text.strip(), version, meta)

    @event("Commented")
    def _commented(self, text: str, submission_version: int, meta: EventMeta) -> None:
        self._add_comment(text, submission_version, meta.actor)

    def _add_comment(self, text: str, submission_version: int, author: str) -> None:
        self.comments.append({"author": author, "text": text,
                              "submission_version": submission_version})

    # --- planning's revisions ---------------------------------------------------------------

    def revise(self, *, title: str, description: str, role: str, due_date: dt.date,
               start_date: dt.date | None, depends_on: list[UUID], queue: str | None,
               approval_chain: list[ApprovalStep], consulted_roles: list[str],
               role_members: dict[str, list[str]], deliverable: str | None,
               meta: EventMeta, complete_on_approval: bool = True) -> None:
        """Planning rescheduled the task or moved it to a new playbook version."""
        if not self.is_open:
            return  # finished work keeps its dates and definition
        self._revised(title, description, role, due_date, start_date, depends_on,
                      queue or role, approval_chain, consulted_roles, role_members,
                      deliverable, self.campaign_id, meta,
                      complete_on_approval=complete_on_approval)
        if self.status in REVIEW_STATES and not self.approval_chain and self.submission:
            self._chain_completed(self.submission.version, meta.model_copy(
                update={"reason": "the deliverable no longer has an approval chain"}))

    @event("Revised")
    def _revised(self, title: str, description: str, role: str, due_date: dt.date,
                 start_date: dt.date | None, depends_on: list[UUID], queue: str,
                 approval_chain: list[ApprovalStep], consulted_roles: list[str],
                 role_members: dict[str, list[str]], deliverable: str | None,
                 campaign_id: UUID, meta: EventMeta, complete_on_approval: bool = True) -> None:
        self.title, self.description, self.role = title, description, role
        self.due_date, self.start_date = due_date, start_date
        self.depends_on = list(depends_on)
        self.queue = queue
        chain_changed = list(approval_chain) != self.approval_chain
        self.approval_chain = list(approval_chain)
        self.consulted_roles = list(consulted_roles)
        self.campaign_role_members = {name: list(members)
                                      for name, members in role_members.items()}
        # Until the next resolution, the campaign's holders are the holders.
        self.role_members = {name: list(members) for name, members in role_members.items()}
        self.deliverable = deliverable
        self.complete_on_approval = complete_on_approval
        if chain_changed and self.status in REVIEW_STATES:
            # A different chain: the submission is reviewed again from step one.
            self.current_step = 0
            self.step_approvals = [[] for _ in self.approval_chain]
