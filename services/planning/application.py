"""Planning's use cases."""

from __future__ import annotations

import datetime as dt
from uuid import UUID, uuid4

from services.planning.domain import (
    Campaign,
    Playbook,
    TaskTemplate,
    define_playbook,
    plan_campaign,
)
from shared.application import ServiceApplication
from shared.domain import EventMeta


class PlanningApplication(ServiceApplication):
    def define_playbook(self, name: str, tasks: list[TaskTemplate], meta: EventMeta) -> Playbook:
        playbook = define_playbook(name, tasks, meta)
        self.save_or_conflict(playbook)
        return playbook

    def plan_campaign(
        self,
        playbook_id: UUID,
        name: str,
        launch_date: dt.date,
        assignments: dict[str, str],
        meta: EventMeta,
    ) -> Campaign:
        playbook = self.load(playbook_id, Playbook)
        campaign = plan_campaign(uuid4(), playbook, name, launch_date, assignments, meta)
        self.save_or_conflict(campaign)
        return campaign

    def playbook(self, playbook_id: UUID) -> Playbook:
        return self.load(playbook_id, Playbook)

    def campaign(self, campaign_id: UUID) -> Campaign:
        return self.load(campaign_id, Campaign)
