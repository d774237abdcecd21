"""One message cannot split or stop a consumer: forged, overflowing, undecodable and
impostor messages, published by an independent producer into the upstream topic of a
running service, are dead-lettered with their reason (or, when they are indistinguishable
from a genuine event, applied once like one), and every real event after them is still
applied exactly once. Real Kafka, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiokafka.partitioner import murmur2

from contracts import planning as planning_contract
from services.execution.domain import Task
from shared import cloudevents
from shared.runtime import ensure_topics
from tests.harness import (
    LAUNCH_PLAYBOOK,
    Environment,
    RawMessage,
    RunningService,
    auth,
    count_events,
    eventually,
    plan_launch,
    publish_raw,
    read_topic,
    start_service,
)
from tests.integration.test_faults import campaign_message

pytestmark = pytest.mark.integration
# Measurements dated in the future are refused: yesterday, whenever the test runs.
MEASURED_ON = date.today() - timedelta(days=1)
REAL_CAMPAIGNS = 5
TASKS = len(LAUNCH_PLAYBOOK["tasks"])


def key_on(partition: int, partitions: int) -> uuid.UUID:
    """An aggregate id whose messages land on ``partition`` (Kafka's default partitioner)."""
    while True:
        candidate = uuid.uuid4()
        if (murmur2(str(candidate).encode()) & 0x7FFFFFFF) % partitions == partition:
            return candidate


def set_header(message: RawMessage, name: str, value: bytes) -> RawMessage:
    key, body, headers = message
    return key, body, [(n, value if n == name else v) for n, v in headers]


def poison_for(partition: int, partitions: int) -> tuple[list[RawMessage], list[str]]:
    """What arrives on one partition before the real events: messages, and the reasons
    they must be dead-lettered for (one forged, genuine-looking event is applied)."""
    forged_id = key_on(partition, partitions)
    # A valid event with a forged position far ahead: it used to become the partition's
    # high-water mark and hide everything after it. Now its sequence means nothing.
    forged = campaign_message(sequence=2**63 - 1, campaign_id=forged_id)
    impostor = campaign_message(sequence=1, campaign_id=forged_id)  # same ce_id,
    impostor = (impostor[0], impostor[1].replace(b"Injected", b"Hijacked"), impostor[2])
    wrong_key = campaign_message(sequence=3, campaign_id=key_on(partition, partitions))
    messages_and_reasons: list[tuple[RawMessage, str]] = [
        (set_header(campaign_message(sequence=1, campaign_id=key_on(partition, partitions)),
                    "ce_sequence", str(10**20).encode()), "invalid-attributes"),
        (set_header(campaign_message(sequence=2, campaign_id=key_on(partition, partitions)),
                    "ce_aggregateversion", str(2**63).encode()), "invalid-attributes"),
        (set_header(campaign_message(sequence=3, campaign_id=key_on(partition, partitions)),
                    "ce_actor", b"\xff\xfe not utf-8"), "undecodable-header"),
        (set_header(campaign_message(sequence=4, campaign_id=key_on(partition, partitions)),
                    "ce_source", b"/marketflow/execution"), "source-mismatch"),
        (set_header(campaign_message(sequence=5, campaign_id=key_on(partition, partitions)),
                    "ce_id", f"{uuid.uuid4()}:1".encode()), "id-mismatch"),
        ((str(key_on(partition, partitions)).encode(), wrong_key[1], wrong_key[2]),
         "key-mismatch"),
        (forged, ""),
        (impostor, "conflicting-duplicate"),
    ]
    return ([message for message, _ in messages_and_reasons],
            [reason for _, reason in messages_and_reasons if reason])


async def tasks_of(execution: RunningService, campaign: dict[str, Any]) -> list[Any]:
    response = await execution.http.get("/tasks", params={"campaign_id": campaign["id"]},
                                        headers=auth("anna"))
    assert response.status_code == 200, response.text
    tasks: list[Any] = response.json()
    return tasks


async def test_no_single_message_hides_or_stops_the_events_after_it(env: Environment
                                                                     ) -> None:
    settings = env.settings("planning")
    topic = settings.topic()
    await ensure_topics(settings, topic)
    partitions = settings.topic_partitions
    planning = await start_service(env, "planning")
    execution = await start_service(env, "execution")
    try:
        inbox = execution.runtime.inbox
        assert inbox is not None
        messages: list[RawMessage] = []
        reasons: list[str] = []
        for partition in range(partitions):
            more_messages, more_reasons = poison_for(partition, partitions)
            messages += more_messages
            reasons += more_reasons
        await publish_raw(env.kafka_bootstrap, topic, messages)

        campaigns = [await plan_launch(planning) for _ in range(REAL_CAMPAIGNS)]
        # Every real campaign reaches execution: its tasks exist, once.
        for campaign in campaigns:
            await eventually(lambda c=campaign: _has(tasks_of(execution, c), TASKS),  # type: ignore[misc]
                             what=f"the tasks of campaign {campaign['id']}")
        await eventually(lambda: _true(inbox.dead_lettered == len(reasons)),
                         what="every poison message to be dead-lettered")
        forged_tasks = partitions  # one task per forged campaign
        assert count_events(execution, Task.Opened) == REAL_CAMPAIGNS * TASKS + forged_tasks  # type: ignore[attr-defined]
        for campaign in campaigns:
            assert len(await tasks_of(execution, campaign)) == TASKS

        # The relay's copy of a real event, re-published with a forged position: applied
        # once all the same; and what follows it still arrives.
        real = [record for record in await read_topic(env.kafka_bootstrap, topic)
                if dict(record.headers).get("ce_subject") == campaigns[0]["id"].encode()]
        assert len(real) == 1
        duplicates_before = inbox.duplicates
        copy: RawMessage = (real[0].key or b"", real[0].value or b"", [
            (n, str(2**62).encode() if n == "ce_sequence" else v) for n, v in real[0].headers])
        await publish_raw(env.kafka_bootstrap, topic, [copy])
        latest = await plan_launch(planning)
        await eventually(lambda: _has(tasks_of(execution, latest), TASKS),
                         what="a campaign planned after the re-published copy")
        await eventually(lambda: _true(inbox.duplicates > duplicates_before),
                         what="the copy to be dropped as a duplicate")
        assert count_events(execution, Task.Opened) == (REAL_CAMPAIGNS + 1) * TASKS + forged_tasks  # type: ignore[attr-defined]
    finally:
        await execution.stop()
        await planning.stop()

    dead = await read_topic(env.kafka_bootstrap, topic + ".dlq")
    assert Counter(dict(record.headers)["dlq_reason"].decode() for record in dead) \
        == Counter(reasons)
    for record in dead:
        headers = dict(record.headers)
        # The DLQ's own headers are always readable by its readers...
        for name, value in headers.items():
            if name.startswith("dlq_"):
                value.decode()
        assert headers["dlq_consumer"] == b"execution"
        assert headers["dlq_original_topic"] == topic.encode()
        assert int(headers["dlq_original_offset"]) >= 0
        assert headers["dlq_detail"]
        if headers["dlq_reason"] == b"undecodable-header":
            # ...while an original header is copied as the bytes it was.
            assert headers["ce_actor"] == b"\xff\xfe not utf-8"


def crm_message(goal_id: str, *, external_id: str, source: str = "/crm",
                event: Any = None) -> RawMessage:
    event = event or planning_contract.KpiMeasurementReported(
        goal_id=uuid.UUID(goal_id), value=20, measured_on=MEASURED_ON, source="crm",
        external_id=external_id)
    envelope = cloudevents.Envelope(
        id=f"crm-{external_id}", source=source, type=event.event_type, time=datetime.now(UTC),
        subject=goal_id, actor="system:crm", aggregate_version=1, sequence=1)
    body, headers = cloudevents.encode(envelope, event)
    return goal_id.encode(), body, headers


async def test_other_systems_cannot_speak_for_marketflow_on_their_topic(
    sqlite_env: Environment,
) -> None:
    env = sqlite_env
    planning = await start_service(env, "planning")
    topic = f"{env.namespace}.crm.events"
    try:
        response = await planning.http.post("/goals", headers=auth("anna"), json={
            "name": "Leads", "kind": "sales_support", "weight": 40,
            "kpi": {"name": "leads", "unit": "leads", "target": 200,
                    "period_start": (MEASURED_ON - timedelta(days=30)).isoformat(),
                    "period_end": (MEASURED_ON + timedelta(days=150)).isoformat()}})
        assert response.status_code == 201, response.text
        goal_id = response.json()["id"]
        campaign_id = uuid.uuid4()
        planned = planning_contract.CampaignPlanned(
            campaign_id=campaign_id, name="Smuggled", playbook_id=uuid.uuid4(),
            playbook_version=1, launch_date=date(2027, 1, 15), tasks=[])
        await publish_raw(env.kafka_bootstrap, topic, [
            crm_message(goal_id, external_id="1", source="/marketflow/planning"),
            crm_message(str(campaign_id), external_id="2", event=planned),
            crm_message(goal_id, external_id="3"),
            crm_message(goal_id, external_id="3"),  # redelivered
        ])

        async def measured() -> dict[str, Any] | None:
            goal = (await planning.http.get(f"/goals/{goal_id}", headers=auth("anna"))).json()
            return goal if goal["measurements"] else None

        goal = await eventually(measured, what="the genuine measurement")
        inbox = planning.runtime.inbox
        assert inbox is not None
        await eventually(lambda: _true(inbox.dead_lettered == 2 and inbox.duplicates == 1),
                         what="the two impostors dead-lettered and the copy dropped")
        assert len(goal["measurements"]) == 1
    finally:
        await planning.stop()
    dead = await read_topic(env.kafka_bootstrap, topic + ".dlq")
    assert sorted(dict(record.headers)["dlq_reason"] for record in dead) == [
        b"source-mismatch", b"type-mismatch"]


async def _has(tasks: Any, count: int) -> bool:
    return len(await tasks) == count


async def _true(value: bool) -> bool:
    return value
