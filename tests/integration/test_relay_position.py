"""The relay writes its position when it publishes: notifications that publish nothing
(most of reporting's log) move it in memory only, up to a bound, so a service that
publishes little does not pay a store write per batch for it. Real Kafka, both stores."""

from __future__ import annotations

from typing import Any

import pytest

from services.planning import commands
from services.planning.application import PlanningApplication
from services.planning.domain import MemberProfile
from services.planning.wiring import build as build_planning
from shared import outbox
from shared.outbox import OutboxRelay
from shared.policy import Caller, Role
from shared.runtime import ensure_topics, new_producer
from tests.harness import Environment, read_topic

pytestmark = pytest.mark.integration
ADMIN = Caller.person("anna", Role.ADMIN)


async def test_the_position_is_written_with_what_the_relay_publishes(
    env: Environment, monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = env.settings("planning")
    await ensure_topics(settings, settings.topic())
    parts = build_planning(settings)
    app = parts.application
    assert isinstance(app, PlanningApplication)
    publishing = False

    def translate(domain_event: Any) -> Any:
        return parts.translate(domain_event) if publishing else None

    def relay() -> OutboxRelay:
        return OutboxRelay(app, lambda: new_producer(settings, "relay"), translate)

    def register(member_id: str) -> None:
        app.register_member(commands.RegisterMember(member_id, MemberProfile(name=member_id)),
                            ADMIN)

    def recorded(relay: OutboxRelay) -> int:
        return app.recorder.max_tracking_id(relay.position_name) or 0

    first = relay()
    try:
        for member_id in ("ben", "carla"):
            register(member_id)
        head = app.max_notification_id()
        assert await first.relay_once() == head
        assert first.position == head
        assert recorded(first) == 0  # nothing published: nothing written

        # Past the bound, the position is written even though nothing was published.
        monkeypatch.setattr(outbox, "POSITION_WRITE_DISTANCE", head + 1)
        register("dana")
        await first.relay_once()
        assert recorded(first) == first.position == app.max_notification_id()

        register("emil")  # within the bound of the written position: memory only
        written = recorded(first)
        await first.relay_once()
        assert first.position == app.max_notification_id() > written == recorded(first)

        publishing = True
        register("fred")
        await first.relay_once()
        assert recorded(first) == first.position == app.max_notification_id()
    finally:
        await first._discard_producer()

    # Only fred's registration was published, once; a relay started now begins after it.
    published = await read_topic(env.kafka_bootstrap, settings.topic())
    assert len(published) == 1 and b'"fred"' in published[0].value
    assert relay()._recorded_position() == app.max_notification_id()
    app.close()
