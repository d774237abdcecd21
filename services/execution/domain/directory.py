"""The team directory as execution needs it (roles, teams, WIP limit) and absences.

Planning owns the directory; execution keeps what it needs from planning's events, plus
the one thing it owns: each member's work-in-progress limit.

No ``from __future__ import annotations``: event classes are built from signatures.
"""

import datetime as dt
from uuid import NAMESPACE_URL, UUID, uuid5

from shared.domain import Aggregate, Conflict, EventMeta, InvalidCommand, event

DEFAULT_WIP_LIMIT = 5
PLANNER_ROLES = frozenset({"planner", "manager"})


def member_aggregate_id(member_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"marketflow:execution:member:{member_id}")


class TeamMember(Aggregate):
    @event("Registered")
    def __init__(self, id: UUID, member_id: str, name: str, roles: list[str],
                 team_ids: list[str], active: bool, meta: EventMeta) -> None:
        self.member_id = member_id
        self.name = name
        self.roles = list(roles)
        self.team_ids = list(team_ids)
        self.active = active
        self.wip_limit = DEFAULT_WIP_LIMIT

    @property
    def is_planner(self) -> bool:
        return bool(PLANNER_ROLES & set(self.roles))

    def update(self, name: str, roles: list[str], team_ids: list[str], active: bool,
               meta: EventMeta) -> None:
        if (name, list(roles), list(team_ids), active) == (
                self.name, self.roles, self.team_ids, self.active):
            return
        self._updated(name, roles, team_ids, active, meta)

    @event("Updated")
    def _updated(self, name: str, roles: list[str], team_ids: list[str], active: bool,
                 meta: EventMeta) -> None:
        self.name, self.roles, self.team_ids, self.active = (
            name, list(roles), list(team_ids), active)

    def set_wip_limit(self, limit: int, meta: EventMeta) -> None:
        if limit < 1:
            raise InvalidCommand("limit: a work-in-progress limit is at least 1")
        self._wip_limit_set(limit, meta)

    @event("WipLimitSet")
    def _wip_limit_set(self, limit: int, meta: EventMeta) -> None:
        self.wip_limit = limit


    def note_claim(self, task_id: UUID, meta: EventMeta) -> None:
        """Record a claim on the member, so that concurrent claims by one member clash
        on its version and the WIP limit holds under concurrency."""
        self._claimed(task_id, meta)

    @event("Claimed")
    def _claimed(self, task_id: UUID, meta: EventMeta) -> None:
        pass


class Absence(Aggregate):
    """A member away from ``starts_on`` to ``ends_on`` (inclusive). When it starts, their
    open work moves to the backup or back to the queue; nothing moves back afterwards."""

    @event("Recorded")
    def __init__(self, id: UUID, member_id: str, starts_on: dt.date, ends_on: dt.date,
                 backup_member_id: str | None, reason: str | None, meta: EventMeta) -> None:
        self.member_id = member_id
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.backup_member_id = backup_member_id
        self.reason = reason
        self.status = "scheduled"

    def describe(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return (f"absence {self.id}: {self.member_id} away {self.starts_on.isoformat()} to "
                f"{self.ends_on.isoformat()}{why}")

    def due(self, today: dt.date) -> bool:
        """Scheduled, and today is one of its days (a past absence moves nothing)."""
        return self.status == "scheduled" and self.starts_on <= today <= self.ends_on

    def start(self, meta: EventMeta) -> None:
        if self.status != "scheduled":
            raise Conflict(f"cannot start absence {self.id}: it is {self.status}")
        self._started(meta)

    @event("Started")
    def _started(self, meta: EventMeta) -> None:
        self.status = "started"

    def cancel(self, meta: EventMeta) -> None:
        if self.status == "cancelled":
            return
        self._cancelled(meta)

    @event("Cancelled")
    def _cancelled(self, meta: EventMeta) -> None:
        # A started absence that is cancelled moves nothing back: the planner decides.
        self.status = "cancelled"
