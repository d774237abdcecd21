"""The walking skeleton end to end: planning -> execution -> notification -> reporting,
over real Kafka, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from contracts import EVENT_TYPES
from contracts.topics import topic
from tests.asyncapi_check import check, record_message
from tests.harness import (
    Environment,
    RunningService,
    auth,
    eventually,
    plan_launch,
    read_topic,
    start_service,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def system(env: Environment) -> AsyncIterator[dict[str, RunningService]]:
    services = {name: await start_service(env, name)
                for name in ("planning", "execution", "notification", "reporting")}
    yield services
    for service in services.values():
        await service.stop()


async def ben_tasks(execution: RunningService) -> list[dict[str, Any]]:
    response = await execution.http.get("/tasks", params={"assignee": "me"},
                                        headers=auth("ben"))
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


async def test_campaign_flows_through_all_four_services(
    system: dict[str, RunningService], env: Environment
) -> None:
    planning, execution = system["planning"], system["execution"]
    notification, reporting = system["notification"], system["reporting"]
    campaign = await plan_launch(planning)
    campaign_id = campaign["id"]

    tasks = await eventually(lambda: ben_tasks(execution), what="ben's tasks in execution")
    tasks = await eventually(
        lambda: _when(ben_tasks(execution), lambda rows: len(rows) == 2), what="both tasks")
    assert {task["key"] for task in tasks} == {"brief", "post"}
    assert all(task["status"] == "ready" for task in tasks)  # no predecessors

    async def ben_notifications() -> list[dict[str, Any]]:
        response = await notification.http.get("/notifications", headers=auth("ben"))
        rows: list[dict[str, Any]] = response.json()
        return rows if len(rows) == 2 else []

    notes = await eventually(ben_notifications, what="two notifications for ben")
    assert {note["kind"] for note in notes} == {"task.assigned"}
    assert any("Write launch brief" in note["text"] for note in notes)

    async def progress() -> dict[str, Any] | None:
        response = await reporting.http.get(f"/campaigns/{campaign_id}/progress",
                                            headers=auth("anna"))
        return response.json() if response.status_code == 200 else None

    report = await eventually(
        lambda: _when(progress(), lambda r: r["tasks_total"] == 3 and r["tasks_open"] == 3),
        what="reporting to see three open tasks")
    assert report["tasks_done"] == 0

    brief = next(task for task in tasks if task["key"] == "brief")
    response = await execution.http.post(f"/tasks/{brief['id']}/start", headers=auth("ben"))
    assert response.status_code == 200, response.text
    before_completion = datetime.now(UTC)
    response = await execution.http.post(f"/tasks/{brief['id']}/complete", headers=auth("ben"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "done"

    report = await eventually(lambda: _when(progress(), lambda r: r["tasks_done"] == 1),
                              what="reporting to see the completed task")
    assert report["percent_done"] == pytest.approx(33.3)

    # Point in time: the archive answers what progress looked like before ben finished.
    response = await reporting.http.get(
        f"/campaigns/{campaign_id}/progress",
        params={"as_of": before_completion.isoformat()}, headers=auth("anna"))
    assert response.status_code == 200, response.text
    assert (response.json()["tasks_open"], response.json()["tasks_done"]) == (3, 0)
    response = await reporting.http.get(f"/campaigns/{campaign_id}/progress",
                                        params={"as_of": "2026-01-01T00:00:00"},
                                        headers=auth("anna"))
    assert response.status_code == 422 and "time zone" in response.text
    response = await reporting.http.get(f"/campaigns/{campaign_id}/history", headers=auth("anna"))
    campaign_story = [event["type"].split(".", 2)[2] for event in response.json()["events"]]
    assert campaign_story[0] == "campaign.planned.v1"
    assert campaign_story.count("task.opened.v1") == 3
    assert campaign_story.count("task.completed.v1") == 1

    async def history() -> list[dict[str, Any]]:
        response = await reporting.http.get(f"/tasks/{brief['id']}/history",
                                            headers=auth("anna"))
        events: list[dict[str, Any]] = response.json().get("events", [])
        return events if len(events) == 5 else []

    events = await eventually(history, what="the task's five archived events")
    assert [event["type"] for event in events] == [
        "marketflow.execution.task.opened.v1",
        "marketflow.execution.task.ready.v1",
        "marketflow.execution.task.assigned.v1",
        "marketflow.execution.task.started.v1",
        "marketflow.execution.task.completed.v1",
    ]
    # Opening and assignment were caused by anna planning the campaign; ben did the work.
    assert [event["actor"] for event in events] == ["anna", "anna", "anna", "ben", "ben"]
    assert events[0]["causation_id"] == f"{campaign_id}:1"
    assert all(event["time"] for event in events)

    async def planning_sees_done() -> dict[str, Any] | None:
        response = await planning.http.get(f"/campaigns/{campaign_id}", headers=auth("anna"))
        statuses = {task["key"]: task["status"] for task in response.json()["tasks"]}
        return statuses if statuses["brief"] == "done" else None

    statuses = await eventually(planning_sees_done, what="planning to follow task progress")
    assert statuses == {"brief": "done", "visuals": "open", "post": "open"}

    await _independent_consumer_sees_cloudevents(env, brief["id"])
    await _every_message_sent_is_described_by_the_asyncapi_document(env)


async def _independent_consumer_sees_cloudevents(env: Environment, task_id: str) -> None:
    """What another system subscribing to execution's topic receives."""
    records = await read_topic(env.kafka_bootstrap, f"{env.namespace}.execution.events")
    mine = [record for record in records if record.key == task_id.encode()]
    assert len(mine) == 5, f"expected 5 messages keyed by the task id, got {len(mine)}"
    for record in mine:
        headers = {name: value.decode() for name, value in record.headers}
        assert headers["ce_specversion"] == "1.0"
        assert headers["content-type"] == "application/json"
        assert headers["ce_source"] == "/marketflow/execution"
        assert headers["ce_subject"] == task_id
        assert headers["ce_actor"] in {"anna", "ben"}
        assert headers["ce_id"] == f"{task_id}:{headers['ce_aggregateversion']}"
        EVENT_TYPES[headers["ce_type"]].model_validate(orjson.loads(record.value))
    assert len({record.partition for record in mine}) == 1, "one aggregate, one partition"
    assert [record.offset for record in mine] == sorted(record.offset for record in mine)


async def _every_message_sent_is_described_by_the_asyncapi_document(env: Environment) -> None:
    """What the services really sent, checked against the message the AsyncAPI document
    gives for its ce_type on its topic (headers, payload, key), by the document's parser."""
    sent = []
    for producer in ("planning", "execution", "notification"):
        records = await read_topic(env.kafka_bootstrap, f"{env.namespace}.{producer}.events")
        # The test's own namespace stands for the document's default one.
        sent += [record_message(record, topic(producer)) for record in records]
    assert {message["headers"]["ce_source"] for message in sent} >= {  # type: ignore[index]
        "/marketflow/planning", "/marketflow/execution", "/marketflow/notification"}
    result = check(messages=sent)
    assert result.returncode == 0, result.stderr
    assert f"{len(sent)} messages checked, 0 problem(s)" in result.stdout


async def _when(awaitable: Any, predicate: Any) -> Any:
    value = await awaitable
    return value if value and predicate(value) else None
