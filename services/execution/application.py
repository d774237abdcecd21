"""Execution's use cases."""

from __future__ import annotations

from uuid import UUID

from services.execution.domain import Task
from shared.application import ServiceApplication
from shared.domain import EventMeta


class ExecutionApplication(ServiceApplication):
    def task(self, task_id: UUID) -> Task:
        return self.load(task_id, Task)

    def complete_task(self, task_id: UUID, meta: EventMeta) -> Task:
        task = self.task(task_id)
        task.complete(meta)
        self.save_or_conflict(task)
        return task
