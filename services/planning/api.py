"""Planning's HTTP API: translates requests into use cases, nothing more."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from services.planning.application import PlanningApplication
from services.planning.domain import Campaign, Playbook, TaskTemplate
from services.planning.views import CatalogView
from shared.auth import Member, current_member
from shared.domain import EventMeta

Actor = Annotated[Member, Depends(current_member)]


class DefinePlaybook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    tasks: list[TaskTemplate] = Field(min_length=1)


class PlanCampaign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    playbook_id: UUID
    name: str = Field(min_length=1, max_length=200)
    launch_date: dt.date
    assignments: dict[str, str] = Field(
        default_factory=dict, description="role -> member id holding it in this campaign"
    )


def playbook_json(playbook: Playbook) -> dict[str, Any]:
    return {
        "id": str(playbook.id),
        "name": playbook.name,
        "version": playbook.version,
        "tasks": [task.model_dump() for task in playbook.tasks],
        "defined_by": playbook.defined_by,
        "defined_at": playbook.created_on.isoformat(),
    }


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": str(campaign.id),
        "name": campaign.name,
        "playbook_id": str(campaign.playbook_id),
        "playbook_version": campaign.playbook_version,
        "launch_date": campaign.launch_date.isoformat(),
        "planned_by": campaign.planned_by,
        "tasks": [
            {**task.model_dump(mode="json"), "status": campaign.task_status[task.task_id]}
            for task in campaign.tasks
        ],
    }


def build_router(app: PlanningApplication, catalog: CatalogView) -> APIRouter:
    router = APIRouter()

    @router.post("/playbooks", status_code=status.HTTP_201_CREATED, tags=["playbooks"])
    def define_playbook(body: DefinePlaybook, member: Actor) -> dict[str, Any]:
        playbook = app.define_playbook(body.name, body.tasks, EventMeta(actor=member.member_id))
        return playbook_json(playbook)

    @router.get("/playbooks", tags=["playbooks"])
    def list_playbooks(member: Actor) -> list[dict[str, Any]]:
        catalog.catch_up()
        return list(catalog.playbooks.values())

    @router.get("/playbooks/{playbook_id}", tags=["playbooks"])
    def get_playbook(playbook_id: UUID, member: Actor) -> dict[str, Any]:
        return playbook_json(app.playbook(playbook_id))

    @router.post("/campaigns", status_code=status.HTTP_201_CREATED, tags=["campaigns"])
    def plan_campaign(body: PlanCampaign, member: Actor) -> dict[str, Any]:
        campaign = app.plan_campaign(
            body.playbook_id, body.name, body.launch_date, body.assignments,
            EventMeta(actor=member.member_id),
        )
        return campaign_json(campaign)

    @router.get("/campaigns", tags=["campaigns"])
    def list_campaigns(member: Actor) -> list[dict[str, Any]]:
        catalog.catch_up()
        return list(catalog.campaigns.values())

    @router.get("/campaigns/{campaign_id}", tags=["campaigns"])
    def get_campaign(campaign_id: UUID, member: Actor) -> dict[str, Any]:
        return campaign_json(app.campaign(campaign_id))

    return router
