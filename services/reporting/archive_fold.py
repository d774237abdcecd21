"""The pattern of every reporting read model: a fold of the archive, each archived event
once (its subject's copy: ``domain.archived_once``)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from services.reporting.domain import ArchivedEvent, Timeline, archived_once
from shared.projections import Projection, Sql


class ArchiveProjection(Projection):
    """Subclasses fold each archived event in ``archived``."""

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Only archived events count."""

    @apply.register(Timeline.Started)  # type: ignore[attr-defined]
    @apply.register(Timeline.Appended)  # type: ignore[attr-defined]
    def _timeline_event(self, domain_event: Any, sql: Sql) -> None:
        entry = archived_once(domain_event)
        if entry is not None:
            self.archived(entry, sql)

    def archived(self, entry: ArchivedEvent, sql: Sql) -> None:
        raise NotImplementedError
