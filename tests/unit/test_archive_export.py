"""The archive's export (``GET /archive/export``), in-process: JSON Lines and CSV round
trips give every archived event exactly once, fields intact; filters by period, subject
and actor; the OCEL 2.0 log validates against the standard's JSON Schema; auditors export,
contributors may not; the rows are read page by page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from contracts import execution as task_contract
from services.reporting import export
from shared import cloudevents
from tests.unit.in_process import ServiceClient, auth, service_client
from tests.unit.test_notification_reporting_access import (
    BRAND,
    BRAND_TASK,
    T0,
    campaigns,
    directory,
    inbound,
)

OCEL_SCHEMA = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "ocel20-schema-json.json").read_text())
TRICKY = 'Résumé, "quoted", a comma,\nand a new line; 日本語 ✓'


def tricky_events() -> list[cloudevents.InboundEvent]:
    """Ben submits (text needing CSV quoting, a submission object), comments, and lee,
    not anna, cancels the legal-free task later, with a reason in the envelope."""
    submitted = inbound("execution", BRAND_TASK, 2, task_contract.TaskSubmitted(
        task_id=BRAND_TASK, campaign_id=BRAND, submission_version=1,
        reference="https://drive/x", note=TRICKY), minute=10)
    commented = inbound("execution", BRAND_TASK, 3, task_contract.TaskCommented(
        task_id=BRAND_TASK, text=TRICKY, submission_version=1), minute=11)
    cancelled = inbound("execution", BRAND_TASK, 4, task_contract.TaskCancelled(
        task_id=BRAND_TASK, campaign_id=BRAND, reason=TRICKY), minute=60)
    envelope = cancelled.envelope
    cancelled = cloudevents.InboundEvent(
        type(envelope)(**{**vars(envelope), "actor": "lee", "reason": TRICKY,
                          "correlation_id": "corr-1"}), cancelled.event)
    return [submitted, commented, cancelled]


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[tuple[ServiceClient, list[cloudevents.InboundEvent]]]:
    events = [*directory(), *campaigns(), *tricky_events()]
    with service_client("reporting", tmp_path) as client:
        for event in events:
            assert client.application.process_inbound(event)
        yield client, events


def expected(event: cloudevents.InboundEvent) -> dict[str, Any]:
    envelope = event.envelope
    return {"id": envelope.id, "source": envelope.source, "type": envelope.type,
            "time": envelope.time.isoformat().replace("+00:00", "Z"),
            "subject": envelope.subject, "actor": envelope.actor,
            "aggregate_version": envelope.aggregate_version,
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id, "reason": envelope.reason,
            "data": event.event.model_dump(mode="json")}


def exported(client: ServiceClient, member: str = "erin", **params: str) -> Any:
    return client.get("/archive/export", params=params, headers=auth(member))


def jsonl_rows(client: ServiceClient, **params: str) -> list[dict[str, Any]]:
    response = exported(client, format="jsonl", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return [json.loads(line) for line in response.text.splitlines()]


def test_jsonl_round_trip_has_every_archived_event_once_with_its_fields(
        reporting: tuple[ServiceClient, list[cloudevents.InboundEvent]]) -> None:
    client, events = reporting
    rows = jsonl_rows(client)
    # Campaign events are filed twice (subject and campaign timelines): exported once.
    assert sorted(row["id"] for row in rows) == sorted(e.envelope.id for e in events)
    assert {row["id"]: row for row in rows} == {e.envelope.id: expected(e) for e in events}
    times = [row["time"] for row in rows]
    assert times == sorted(times)  # oldest first


def test_csv_round_trip_keeps_commas_quotes_new_lines_and_unicode(
        reporting: tuple[ServiceClient, list[cloudevents.InboundEvent]]) -> None:
    client, events = reporting
    response = exported(client, format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert sorted(row["id"] for row in rows) == sorted(e.envelope.id for e in events)
    for row in rows:
        want = expected(next(e for e in events if e.envelope.id == row["id"]))
        assert json.loads(row.pop("data")) == want.pop("data")
        assert row == {name: "" if value is None else str(value)
                       for name, value in want.items()}
    assert sum(TRICKY in row["reason"] for row in rows) == 1


def test_filters_by_period_subject_and_actor_combine(
        reporting: tuple[ServiceClient, list[cloudevents.InboundEvent]]) -> None:
    client, events = reporting

    def ids(**params: str) -> set[str]:
        return {row["id"] for row in jsonl_rows(client, **params)}

    def want(keep: Any) -> set[str]:
        return {e.envelope.id for e in events if keep(e.envelope)}

    start, end = T0 + dt.timedelta(minutes=2), T0 + dt.timedelta(minutes=60)
    assert ids(**{"from": start.isoformat(), "to": end.isoformat()}) == want(
        lambda envelope: start <= envelope.time < end)
    assert ids(subject=str(BRAND_TASK)) == want(
        lambda envelope: envelope.subject == str(BRAND_TASK))
    assert ids(actor="lee") == want(lambda envelope: envelope.actor == "lee") != set()
    assert ids(actor="lee", subject=str(BRAND)) == set()


@pytest.mark.parametrize("params", [
    {"from": "2026-11-02T09:00:00"},  # no time zone
    {"from": "2026-11-02T10:00:00+00:00", "to": "2026-11-02T09:00:00+00:00"},
    {"from": "yesterday"},
    {"format": "xml"},
])
def test_a_bad_filter_is_a_problem_before_anything_is_streamed(
        reporting: tuple[ServiceClient, list[cloudevents.InboundEvent]],
        params: dict[str, str]) -> None:
    response = exported(reporting[0], **params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("member", "status"), [
    ("erin", 200),  # audits
    ("anna", 200),  # administers and plans
    ("ben", 403), ("mette", 403),  # a contributor, a team manager
])
def test_auditors_admins_and_planners_export_contributors_may_not(
        reporting: tuple[ServiceClient, list[cloudevents.InboundEvent]], member: str,
        status: int) -> None:
    for format in ("jsonl", "csv", "ocel"):
        assert exported(reporting[0], member, format=format).status_code == status


def test_ocel_log_validates_against_the_ocel_2_schema_and_relates_objects(
        reporting: tuple[ServiceClient, list[cloudevents.InboundEvent]]) -> None:
    client, events = reporting
    response = exported(client, format="ocel")
    assert response.status_code == 200
    log = response.json()
    jsonschema.Draft7Validator(
        OCEL_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    ).validate(log)
    assert sorted(event["id"] for event in log["events"]) == sorted(
        e.envelope.id for e in events)
    objects = {found["id"]: found for found in log["objects"]}
    task, campaign = f"task:{BRAND_TASK}", f"campaign:{BRAND}"
    assert objects[task]["type"] == "task" and objects[campaign]["type"] == "campaign"
    assert {"objectId": campaign, "qualifier": "part of"} in objects[task]["relationships"]
    submission = f"submission:{BRAND_TASK}/1"
    assert {"objectId": task, "qualifier": "of"} in objects[submission]["relationships"]
    assert {"name": "name", "value": "brand launch",
            "time": "2026-11-02T09:00:00Z"} in objects[campaign]["attributes"]
    by_id = {event["id"]: event for event in log["events"]}
    submitted = by_id[events[-3].envelope.id]["relationships"]
    assert {"objectId": task, "qualifier": "subject"} in submitted
    assert {"objectId": campaign, "qualifier": "part of"} in submitted
    assert {"objectId": submission, "qualifier": "submitted"} in submitted
    assert {"objectId": "member:anna", "qualifier": "actor"} in submitted
    assigned = next(event for event in log["events"] if event["type"].endswith(
        "task.assigned.v1"))
    assert {"objectId": "member:carla", "qualifier": "assignee"} in \
        assigned["relationships"]
    declared = {kind["name"] for kind in log["objectTypes"]}
    assert {"campaign", "task", "submission", "member"} <= declared
    assert {kind["name"] for kind in log["eventTypes"]} == {e.envelope.type for e in events}
    assert {found["type"] for found in log["objects"]} <= declared


def test_the_export_reads_the_archive_a_page_at_a_time(
        reporting: tuple[ServiceClient, list[cloudevents.InboundEvent]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    client, events = reporting
    limits: list[int] = []
    view = client.application.archive
    original = view.store.transaction

    def spying(**kwargs: Any) -> Any:
        transaction = original(**kwargs)

        class Spy:
            def __enter__(self) -> Any:
                sql = transaction.__enter__()
                rows = sql.rows

                def spied(statement: str, params: Any = ()) -> list[dict[str, Any]]:
                    if "LIMIT" in statement and "archive_events" in statement:
                        limits.append(params[-1])
                    return rows(statement, params)
                sql.rows = spied
                return sql

            def __exit__(self, *exc: Any) -> Any:
                return transaction.__exit__(*exc)
        return Spy()

    monkeypatch.setattr(export, "EXPORT_PAGE", 4)
    monkeypatch.setattr(view.store, "transaction", spying)
    monkeypatch.setattr(type(view).rows, "__defaults__", (4,))
    rows = jsonl_rows(client)
    assert len(rows) == len(events)
    assert limits == [4] * (len(events) // 4 + 1)  # a query per page, never the whole


def test_an_event_archived_after_the_export_began_is_left_to_the_next(
        reporting: tuple[ServiceClient, list[cloudevents.InboundEvent]]) -> None:
    client, events = reporting
    view = client.application.archive
    rows = view.rows(export.ExportFilter(), page_size=2)
    first = next(rows)
    late = inbound("execution", uuid.uuid4(), 1, task_contract.TaskCommented(
        task_id=uuid.uuid4(), text="late", submission_version=0), minute=200)
    assert client.application.process_inbound(late)
    view.catch_up()
    assert len([first, *rows]) == len(events)
