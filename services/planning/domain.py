"""Planning's domain: playbooks (process templates) and campaigns planned from them.

No ``from __future__ import annotations`` here: the event decorator builds pydantic
event classes from these signatures and needs the real types.
"""

import datetime as dt
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from shared.domain import Aggregate, EventMeta, InvalidCommand, event


class TaskTemplate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=64)
    offset_days: int = Field(ge=-730, le=730, description="days relative to the launch date")


class PlannedTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_id: UUID
    key: str
    title: str
    role: str
    due_date: dt.date
    assignee_id: str | None


TASK_STATUSES = ("planned", "open", "done")


class Playbook(Aggregate):
    @event("Defined")
    def __init__(self, name: str, tasks: list[TaskTemplate], meta: EventMeta) -> None:
        self.name = name
        self.tasks = tasks
        self.defined_by = meta.actor

    @property
    def roles(self) -> set[str]:
        return {task.role for task in self.tasks}


def define_playbook(name: str, tasks: list[TaskTemplate], meta: EventMeta) -> Playbook:
    name = name.strip()
    if not name:
        raise InvalidCommand("name: must not be blank")
    if not tasks:
        raise InvalidCommand("tasks: a playbook needs at least one task")
    keys = [task.key for task in tasks]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise InvalidCommand(f"tasks: duplicate task keys {', '.join(duplicates)}")
    return Playbook(name=name, tasks=tasks, meta=meta)


class Campaign(Aggregate):
    @event("Planned")
    def __init__(
        self,
        id: UUID,
        name: str,
        playbook_id: UUID,
        playbook_version: int,
        launch_date: dt.date,
        tasks: list[PlannedTask],
        meta: EventMeta,
    ) -> None:
        self.name = name
        self.playbook_id = playbook_id
        self.playbook_version = playbook_version
        self.launch_date = launch_date
        self.tasks = tasks
        self.planned_by = meta.actor
        self.task_status: dict[UUID, str] = {task.task_id: "planned" for task in tasks}

    @event("TaskProgressed")
    def record_task_progress(self, task_id: UUID, status: str, meta: EventMeta) -> None:
        self.task_status[task_id] = status

    def has_task(self, task_id: UUID) -> bool:
        return task_id in self.task_status


def plan_campaign(
    campaign_id: UUID,
    playbook: Playbook,
    name: str,
    launch_date: dt.date,
    assignments: dict[str, str],
    meta: EventMeta,
) -> Campaign:
    name = name.strip()
    if not name:
        raise InvalidCommand("name: must not be blank")
    unknown = sorted(set(assignments) - playbook.roles)
    if unknown:
        raise InvalidCommand(
            f"assignments: roles {', '.join(unknown)} are not in playbook "
            f"'{playbook.name}' (its roles: {', '.join(sorted(playbook.roles))})"
        )
    tasks = [
        PlannedTask(
            # Derived from the campaign, so every service can name the task the same way.
            task_id=uuid5(campaign_id, template.key),
            key=template.key,
            title=template.title,
            role=template.role,
            due_date=launch_date + dt.timedelta(days=template.offset_days),
            assignee_id=assignments.get(template.role),
        )
        for template in playbook.tasks
    ]
    return Campaign(
        id=campaign_id,
        name=name,
        playbook_id=playbook.id,
        playbook_version=playbook.version,
        launch_date=launch_date,
        tasks=tasks,
        meta=meta,
    )
