"""Assembles the execution service for the runtime."""

from __future__ import annotations

from services.execution import handlers, integration
from services.execution.api import build_router
from services.execution.application import ExecutionApplication
from services.execution.views import TaskBoardView
from shared.config import Settings
from shared.runtime import ServiceParts

UPSTREAM = ("planning",)


def build(settings: Settings) -> ServiceParts:
    app = ExecutionApplication(settings, handlers=handlers.HANDLERS)
    board = TaskBoardView(app)
    return ServiceParts(
        application=app,
        router=build_router(app, board),
        translate=integration.translate,
        upstream=UPSTREAM,
        views=[board],
    )
