"""Events published by the planning service on ``marketflow.planning.events``."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from contracts.base import Contract, IntegrationEvent


class PlaybookTaskTemplate(Contract):
    key: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=64)
    offset_days: int = Field(description="days relative to the campaign's launch date")


class PlaybookDefined(IntegrationEvent):
    event_type = "marketflow.planning.playbook.defined.v1"

    playbook_id: UUID
    name: str
    version: int = Field(ge=1)
    tasks: list[PlaybookTaskTemplate]


class PlannedTask(Contract):
    task_id: UUID
    key: str
    title: str
    role: str
    due_date: date
    assignee_id: str | None = Field(description="member holding the role; null: unassigned")


class CampaignPlanned(IntegrationEvent):
    event_type = "marketflow.planning.campaign.planned.v1"

    campaign_id: UUID
    name: str
    playbook_id: UUID
    playbook_version: int = Field(ge=1)
    launch_date: date
    tasks: list[PlannedTask]
