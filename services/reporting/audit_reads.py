"""Reporting's audit reads of people and definitions: what a member did or had done for
them (``activity.py``), and the full histories of members, playbooks and goals. Each use
case checks the access policy (``policy.py``) before reading anything.

Absence reasons are private (planning shows others 'away'): in these reads an absence's
reason, in its payload and its envelope, is 'away' unless the caller is the member who is
away.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import orjson

from contracts import planning as planning_contract
from services.reporting.activity import ActivityView, Include, Period, subject_page
from services.reporting.application import ReportingApplication
from services.reporting.domain import timeline_id
from services.reporting.policy import POLICY
from shared.access import AccessView
from shared.domain import NotFound
from shared.policy import Caller, Resource, Scope
from shared.projections import Page, PageRequest

AWAY = "away"
"""Planning's word for an absence's reason to whom may not know it
(``services.planning.domain.team.AWAY``; a test keeps them equal)."""
ABSENCE_RECORDED = planning_contract.AbsenceRecorded.event_type

_PLANNING_DIRECTORY = uuid5(NAMESPACE_URL, "urn:marketflow:planning:directory")


def member_subject(member_id: str) -> str:
    """The subject of a member's events: planning's member aggregate, whose id is the
    envelope's subject (``services.planning.domain.team.member_aggregate_id``; a test
    keeps them equal). Playbooks' and goals' subjects are their ids."""
    return str(uuid5(_PLANNING_DIRECTORY, f"member:{member_id}"))


def shown(row: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """An archive row as ``caller`` may see it: an absence's reason masked unless the
    caller is the member who is away."""
    entry = decoded(row)
    data = entry["data"]
    if row["type"] == ABSENCE_RECORDED and data.get("member_id") != caller.member_id:
        entry["data"] = {**data, "reason": AWAY if data.get("reason") else None}
        entry["reason"] = AWAY if row.get("reason") else None
    return entry


def decoded(row: dict[str, Any]) -> dict[str, Any]:
    """An archive row with its ``data`` (stored as JSON text) decoded."""
    data = row["data"]
    return {**row, "data": orjson.loads(data)} if isinstance(data, str) else row


class AuditReads:
    def __init__(self, app: ReportingApplication, access: AccessView) -> None:
        self.app = app
        self.access = access
        self.activity = ActivityView(app)

    def member_activity(self, caller: Caller, member_id: str, period: Period,
                        include: Include, page: PageRequest) -> Page:
        """One page of what the member did (``role`` actor) or had done to or for them
        (``on_behalf``), oldest first; none for a member nothing names."""
        self._authorize_member("audit.activity.read", caller, member_id)
        found = self.activity.member_page(self.app.archive, member_id, period, include,
                                          page)
        return Page([shown(row, caller) for row in found.rows], found.next_cursor)

    def member_history(self, caller: Caller, member_id: str, as_of: dt.datetime | None,
                       page: PageRequest) -> Page:
        """Everything that happened to the member's directory record and absences."""
        self._authorize_member("audit.member_history.read", caller, member_id)
        found = self._history(member_subject(member_id), f"member {member_id}", as_of, page)
        return Page([shown(row, caller) for row in found.rows], found.next_cursor)

    def playbook_history(self, caller: Caller, playbook_id: str, as_of: dt.datetime | None,
                         page: PageRequest) -> Page:
        POLICY.authorize("audit.playbook_history.read", caller)
        return self._history(playbook_id, f"playbook {playbook_id}", as_of, page)

    def goal_history(self, caller: Caller, goal_id: str, as_of: dt.datetime | None,
                     page: PageRequest) -> Page:
        POLICY.authorize("audit.goal_history.read", caller)
        return self._history(goal_id, f"goal {goal_id}", as_of, page)

    def _history(self, subject: str, description: str, as_of: dt.datetime | None,
                 page: PageRequest) -> Page:
        found = subject_page(self.app.archive, subject, as_of, page)
        # As the other histories: 404 for what was never archived; an empty page for
        # one that had not begun by ``as_of``.
        if not found.rows and page.cursor is None and not self.app.exists(
                timeline_id(subject)):
            raise NotFound(f"history of {description}: nothing archived")
        return Page([decoded(row) for row in found.rows], found.next_cursor)

    def _authorize_member(self, action: str, caller: Caller, member_id: str) -> None:
        # Who may read everyone's is not made to wait for the directory.
        if POLICY.scope(action, caller) is Scope.ALL:
            POLICY.authorize(action, caller)
            return
        # The member owns their trail; their teams let the teams' managers read it (and
        # ``Caller.reports`` those they manage directly).
        facts = self.access.member(member_id)
        POLICY.authorize(action, caller, Resource.of(
            owners=member_id, teams=facts.teams if facts else (),
            description=f"member {member_id}"))
