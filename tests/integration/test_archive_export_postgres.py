"""The archive export on PostgreSQL: the same round trip and filters as on SQLite
(``tests/unit/test_archive_export.py``), through reporting's own schema."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.harness import Environment, auth, fed_client
from tests.unit.test_archive_export import campaigns, directory, expected, tricky_events

pytestmark = pytest.mark.integration


async def test_the_export_streams_every_archived_event_once_from_postgresql(
        postgres_env: Environment) -> None:
    events = [*directory(), *campaigns(), *tricky_events()]
    with fed_client(postgres_env, "reporting", events) as client:
        answer = client.get("/archive/export", params={"format": "jsonl"},
                            headers=auth("anna"))
        assert answer.status_code == 200, answer.text
        rows = [json.loads(line) for line in answer.text.splitlines()]
        assert {row["id"]: row for row in rows} == {e.envelope.id: expected(e) for e in events}
        actor = events[-1].envelope.actor
        by_actor = client.get("/archive/export", headers=auth("anna"),
                              params={"format": "csv", "actor": actor})
        assert by_actor.status_code == 200, by_actor.text
        parsed = list(csv.DictReader(io.StringIO(by_actor.text)))
        assert sorted(row["id"] for row in parsed) == sorted(
            e.envelope.id for e in events if e.envelope.actor == actor)
        ocel = client.get("/archive/export", params={"format": "ocel"}, headers=auth("anna"))
        assert ocel.status_code == 200, ocel.text
        assert len(ocel.json()["events"]) == len(events)
