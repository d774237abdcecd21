"""What happens when things go wrong: restarts, crashes between commit and publish,
duplicate deliveries and poison messages. All against real Kafka and stores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import planning as planning_contract
from services.execution.domain import Task
from services.planning.domain import MemberProfile, TaskTemplate
from shared import cloudevents
from shared.runtime import ServiceRuntime, ensure_topics
from tests.harness import (
    Environment,
    RunningService,
    auth,
    count_events,
    eventually,
    plan_launch,
    publish_raw,
    read_topic,
    start_service,
)

pytestmark = pytest.mark.integration
ALL = ("planning", "execution", "notification", "reporting")


async def snapshot(services: dict[str, RunningService], campaign_id: str,
                   task_id: str) -> dict[str, Any]:
    """Everything the four services answer about one campaign."""
    planning, execution = services["planning"], services["execution"]
    notification, reporting = services["notification"], services["reporting"]
    return {
        "campaign": (await planning.http.get(f"/campaigns/{campaign_id}",
                                             headers=auth("anna"))).json(),
        "playbooks": (await planning.http.get("/playbooks", headers=auth("anna"))).json(),
        "board": (await execution.http.get("/tasks", params={"campaign_id": campaign_id},
                                           headers=auth("anna"))).json(),
        "notes": (await notification.http.get("/notifications", headers=auth("ben"))).json(),
        "progress": (await reporting.http.get(f"/campaigns/{campaign_id}/progress",
                                              headers=auth("anna"))).json(),
        "history": (await reporting.http.get(f"/tasks/{task_id}/history",
                                             headers=auth("anna"))).json(),
        "archive": (await reporting.http.get("/archive", headers=auth("anna"))).json(),
    }


async def test_restarted_services_rebuild_identical_state(env: Environment) -> None:
    services = {name: await start_service(env, name) for name in ALL}
    campaign = await plan_launch(services["planning"])
    task_id = next(t["task_id"] for t in campaign["tasks"] if t["key"] == "brief")
    execution = services["execution"]
    await eventually(lambda: _ok(execution.http.get(f"/tasks/{task_id}", headers=auth("ben"))),
                     what="the task to open")
    response = await execution.http.post(f"/tasks/{task_id}/start", headers=auth("ben"))
    assert response.status_code == 200, response.text
    response = await execution.http.post(f"/tasks/{task_id}/complete", headers=auth("ben"))
    assert response.status_code == 200, response.text

    async def settled() -> dict[str, Any] | None:
        state = await snapshot(services, campaign["id"], task_id)
        archived = state["archive"].get("archived_by_type", {})
        # the two assignees registered, playbook + campaign; 3 tasks opened, ready,
        # assigned, one started and completed; 3 notifications.
        done = (state["progress"].get("tasks_done") == 1 and len(state["notes"]) == 2
                and len(state["history"].get("events", [])) == 5
                and sum(archived.values()) == 2 + 2 + 3 * 3 + 2 + 3
                and any(t["status"] == "done" for t in state["campaign"]["tasks"]))
        return state if done else None

    before = await eventually(settled, what="all four services to settle")
    positions = {name: s.application.max_notification_id() for name, s in services.items()}
    for service in services.values():
        await service.stop()

    restarted = {name: await start_service(env, name) for name in ALL}
    try:
        after = await snapshot(restarted, campaign["id"], task_id)
        assert after == before
        # Re-reading topics from committed offsets applies nothing twice.
        for service in restarted.values():
            await service.runtime.relay.relay_once()  # type: ignore[union-attr]
        assert {name: s.application.max_notification_id()
                for name, s in restarted.items()} == positions
    finally:
        for service in restarted.values():
            await service.stop()


async def test_events_committed_before_a_crash_are_published_after_restart(
    sqlite_env: Environment,
) -> None:
    """The process dies after committing and before its relay published anything."""
    from shared.policy import Caller, Role

    PLANNER = Caller.person("anna", Role.ADMIN, Role.PLANNER)
    from services.planning import commands
    from services.planning.wiring import build as build_planning

    parts = build_planning(sqlite_env.settings("planning"))
    planning_app = parts.application
    playbook = planning_app.define_playbook(
        "Webinar", [TaskTemplate(key="invite", title="Send invites", role="writer",
                                 offset_days=-7)], PLANNER)
    planning_app.register_member(commands.RegisterMember("ben", MemberProfile(name="Ben")),
                                 PLANNER)
    campaign = planning_app.plan_campaign(commands.PlanCampaign(
        playbook.id, "Autumn webinar", launch_date=datetime(2027, 9, 1).date(),
        assignments={"writer": "ben"}), PLANNER)
    planning_app.close()  # "crash": nothing was relayed

    planning = await start_service(sqlite_env, "planning")
    execution = await start_service(sqlite_env, "execution")
    try:
        task_id = campaign.tasks[0].task_id
        await eventually(lambda: _ok(execution.http.get(f"/tasks/{task_id}",
                                                        headers=auth("ben"))),
                         what="execution to receive the campaign relayed after restart")
        assert count_events(execution, Task.Opened) == 1  # type: ignore[attr-defined]
    finally:
        await planning.stop()
        await execution.stop()


class RelayCrash(Exception):
    pass


async def test_relay_crash_after_publish_republishes_and_applies_once(
    env: Environment,
) -> None:
    """Kafka acknowledged the batch, then the process died before recording the position:
    the restarted relay publishes the same events again, consumers apply them once."""

    def crash_before_recording(runtime: ServiceRuntime) -> None:
        original = runtime.start

        async def start() -> None:
            await original()
            assert runtime.relay is not None

            async def crash(notification_id: int) -> None:
                # The members and the playbook are relayed normally; the process dies
                # after Kafka acknowledged the campaign, before recording that position.
                if notification_id >= (campaign_notification_id(runtime) or notification_id + 1):
                    raise RelayCrash(f"died before recording position {notification_id}")

            runtime.relay.before_recording_position = crash  # type: ignore[method-assign]

        runtime.start = start  # type: ignore[method-assign]

    execution = await start_service(env, "execution")
    planning = await start_service(env, "planning", customize=crash_before_recording)
    campaign = await plan_launch(planning)
    relay = planning.runtime.relay
    assert relay is not None
    await eventually(lambda: _async(relay.failures >= 1), what="the relay to fail after publish")
    inbox = execution.runtime.inbox
    assert inbox is not None
    opened = len(campaign["tasks"])
    await eventually(lambda: _async(count_events(execution, Task.Opened) == opened),  # type: ignore[attr-defined]
                     what="execution to apply the campaign")
    # Never recorded past the campaign (what came before may have shared its batch).
    campaign_id = campaign_notification_id(planning.runtime)
    assert campaign_id is not None
    assert (planning.application.recorder.max_tracking_id(relay.position_name) or 0) < campaign_id
    await planning.stop()
    duplicates_before = inbox.duplicates

    planning = await start_service(env, "planning")  # publishes everything again
    try:
        relay = planning.runtime.relay
        assert relay is not None
        await eventually(lambda: _async(relay.position >= planning.application
                                        .max_notification_id()), what="relay to catch up")
        # The campaign comes again.
        await eventually(lambda: _async(inbox.duplicates >= duplicates_before + 1),
                         what="execution to receive the re-published events")
        assert count_events(execution, Task.Opened) == len(campaign["tasks"])  # type: ignore[attr-defined]
        assert count_events(execution, Task.Assigned) == len(campaign["tasks"])  # type: ignore[attr-defined]
    finally:
        await planning.stop()
        await execution.stop()


def campaign_notification_id(runtime: ServiceRuntime) -> int | None:
    """Where planning's first campaign event sits in its notification log."""
    for notification in runtime.application.recorder.select_notifications(start=1, limit=100):
        if ":Campaign." in notification.topic:
            return notification.id
    return None


def campaign_message(sequence: int, campaign_id: uuid.UUID | None = None,
                     ) -> tuple[bytes, bytes, cloudevents.Headers]:
    campaign_id = campaign_id or uuid.uuid4()
    event = planning_contract.CampaignPlanned(
        campaign_id=campaign_id, name="Injected", playbook_id=uuid.uuid4(), playbook_version=1,
        launch_date=datetime(2027, 1, 15).date(),
        tasks=[planning_contract.PlannedTask(
            task_id=uuid.uuid5(campaign_id, "only"), key="only", title="Only task",
            role="writer", due_date=datetime(2027, 1, 10).date(), assignee_id="ben")],
    )
    envelope = cloudevents.Envelope(
        id=f"{campaign_id}:1", source="/marketflow/planning", type=event.event_type,
        time=datetime.now(UTC), subject=str(campaign_id), actor="anna", aggregate_version=1,
        sequence=sequence,
    )
    body, headers = cloudevents.encode(envelope, event)
    return str(campaign_id).encode(), body, headers


async def test_duplicate_delivery_is_applied_once(env: Environment) -> None:
    await ensure_topics(env.settings("planning"), env.settings("planning").topic())
    key, body, headers = campaign_message(sequence=1)
    # The very same message, three times.
    await publish_raw(env.kafka_bootstrap, f"{env.namespace}.planning.events",
                      [(key, body, headers)] * 3)

    execution = await start_service(env, "execution")
    try:
        inbox = execution.runtime.inbox
        assert inbox is not None
        await eventually(lambda: _async(inbox.applied + inbox.duplicates == 3),
                         what="all three deliveries")
        assert (inbox.applied, inbox.duplicates) == (1, 2)
        assert count_events(execution, Task.Opened) == 1  # type: ignore[attr-defined]
        assert count_events(execution, Task.Assigned) == 1  # type: ignore[attr-defined]
    finally:
        await execution.stop()


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_consumer_moves_on(
    sqlite_env: Environment,
) -> None:
    env = sqlite_env
    settings = env.settings("planning")
    await ensure_topics(settings, settings.topic())
    topic = settings.topic()
    good_key, good_body, good_headers = campaign_message(sequence=10)
    key = good_key  # same key: same partition, so the good one queues behind the poison
    unknown = [(n, v.replace(b"campaign.planned.v1", b"campaign.exploded.v9")
                if n == "ce_type" else v) for n, v in good_headers]
    poison: list[tuple[bytes, list[tuple[str, bytes]], str]] = [
        (b"\x00\xff not json", good_headers, "undecodable-body"),
        (good_body, unknown, "unknown-type"),
        (b'{"campaign_id": "not-a-uuid"}', good_headers, "invalid-payload"),
        (good_body, [("content-type", b"application/json")], "missing-attributes"),
    ]
    await publish_raw(env.kafka_bootstrap, topic,
                      [(key, body, headers) for body, headers, _ in poison]
                      + [(good_key, good_body, good_headers)])

    execution = await start_service(env, "execution")
    try:
        inbox = execution.runtime.inbox
        assert inbox is not None
        await eventually(lambda: _async(inbox.applied == 1), what="the good message after poison")
        assert inbox.dead_lettered == len(poison)
        assert count_events(execution, Task.Opened) == 1  # type: ignore[attr-defined]
    finally:
        await execution.stop()

    dead = await read_topic(env.kafka_bootstrap, topic + ".dlq")
    reasons = [dict(record.headers)["dlq_reason"].decode() for record in dead]
    assert reasons == [reason for _, _, reason in poison]
    for record in dead:
        headers = dict(record.headers)
        assert headers["dlq_consumer"] == b"execution"
        assert headers["dlq_original_topic"] == topic.encode()
        assert headers["dlq_detail"]


async def _ok(request: Any) -> bool:
    return bool((await request).status_code == 200)


async def _async(value: bool) -> bool:
    return value
