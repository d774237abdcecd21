"""Execution in-process on SQLite, fed planning's events the way its inbox applies them
(``process_inbound``): no broker, so use cases are tested where they live."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from contracts import IntegrationEvent
from contracts import planning as contract
from services.execution.application import ExecutionApplication
from services.execution.wiring import build
from shared import cloudevents
from shared.config import Settings

TODAY = dt.date(2027, 3, 1)
DUE = TODAY + dt.timedelta(days=30)


def execution(tmp_path: Path) -> ExecutionApplication:
    settings = replace(Settings(service="execution"), sqlite_dir=tmp_path)
    app = build(settings).application
    assert isinstance(app, ExecutionApplication)
    app.today = lambda: TODAY
    return app


class Planning:
    """Publishes what planning would, straight into execution's inbox."""

    def __init__(self, app: ExecutionApplication) -> None:
        self.app = app
        self.sequence = 0

    def publish(self, subject: str, event: IntegrationEvent, actor: str = "anna") -> None:
        self.sequence += 1
        envelope = cloudevents.Envelope(
            id=f"{subject}:{self.sequence}", source="/marketflow/planning",
            type=event.event_type, time=dt.datetime.now(dt.UTC), subject=subject,
            actor=actor, aggregate_version=self.sequence, sequence=self.sequence)
        assert self.app.process_inbound(cloudevents.InboundEvent(envelope, event))

    def member(self, member_id: str, *roles: str, teams: tuple[str, ...] = (),
               manager_id: str | None = None, active: bool = True) -> None:
        self.publish(member_id, contract.MemberRegistered(
            member_id=member_id, name=member_id.title(), roles=list(roles),
            team_ids=list(teams), manager_id=manager_id, active=active))

    def team(self, team_id: str, queues: tuple[str, ...] = (),
             manager_id: str | None = None) -> None:
        self.publish(team_id, contract.TeamRegistered(
            team_id=team_id, name=team_id.title(), queues=list(queues), manager_id=manager_id))

    def campaign(self, *tasks: contract.PlannedTask, team_id: str | None = None,
                 actor: str = "anna") -> uuid.UUID:
        campaign_id = uuid.uuid4()
        self.publish(str(campaign_id), contract.CampaignPlanned(
            campaign_id=campaign_id, name="Launch", playbook_id=uuid.uuid4(),
            playbook_version=1, launch_date=DUE, tasks=list(tasks), team_id=team_id),
            actor=actor)
        return campaign_id

    def absence(self, member_id: str, backup: str | None, *, spread: bool = False,
                starts_on: dt.date = TODAY) -> uuid.UUID:
        absence_id = uuid.uuid4()
        self.publish(member_id, contract.AbsenceRecorded(
            absence_id=absence_id, member_id=member_id, starts_on=starts_on,
            ends_on=starts_on + dt.timedelta(days=5), backup_member_id=backup,
            reason="holiday", spread_by_capacity=spread))
        return absence_id


def planned(key: str, assignee: str | None = "ben", **fields: Any) -> contract.PlannedTask:
    return contract.PlannedTask(task_id=uuid.uuid4(), key=key, title=key.title(),
                                role=fields.pop("role", "writer"), due_date=DUE,
                                assignee_id=assignee, **fields)


def step(role: str | None = None, member_id: str | None = None,
         required: int = 1) -> contract.ApprovalStep:
    return contract.ApprovalStep(role=role, member_id=member_id, required_approvals=required)


def history(app: ExecutionApplication, task_id: uuid.UUID) -> list[Any]:
    return app.task_with_history(task_id)[1]


def kinds(events: list[Any]) -> list[str]:
    return [type(event).__name__ for event in events]
