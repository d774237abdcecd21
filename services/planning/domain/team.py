"""The team directory: teams (calendar, queues) and members (roles, manager, capacity,
absences). Other services follow these changes (execution reassigns during absences).

No ``from __future__ import annotations`` here: the event decorator builds pydantic
event classes from these signatures and needs the real types.
"""

import datetime as dt
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator

from services.planning.domain.calendar import WorkingCalendar, check_country
from services.planning.domain.text import check_date, check_text
from shared.domain import Aggregate, Conflict, EventMeta, InvalidCommand, NotFound, event

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"
MAX_QUEUES = 100
AWAY = "away"
"""What readers who may not know why someone is away see as the absence's reason."""


def _not_a_number(value: Any) -> Any:
    # pydantic reads 0 as 1970-01-01; a date is written as one (2027-03-01).
    if isinstance(value, int | float):
        raise ValueError("give a date as YYYY-MM-DD, not a number")
    return value


Day = Annotated[dt.date, BeforeValidator(_not_a_number)]
DIRECTORY = uuid5(NAMESPACE_URL, "urn:marketflow:planning:directory")


def team_aggregate_id(team_id: str) -> UUID:
    return uuid5(DIRECTORY, f"team:{team_id}")


def member_aggregate_id(member_id: str) -> UUID:
    return uuid5(DIRECTORY, f"member:{member_id}")


class TeamProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, for holidays")
    subdivision: str | None = Field(default=None, description="e.g. a US state")
    closed_days: list[Day] = Field(default_factory=list, max_length=1000)
    queues: list[str] = Field(default_factory=list, max_length=MAX_QUEUES,
                              description="work queues of the team")
    manager_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN,
                                   description="the member escalations go to")

    @field_validator("closed_days")
    @classmethod
    def _sorted_unique(cls, days: list[dt.date]) -> list[dt.date]:
        return sorted(set(days))

    @field_validator("queues")
    @classmethod
    def _queue_names(cls, queues: list[str]) -> list[str]:
        for queue in queues:
            if not queue.strip() or len(queue) > 64:
                raise ValueError("a queue name is 1 to 64 characters")
        if len(set(queues)) != len(queues):
            raise ValueError("queue names must be unique")
        return queues


# Every event names the team or member, so each one reads on its own (audit, outbox).


class Team(Aggregate):
    @event("Registered")
    def __init__(self, id: UUID, team_id: str, profile: TeamProfile, meta: EventMeta) -> None:
        self.team_id = team_id
        self.profile = profile

    def change(self, profile: TeamProfile, meta: EventMeta) -> None:
        """The team as ``profile`` says; the same profile again changes nothing (PUT is
        idempotent: a client retrying after a timeout gets the same answer)."""
        if profile == self.profile:
            return
        check_profile(profile)
        self._changed(team_id=self.team_id, profile=profile, meta=meta)

    @event("Changed")
    def _changed(self, team_id: str, profile: TeamProfile, meta: EventMeta) -> None:
        self.profile = profile

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.profile.country, self.profile.subdivision,
                               self.profile.closed_days)


def check_profile(profile: TeamProfile) -> None:
    check_text("name", profile.name)
    for queue in profile.queues:
        check_text("queues", queue)
    for day in profile.closed_days:
        check_date("closed_days", day)
    check_country(profile.country, profile.subdivision)


def register_team(team_id: str, profile: TeamProfile, meta: EventMeta) -> Team:
    check_profile(profile)
    return Team(id=team_aggregate_id(team_id), team_id=team_id, profile=profile, meta=meta)


class MemberProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    team_ids: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list,
                                                                 max_length=100)
    roles: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list,
                                                              max_length=100)
    manager_id: str | None = Field(default=None, max_length=64)
    weekly_capacity_hours: float = Field(default=40, ge=0, le=168)
    active: StrictBool = True

    @field_validator("team_ids", "roles")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("values must be unique")
        if any(not value.strip() for value in values):
            raise ValueError("values must not be blank")
        return values


class Absence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    absence_id: UUID
    starts_on: dt.date
    ends_on: dt.date
    backup_member_id: str | None = None
    reason: str | None = None
    spread_by_capacity: StrictBool = False
    """The planner's choice: the backup takes work up to their WIP limit, then the team's
    holders of each task's role with room, then the queue (execution's hand-over)."""

    def overlaps(self, starts_on: dt.date, ends_on: dt.date) -> bool:
        return self.starts_on <= ends_on and starts_on <= self.ends_on


class Member(Aggregate):
    @event("Registered")
    def __init__(self, id: UUID, member_id: str, profile: MemberProfile,
                 meta: EventMeta) -> None:
        self.member_id = member_id
        self.profile = profile
        self.absences: dict[UUID, Absence] = {}

    def change(self, profile: MemberProfile, meta: EventMeta) -> None:
        """Idempotent, like ``Team.change``."""
        if profile == self.profile:
            return
        check_member_profile(profile)
        if profile.manager_id == self.member_id:
            raise InvalidCommand("manager_id: a member cannot be their own manager")
        self._changed(member_id=self.member_id, profile=profile, meta=meta)

    @event("Changed")
    def _changed(self, member_id: str, profile: MemberProfile, meta: EventMeta) -> None:
        self.profile = profile

    def record_absence(self, absence: Absence, meta: EventMeta) -> None:
        if absence.ends_on < absence.starts_on:
            raise InvalidCommand("ends_on: must be on or after starts_on")
        if absence.backup_member_id == self.member_id:
            raise InvalidCommand("backup_member_id: the backup must be someone else")
        clash = next((a for a in self.absences.values()
                      if a.overlaps(absence.starts_on, absence.ends_on)), None)
        if clash is not None:
            raise Conflict(f"absence: {self.member_id} is already away from "
                           f"{clash.starts_on} to {clash.ends_on} ({clash.absence_id})")
        self._absence_recorded(member_id=self.member_id, absence=absence, meta=meta)

    @event("AbsenceRecorded")
    def _absence_recorded(self, member_id: str, absence: Absence, meta: EventMeta) -> None:
        self.absences[absence.absence_id] = absence

    def cancel_absence(self, absence_id: UUID, meta: EventMeta) -> None:
        if absence_id not in self.absences:
            raise NotFound(f"absence {absence_id} of {self.member_id} not found")
        self._absence_cancelled(member_id=self.member_id, absence_id=absence_id, meta=meta)

    @event("AbsenceCancelled")
    def _absence_cancelled(self, member_id: str, absence_id: UUID, meta: EventMeta) -> None:
        del self.absences[absence_id]

    def is_away_on(self, day: dt.date) -> bool:
        return any(a.overlaps(day, day) for a in self.absences.values())


def check_member_profile(profile: MemberProfile) -> None:
    check_text("name", profile.name)
    for role in profile.roles:
        check_text("roles", role)


def register_member(member_id: str, profile: MemberProfile, meta: EventMeta) -> Member:
    check_member_profile(profile)
    if profile.manager_id == member_id:
        raise InvalidCommand("manager_id: a member cannot be their own manager")
    return Member(id=member_aggregate_id(member_id), member_id=member_id, profile=profile,
                  meta=meta)
