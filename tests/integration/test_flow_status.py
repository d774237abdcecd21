"""/health/status on the real broker: a message Kafka refuses shows as a stalled relay
naming its notification, readiness stays up, and the relay resumes by itself once the
topic takes it; commits wake relays at once (in-process, and across replicas through
PostgreSQL NOTIFY) without waiting for the fallback poll."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts import planning as planning_contract
from shared import cloudevents
from shared.config import Settings
from shared.runtime import ensure_topics
from tests.harness import (
    LAUNCH_PLAYBOOK,
    Environment,
    RawMessage,
    RunningService,
    auth,
    eventually,
    plan_launch,
    publish_raw,
    read_topic,
    start_service,
    tuned,
)

pytestmark = pytest.mark.integration

SMALL_TOPIC_LIMIT = 4096
TOPIC_PARTITIONS = Settings.topic_partitions
# The relay never needs its fallback poll in these tests: only wake-ups can move it.
NO_POLL = 600.0


async def set_topic_limit(bootstrap: str, topic: str, max_message_bytes: int,
                          create: bool = False, partitions: int = TOPIC_PARTITIONS) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        config = {"max.message.bytes": str(max_message_bytes)}
        if create:
            # As many partitions as the services are configured for: fewer are refused.
            await admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                                replication_factor=1, topic_configs=config)])
        else:
            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                      configs=config)])
    finally:
        await admin.close()


async def status_of(service: RunningService) -> tuple[int, dict[str, Any]]:
    response = await service.http.get("/health/status")
    return response.status_code, response.json()


async def define(service: RunningService, incompressible: bool = False) -> int:
    body: dict[str, Any] = dict(LAUNCH_PLAYBOOK)
    if incompressible:  # well within the service's limits, over the small topic's
        body["tasks"] = [{**task, "description": secrets.token_urlsafe(2900)}
                         for task in body["tasks"]]
    response = await service.http.post("/playbooks", json=body, headers=auth("anna"))
    assert response.status_code == 201, response.text
    return int(service.application.max_notification_id())


async def test_a_refused_message_stalls_the_relay_visibly_until_the_topic_takes_it(
    sqlite_env: Environment,
) -> None:
    # One partition (and a service configured for one), so the topic's order is the
    # relay's: everything queues behind the refused message and follows it in order.
    env = tuned(sqlite_env, stall_seconds=1.0, topic_partitions=1)
    topic = env.settings("planning").topic()
    await set_topic_limit(env.kafka_bootstrap, topic, SMALL_TOPIC_LIMIT, create=True,
                          partitions=1)
    planning = await start_service(env, "planning")
    try:
        relay = planning.runtime.relay
        assert relay is not None
        first = await define(planning)
        await eventually(lambda: _true(relay.position >= first), what="a small event relayed")
        refused = await define(planning, incompressible=True)
        behind = await define(planning)

        async def stalled() -> dict[str, Any] | None:
            code, body = await status_of(planning)
            return body if code == 503 and body["relay"]["state"] == "stalled" else None

        report = await eventually(stalled, what="the relay to show as stalled")
        assert report["status"] == "degraded"
        assert report["relay"]["blocked_at"] == refused
        assert report["relay"]["position"] == refused - 1
        assert report["relay"]["lag"] == behind - refused + 1
        assert "MessageSizeTooLarge" in report["relay"]["last_error"]
        assert report["relay"]["stalled_since"] is not None
        ready = await planning.http.get("/health/ready")
        assert ready.status_code == 200, ready.text

        await set_topic_limit(env.kafka_bootstrap, topic, 1_048_576)

        async def recovered() -> dict[str, Any] | None:
            code, body = await status_of(planning)
            relay_status = body["relay"]
            caught_up = relay_status["lag"] == 0 and relay_status["state"] == "healthy"
            return body if code == 200 and caught_up else None

        report = await eventually(recovered, what="the relay to resume by itself")
        assert report["relay"]["position"] == behind
        sequences = [int(dict(record.headers)["ce_sequence"])
                     for record in await read_topic(env.kafka_bootstrap, topic)]
        assert sequences == list(range(1, behind + 1)), "each event once, in order"
    finally:
        await planning.stop()


async def test_commits_wake_the_relays_without_the_fallback_poll(
    sqlite_env: Environment,
) -> None:
    """An HTTP command (planning), an inbound batch (execution) and the notification that
    follows all travel although no relay polls on its own."""
    env = tuned(sqlite_env, relay_poll_seconds=NO_POLL)
    services = [await start_service(env, name)
                for name in ("planning", "execution", "notification")]
    planning, _, notification = services
    try:
        await plan_launch(planning)

        async def notified() -> list[Any] | None:
            response = await notification.http.get("/notifications", headers=auth("ben"))
            return response.json() or None

        await eventually(notified, what="ben's notification, through two woken relays")
    finally:
        for service in services:
            await service.stop()


async def test_a_commit_on_one_replica_wakes_the_leading_relay_on_another(
    postgres_env: Environment,
) -> None:
    env = tuned(postgres_env, relay_poll_seconds=NO_POLL)
    first = await start_service(env, "planning")
    second = await start_service(env, "planning")
    try:
        relays = [first.runtime.relay, second.runtime.relay]
        assert relays[0] is not None and relays[1] is not None
        await eventually(lambda: _true(any(r.leading for r in relays)),  # type: ignore[union-attr]
                         what="one replica to lead")
        leader, standby = (first, second) if relays[0].leading else (second, first)
        leader_relay = leader.runtime.relay
        assert leader_relay is not None
        committed = await define(standby)  # committed where no relay runs
        await eventually(lambda: _true(leader_relay.position >= committed),
                         what="the leader to be woken by the standby's commit")
        code, report = await status_of(standby)
        assert code == 200, report
        assert report["relay"]["state"] == "standby" and not report["relay"]["leading"]
        await eventually(lambda: _standby_sees(standby, committed),
                         what="the standby to report the leader's recorded position")
    finally:
        await first.stop()
        await second.stop()


def planned(sequence: int, title: str) -> RawMessage:
    campaign_id = uuid.uuid4()
    event = planning_contract.CampaignPlanned(
        campaign_id=campaign_id, name="C", playbook_id=uuid.uuid4(), playbook_version=1,
        launch_date=dt.date(2027, 1, 15),
        tasks=[planning_contract.PlannedTask(
            task_id=uuid.uuid5(campaign_id, "only"), key="only", title=title,
            role="writer", due_date=dt.date(2027, 1, 10), assignee_id="ben")],
    )
    envelope = cloudevents.Envelope(
        id=f"{campaign_id}:1", source="/marketflow/planning", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(campaign_id), actor="anna",
        aggregate_version=1, sequence=sequence)
    body, headers = cloudevents.encode(envelope, event)
    return str(campaign_id).encode(), body, headers


async def test_an_inbound_event_that_would_need_an_oversized_event_is_dead_lettered(
    sqlite_env: Environment,
) -> None:
    """The event size guard refuses the handling; the inbox dead-letters the message
    with the reason and moves on instead of retrying it forever."""
    env = tuned(sqlite_env, kafka_max_message_bytes=1_400)  # events up to 700 bytes
    upstream = env.settings("planning").topic()
    await ensure_topics(sqlite_env.settings("planning"), upstream)  # the default limits
    await publish_raw(env.kafka_bootstrap, upstream,
                      [planned(1, "x" * 200), planned(2, "Short")])
    execution = await start_service(env, "execution")
    try:
        inbox = execution.runtime.inbox
        assert inbox is not None
        await eventually(lambda: _true(inbox.applied == 1 and inbox.dead_lettered == 1),
                         what="the oversized one dead-lettered, the next one applied")
        [dead] = await read_topic(env.kafka_bootstrap, upstream + ".dlq")
        headers = dict(dead.headers)
        assert headers["dlq_reason"] == b"refused-by-domain"
        assert b"the limit is 700 bytes per event" in headers["dlq_detail"]
    finally:
        await execution.stop()


async def _standby_sees(standby: RunningService, committed: int) -> bool:
    _, report = await status_of(standby)
    return bool(report["relay"]["position"] >= committed and report["relay"]["lag"] == 0)


async def _true(value: bool) -> bool:
    return value
