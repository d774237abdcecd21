"""Random command sequences against the task aggregate (hypothesis, stateful).

Whatever the order of commands and actors, a task never reaches an illegal state, counts
its revision rounds, never lets anyone approve their own submission or two steps of one
chain, attributes every event to whoever acted, and refuses without recording anything.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.execution.domain import ApprovalStep, Task
from services.execution.domain.task import TRANSITIONS, TaskState
from shared.domain import DomainError, EventMeta

MEMBERS = ["ann", "ben", "cat", "dan", "eve"]
PLANNER = "pia"
members = st.sampled_from(MEMBERS)
maybe_member = st.one_of(st.none(), members)
texts = st.sampled_from(["", "looks good", "fix the headline", "  "])
CHAIN = [ApprovalStep(role="brand", required_approvals=2), ApprovalStep(member_id="dan")]
ROLE_MEMBERS = {"brand": ["ben", "cat", "dan"], "legal": ["eve"], "writer": ["ann", "ben"]}


class TaskMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.task = Task(id=uuid.uuid4(), campaign_id=uuid.uuid4(), key="post", title="Post",
                         role="writer", due_date=dt.date(2027, 5, 1),
                         meta=EventMeta(actor=PLANNER), approval_chain=CHAIN,
                         consulted_roles=["legal"], role_members=ROLE_MEMBERS)
        self.events: list[Any] = list(self.task.collect_events())
        self.refusals = 0

    def attempt(self, actor: str, command: Callable[[EventMeta], None]) -> None:
        before_status, before_version = self.task.status, self.task.version
        try:
            command(EventMeta(actor=actor))
        except DomainError:
            self.refusals += 1
            assert self.task.collect_events() == [], "a refused command recorded something"
            assert (self.task.status, self.task.version) == (before_status, before_version)
            return
        new = list(self.task.collect_events())
        if not new:  # an idempotent no-op (e.g. ready when already ready)
            assert (self.task.status, self.task.version) == (before_status, before_version)
            return
        assert all(event.meta.actor == actor for event in new)
        if self.task.status != before_status:
            # A command may pass through submitted -> approved (empty chain) and
            # approved -> done (complete on approval) in one go, but each step it took
            # was legal.
            via_approval = (TaskState.APPROVED in TRANSITIONS[before_status]
                            or before_status == TaskState.IN_PROGRESS)
            assert self.task.status in TRANSITIONS[before_status] or (
                via_approval and self.task.status in (TaskState.APPROVED, TaskState.DONE))
        self.events.extend(new)

    @rule()
    def ready(self) -> None:
        self.attempt(PLANNER, self.task.make_ready_if_free)

    @rule(assignee=members)
    def assign(self, assignee: str) -> None:
        self.attempt(PLANNER, lambda meta: self.task.assign(assignee, meta))

    @rule(assignee=members, reason=texts, really=st.integers(0, 3))
    def reassign(self, assignee: str, reason: str, really: int) -> None:
        if really == 0:
            self.attempt(PLANNER, lambda meta: self.task.reassign(
            assignee, meta.model_copy(update={"reason": reason})))

    @rule(actor=members)
    def claim(self, actor: str) -> None:
        self.attempt(actor, self.task.claim)

    @rule(really=st.integers(0, 3))
    def return_to_queue(self, really: int) -> None:
        if really == 0:
            self.attempt(PLANNER, self.task.return_to_queue)

    def likely(self, data: st.DataObject, *favourites: str | None) -> str:
        """Mostly someone who may act, sometimes anyone: both paths get exercised."""
        candidates = [who for who in favourites if who] * 3 + MEMBERS
        return data.draw(st.sampled_from(candidates))

    @rule(data=st.data())
    def start(self, data: st.DataObject) -> None:
        self.attempt(self.likely(data, self.task.assignee_id), self.task.start)

    @rule(data=st.data(), reference=st.sampled_from(["doc-1", "doc-2", " "]))
    def submit(self, data: st.DataObject, reference: str) -> None:
        self.attempt(self.likely(data, self.task.assignee_id),
                     lambda meta: self.task.submit(reference, "note", meta))

    @rule(data=st.data(), comment=texts)
    def approve(self, data: st.DataObject, comment: str) -> None:
        self.attempt(self.likely(data, *sorted(self.task.pending_approvers())),
                     lambda meta: self.task.approve(comment, meta))

    @rule(data=st.data(), comment=texts)
    def request_changes(self, data: st.DataObject, comment: str) -> None:
        self.attempt(self.likely(data, *sorted(self.task.pending_approvers())),
                     lambda meta: self.task.request_changes(comment, meta))

    @rule(data=st.data(), text=texts)
    def comment(self, data: st.DataObject, text: str) -> None:
        self.attempt(self.likely(data, "eve"), lambda meta: self.task.comment(text, meta))

    @rule(actor=members, reason=texts, really=st.integers(0, 3))
    def block(self, actor: str, reason: str, really: int) -> None:
        if really == 0:
            self.attempt(actor, lambda meta: self.task.block(reason, meta))

    @rule(actor=members)
    def unblock(self, actor: str) -> None:
        self.attempt(actor, self.task.unblock)

    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        self.attempt(self.likely(data, self.task.assignee_id), self.task.complete)

    @rule(reason=texts, really=st.integers(0, 4))
    def cancel(self, reason: str, really: int) -> None:
        if really == 0:  # rarely: a cancelled task ends the interesting part
            self.attempt(PLANNER, lambda meta: self.task.cancel(reason, meta))

    @rule(member=members, backup=maybe_member, really=st.integers(0, 3))
    def absence(self, member: str, backup: str | None, really: int) -> None:
        if really == 0:
            self.attempt("system:absence", lambda meta: self.task.delegate_approvals(
            member, backup, meta))

    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """The next step of the happy path, by whoever should take it: gets random runs
        deep into approval chains, where the other rules then interfere."""
        task, assignee = self.task, self.task.assignee_id
        if task.status == TaskState.PLANNED:
            self.ready()
        elif assignee is None and task.is_open:
            self.attempt(PLANNER, lambda meta: task.assign(data.draw(members), meta))
        elif task.status == TaskState.READY and assignee:
            self.attempt(assignee, task.start)
        elif task.status == TaskState.IN_PROGRESS and assignee:
            self.attempt(assignee, lambda meta: task.submit("doc", "", meta))
        elif task.status in (TaskState.SUBMITTED, TaskState.IN_REVIEW):
            if task.consulted_missing() and data.draw(st.booleans()):
                self.attempt("eve", lambda meta: task.comment("legal ok", meta))
            elif task.pending_approvers():
                approver = data.draw(st.sampled_from(sorted(task.pending_approvers())))
                if data.draw(st.integers(0, 3)) == 0:
                    self.attempt(approver, lambda meta: task.request_changes("redo", meta))
                else:
                    self.attempt(approver, lambda meta: task.approve("", meta))
        elif task.status == TaskState.APPROVED and assignee:
            self.attempt(assignee, task.complete)

    advance_more = advance
    advance_further = advance

    # --- invariants ----------------------------------------------------------------

    @invariant()
    def state_is_legal(self) -> None:
        assert self.task.status in TaskState
        if self.task.status == TaskState.BLOCKED:
            assert self.task.blocked_reason and self.task.blocked_from is not None
        if self.task.status in (TaskState.SUBMITTED, TaskState.IN_REVIEW,
                                TaskState.APPROVED):
            assert self.task.submission is not None
        assert 0 <= self.task.current_step <= len(self.task.approval_chain)

    @invariant()
    def revision_rounds_are_counted(self) -> None:
        requested = [e for e in self.events if type(e).__name__ == "ChangesRequested"]
        assert self.task.revision_round == len(requested)
        assert [e.revision_round for e in requested] == list(range(1, len(requested) + 1))

    @invariant()
    def separation_of_duties_holds(self) -> None:
        submitters = {e.version: e.meta.actor for e in self.events
                      if type(e).__name__ == "Submitted"}
        steps_by_approver: dict[tuple[int, str], set[int]] = {}
        for e in self.events:
            if type(e).__name__ == "ApprovalGiven":
                assert e.meta.actor != submitters[e.submission_version], "approved own work"
                key = (e.submission_version, e.meta.actor)
                steps_by_approver.setdefault(key, set()).add(e.step_index)
            if type(e).__name__ == "Submitted":
                # A new submission restarts the chain: approvals of older versions end.
                steps_by_approver = {k: v for k, v in steps_by_approver.items()
                                     if k[0] == e.version}
        assert all(len(steps) == 1 for steps in steps_by_approver.values()), steps_by_approver

    @invariant()
    def approval_needs_every_step(self) -> None:
        if self.task.status in (TaskState.APPROVED, TaskState.DONE) and self.task.submission:
            version = self.task.submission.version
            given = [e for e in self.events if type(e).__name__ == "ApprovalGiven"
                     and e.submission_version == version]
            for index, step in enumerate(CHAIN):
                approvers = {e.meta.actor for e in given if e.step_index == index}
                assert len(approvers) >= step.required_approvals

    @invariant()
    def every_event_is_attributed(self) -> None:
        assert all(event.meta.actor for event in self.events)
        assert [event.originator_version for event in self.events] == list(
            range(1, len(self.events) + 1))

    def teardown(self) -> None:
        # Replay is exact: folding the events again gives the same task.
        replayed: Any = None
        for event in self.events:
            # Through the stored form (JSON) and back, as the event store does.
            stored = type(event).model_validate_json(event.model_dump_json())
            assert stored == event
            replayed = stored.mutate(replayed)
        assert replayed.status == self.task.status
        assert replayed.revision_round == self.task.revision_round
        assert replayed.step_approvals == self.task.step_approvals
        assert replayed.assignee_id == self.task.assignee_id


TaskMachine.TestCase.settings = settings(
    max_examples=75, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_task_state_machine = TaskMachine.TestCase
