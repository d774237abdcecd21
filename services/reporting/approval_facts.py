"""Approvals as they were at any instant: one row per submission round, one per approver's
decision and one per hand-over an absence caused (projection ``reporting.approvals``).

The same versioned pattern and fold machinery as ``facts.py`` (``Kind``, ``FactsView``):
a submission's row gets a new version when it is decided; a decision or a delegation is
one row, valid from its event's time. Read with ``rows(sql, TABLE, as_of, ...)``; as of T
they equal the rows folded from the archive cut at T.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.reporting.domain import ArchivedEvent
from services.reporting.export import micros
from services.reporting.facts import EXECUTION, VERSION_COLUMNS, FactsView, Kind, Row
from shared.projections import Table

SUBMITTED = EXECUTION + "task.submitted.v1"
APPROVAL_GIVEN = EXECUTION + "approval.given.v1"
CHANGES_REQUESTED = EXECUTION + "task.changes_requested.v1"
APPROVED = EXECUTION + "task.approved.v1"
APPROVALS_DELEGATED = EXECUTION + "approval.delegated.v1"
ASSIGNED = EXECUTION + "task.assigned.v1"


def _table(name: str, key: str, columns: tuple[tuple[str, str], ...],
           indexes: tuple[tuple[str, ...], ...]) -> Table:
    return Table(name, ((key, "text"), *VERSION_COLUMNS, *columns), (key, "version"),
                 indexes=((key, "valid_to"), *indexes))


SUBMISSIONS = _table("fact_submissions", "submission_id", (
    ("task_id", "text"), ("campaign_id", "text"), ("submission_version", "int"),
    ("submitted_at", "int"), ("submitted_by", "text"), ("decided_at", "int"),
    ("decided_by", "text"), ("outcome", "text"), ("revision_round", "int"),
), (("task_id", "valid_to"), ("campaign_id", "valid_to")))
"""One submission round of a task ("task:version"): outcome pending | approved |
changes_requested, when and by whom it was decided; ``revision_round`` is the round the
change request opened (None unless changes were requested)."""

DECISIONS = _table("fact_approval_decisions", "decision_id", (
    ("task_id", "text"), ("campaign_id", "text"), ("submission_version", "int"),
    ("step", "int"), ("approver", "text"), ("decided_at", "int"), ("outcome", "text"),
    ("step_completed", "int"),
), (("task_id", "valid_from"), ("approver", "valid_from")))
"""One approver's decision on a step of a submission (the event's actor decided):
outcome approved | changes_requested; ``step_completed``: it completed its step."""

DELEGATIONS = _table("fact_delegations", "delegation_id", (
    ("task_id", "text"), ("campaign_id", "text"), ("kind", "text"),
    ("from_member", "text"), ("to_member", "text"), ("absence_id", "text"),
    ("delegated_at", "int"),
), (("task_id", "valid_from"),))
"""A hand-over an absence caused: kind ``approvals`` (an away approver's approvals went
to ``to_member``; None: to the step's other approvers) or ``task`` (the task was
reassigned, TaskAssigned via=absence). ``campaign_id`` is None for approvals (the event
does not name it; the task's facts do)."""


def _submission_subject(entry: ArchivedEvent) -> Sequence[str]:
    if entry.type in (SUBMITTED, CHANGES_REQUESTED, APPROVED):
        return (f'{entry.data["task_id"]}:{entry.data["submission_version"]}',)
    return ()


def _submission_fold(entry: ArchivedEvent, _: str, latest: Row | None) -> Row | None:
    data, at = entry.data, micros(entry.time)
    if entry.type == SUBMITTED:
        return {"task_id": str(data["task_id"]), "campaign_id": str(data["campaign_id"]),
                "submission_version": int(data["submission_version"]), "submitted_at": at,
                "submitted_by": entry.actor, "decided_at": None, "decided_by": None,
                "outcome": "pending", "revision_round": None}
    if latest is None or latest["outcome"] != "pending":  # the first decision stands
        return None
    decided = {"decided_at": at, "decided_by": entry.actor}
    if entry.type == CHANGES_REQUESTED:
        return {**latest, **decided, "outcome": "changes_requested",
                "revision_round": int(data["revision_round"])}
    return {**latest, **decided, "outcome": "approved"}


def _decision_subject(entry: ArchivedEvent) -> Sequence[str]:
    return (entry.id,) if entry.type in (APPROVAL_GIVEN, CHANGES_REQUESTED) else ()


def _decision_fold(entry: ArchivedEvent, _: str, latest: Row | None) -> Row | None:
    data = entry.data
    completed = entry.type == CHANGES_REQUESTED or bool(data.get("step_completed"))
    return {"task_id": str(data["task_id"]), "campaign_id": str(data["campaign_id"]),
            "submission_version": int(data["submission_version"]), "step": int(data["step"]),
            "approver": entry.actor, "decided_at": micros(entry.time),
            "outcome": "approved" if entry.type == APPROVAL_GIVEN else "changes_requested",
            "step_completed": int(completed)}


def _delegation_subject(entry: ArchivedEvent) -> Sequence[str]:
    if entry.type == APPROVALS_DELEGATED or (
            entry.type == ASSIGNED and entry.data.get("via") == "absence"):
        return (entry.id,)
    return ()


def _delegation_fold(entry: ArchivedEvent, _: str, latest: Row | None) -> Row | None:
    data = entry.data
    absence = data.get("absence_id")
    row = {"task_id": str(data["task_id"]), "absence_id": str(absence) if absence else None,
           "delegated_at": micros(entry.time)}
    if entry.type == APPROVALS_DELEGATED:
        return {**row, "campaign_id": None, "kind": "approvals",
                "from_member": data["member_id"], "to_member": data.get("backup_id")}
    return {**row, "campaign_id": str(data["campaign_id"]), "kind": "task",
            "from_member": data.get("previous_assignee_id"),
            "to_member": data["assignee_id"]}


APPROVAL_KINDS = (
    Kind(SUBMISSIONS, _submission_subject, _submission_fold),
    Kind(DECISIONS, _decision_subject, _decision_fold),
    Kind(DELEGATIONS, _delegation_subject, _delegation_fold),
)


class ApprovalFactsView(FactsView):
    """Submission rounds, approvers' decisions and absence hand-overs (module doc)."""

    name = "reporting.approvals"
    version = 1
    kinds = APPROVAL_KINDS
