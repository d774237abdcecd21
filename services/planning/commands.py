"""Planning's commands: what each use case is asked to do, as one value each.

The HTTP layer (and the routines, and tests) build these; the use cases in
``application.py`` take one command plus the ``EventMeta`` of who asks. A command that
acts on a version the caller saw carries it as ``expected_version`` (from ``If-Match``
or a body/query field); ``None`` means "whatever is latest"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from services.planning.domain import Measurement, MemberProfile, PlaybookSpec, TeamProfile
from shared.domain import InvalidCommand

Mode = Literal["backward", "forward"]


# --- playbooks -------------------------------------------------------------------------

@dataclass(frozen=True)
class RevisePlaybook:
    playbook_id: UUID
    spec: PlaybookSpec
    expected_version: int | None = None


# --- campaigns -------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanCampaign:
    """Plan a campaign from a playbook: backward from ``launch_date`` or forward from
    ``start_date`` (exactly one of them)."""

    playbook_id: UUID
    name: str
    launch_date: dt.date | None = None
    start_date: dt.date | None = None
    assignments: Mapping[str, str] = field(default_factory=dict)
    queues: Mapping[str, str] = field(default_factory=dict)
    playbook_version: int | None = None
    team_id: str | None = None
    goal_ids: Sequence[UUID] = ()
    not_before: dt.date | None = None
    """Report tasks that would start earlier (default: today)."""
    campaign_id: UUID | None = None
    """Given by a routine (derived from its occurrence); new otherwise."""
    routine_id: UUID | None = None

    def __post_init__(self) -> None:
        if (self.launch_date is None) == (self.start_date is None):
            raise InvalidCommand("give launch_date (schedule backward from the launch) or "
                                 "start_date (schedule forward from it), not both or neither")

    @property
    def mode(self) -> Mode:
        return "backward" if self.launch_date is not None else "forward"


@dataclass(frozen=True)
class RescheduleCampaign:
    campaign_id: UUID
    launch_date: dt.date
    not_before: dt.date | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class MigrateCampaign:
    campaign_id: UUID
    playbook_version: int
    expected_version: int | None = None


@dataclass(frozen=True)
class CancelCampaign:
    campaign_id: UUID
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class CompleteCampaign:
    campaign_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class LinkGoals:
    campaign_id: UUID
    goal_ids: Sequence[UUID]
    expected_version: int | None = None


# --- routines and goals ----------------------------------------------------------------

@dataclass(frozen=True)
class StopRoutine:
    routine_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordMeasurement:
    goal_id: UUID
    measurement: Measurement
    expected_version: int | None = None


# --- team directory --------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterTeam:
    """Register the team, or change it to ``profile`` (its full new state)."""

    team_id: str
    profile: TeamProfile
    expected_version: int | None = None


@dataclass(frozen=True)
class RegisterMember:
    """Register the member, or change them to ``profile`` (their full new state)."""

    member_id: str
    profile: MemberProfile
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordAbsence:
    member_id: str
    starts_on: dt.date
    ends_on: dt.date
    backup_member_id: str | None = None
    reason: str | None = None
    spread_by_capacity: bool = False
    """The backup takes work up to their WIP limit, then the team's holders of each
    task's role with room, then the queue (False: all to the backup, or the queue)."""
    expected_version: int | None = None


@dataclass(frozen=True)
class CancelAbsence:
    member_id: str
    absence_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class IssueApiToken:
    principal_id: str
    label: str
    service_account: bool = False
    roles: tuple[str, ...] = ()
    expires_at: dt.datetime | None = None
