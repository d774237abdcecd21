"""The team directory as execution needs it (roles, teams, managers, queues, WIP limit)
and absences.

Planning owns the directory; execution keeps what it needs from planning's events, plus
the one thing it owns: each member's work-in-progress limit. Who holds a role is read
from this copy when work needs someone (assigning, queueing, claiming, approving), so
directory changes reach running campaigns.

No ``from __future__ import annotations``: event classes are built from signatures.
"""

import datetime as dt
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, ConfigDict

from shared.domain import Aggregate, Conflict, EventMeta, InvalidCommand, event

DEFAULT_WIP_LIMIT = 5


def member_aggregate_id(member_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"marketflow:execution:member:{member_id}")


def team_aggregate_id(team_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"marketflow:execution:team:{team_id}")


class TeamMember(Aggregate):
    @event("Registered")
    def __init__(self, id: UUID, member_id: str, name: str, roles: list[str],
                 team_ids: list[str], active: bool, meta: EventMeta,
                 manager_id: str | None = None) -> None:
        self.member_id = member_id
        self.name = name
        self.roles = list(roles)
        self.team_ids = list(team_ids)
        self.active = active
        self.manager_id = manager_id
        self.wip_limit = DEFAULT_WIP_LIMIT

    def update(self, name: str, roles: list[str], team_ids: list[str], active: bool,
               meta: EventMeta, manager_id: str | None = None) -> None:
        if (name, list(roles), list(team_ids), active, manager_id) == (
                self.name, self.roles, self.team_ids, self.active, self.manager_id):
            return
        self._updated(name, roles, team_ids, active, meta, manager_id=manager_id)

    @event("Updated")
    def _updated(self, name: str, roles: list[str], team_ids: list[str], active: bool,
                 meta: EventMeta, manager_id: str | None = None) -> None:
        self.name, self.roles, self.team_ids, self.active = (
            name, list(roles), list(team_ids), active)
        self.manager_id = manager_id

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


class Team(Aggregate):
    """A team as execution needs it: the queues it owns (its members may claim from them)
    and its manager (who may manage the team's work)."""

    @event("Registered")
    def __init__(self, id: UUID, team_id: str, name: str, queues: list[str],
                 manager_id: str | None, meta: EventMeta) -> None:
        self.team_id = team_id
        self.name = name
        self.queues = list(queues)
        self.manager_id = manager_id

    def update(self, name: str, queues: list[str], manager_id: str | None,
               meta: EventMeta) -> None:
        if (name, list(queues), manager_id) == (self.name, self.queues, self.manager_id):
            return
        self._updated(name, queues, manager_id, meta)

    @event("Updated")
    def _updated(self, name: str, queues: list[str], manager_id: str | None,
                 meta: EventMeta) -> None:
        self.name, self.queues, self.manager_id = name, list(queues), manager_id


class ReceiverLoad(BaseModel):
    """Where an absence's work went, and what that receiver holds afterwards."""

    model_config = ConfigDict(frozen=True)

    member_id: str | None = None
    queue: str | None = None
    tasks_received: int
    work_in_progress: int | None = None
    wip_limit: int | None = None

    @property
    def over_capacity(self) -> bool:
        return (self.work_in_progress is not None and self.wip_limit is not None
                and self.work_in_progress > self.wip_limit)


class Absence(Aggregate):
    """A member away from ``starts_on`` to ``ends_on`` (inclusive). When it starts, their
    open work moves to the backup or back to the queue; nothing moves back afterwards."""

    @event("Recorded")
    def __init__(self, id: UUID, member_id: str, starts_on: dt.date, ends_on: dt.date,
                 backup_member_id: str | None, reason: str | None, meta: EventMeta,
                 spread_by_capacity: bool = False) -> None:
        self.member_id = member_id
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.backup_member_id = backup_member_id
        self.reason = reason
        # The planner's choice: fill the backup up to their WIP limit, then the team's
        # role holders with room, then the queue (instead of everything to the backup).
        self.spread_by_capacity = spread_by_capacity
        self.status = "scheduled"
        self.receivers: list[ReceiverLoad] = []
        self.warnings: list[str] = []

    def describe(self) -> str:
        """What the hand-over's events say of the absence: never its reason, which only
        the member, their managers, planners and auditors may read (on the absence)."""
        return (f"absence {self.id}: {self.member_id} away {self.starts_on.isoformat()} to "
                f"{self.ends_on.isoformat()}")

    def due(self, today: dt.date) -> bool:
        """Scheduled, and today is one of its days (a past absence moves nothing)."""
        return self.status == "scheduled" and self.starts_on <= today <= self.ends_on

    def start(self, meta: EventMeta, receivers: list[ReceiverLoad] | None = None) -> None:
        """Record the hand-over with each receiver's load after it; a receiver left over
        their WIP limit is a warning the planner sees on the absence."""
        if self.status != "scheduled":
            raise Conflict(f"cannot start absence {self.id}: it is {self.status}")
        receivers = list(receivers or [])
        warnings = [f"{r.member_id} now has {r.work_in_progress} tasks in progress, over "
                    f"their work-in-progress limit of {r.wip_limit}"
                    for r in receivers if r.over_capacity]
        self._started(meta, receivers=receivers, warnings=warnings)

    @event("Started")
    def _started(self, meta: EventMeta, receivers: list[ReceiverLoad] | None = None,
                 warnings: list[str] | None = None) -> None:
        self.status = "started"
        self.receivers = list(receivers or [])
        self.warnings = list(warnings or [])

    def cancel(self, meta: EventMeta) -> None:
        if self.status == "cancelled":
            return
        self._cancelled(meta)

    @event("Cancelled")
    def _cancelled(self, meta: EventMeta) -> None:
        # A started absence that is cancelled moves nothing back: the planner decides.
        self.status = "cancelled"
