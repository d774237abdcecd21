from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from services.planning.application import PlanningApplication
from services.planning.wiring import build
from shared.config import Settings


@pytest.fixture
def planning_app(tmp_path: Path) -> Iterator[PlanningApplication]:
    """Planning's use cases on a SQLite store of their own (no Kafka)."""
    app = build(replace(Settings(service="planning"), sqlite_dir=tmp_path)).application
    assert isinstance(app, PlanningApplication)
    try:
        yield app
    finally:
        app.close()
