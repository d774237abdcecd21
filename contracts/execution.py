"""Events published by the execution service on ``marketflow.execution.events``."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from contracts.base import IntegrationEvent


class TaskOpened(IntegrationEvent):
    event_type = "marketflow.execution.task.opened.v1"

    task_id: UUID
    campaign_id: UUID
    title: str
    role: str
    due_date: date


class TaskAssigned(IntegrationEvent):
    event_type = "marketflow.execution.task.assigned.v1"

    task_id: UUID
    campaign_id: UUID
    title: str
    assignee_id: str
    due_date: date


class TaskCompleted(IntegrationEvent):
    event_type = "marketflow.execution.task.completed.v1"

    task_id: UUID
    campaign_id: UUID
