"""Two replicas of one service on one PostgreSQL store: one relays, the other stands by
and takes over when the leader goes away. Every event reaches Kafka once."""

from __future__ import annotations

import pytest

from tests.harness import Environment, eventually, plan_launch, read_topic, start_service

pytestmark = pytest.mark.integration


async def messages_on(env: Environment, topic: str) -> list[str]:
    return [dict(record.headers)["ce_id"].decode()
            for record in await read_topic(env.kafka_bootstrap, topic)]


async def test_only_the_leader_relays_and_a_standby_takes_over(postgres_env: Environment
                                                               ) -> None:
    env = postgres_env
    first = await start_service(env, "planning")
    second = await start_service(env, "planning")
    running = [first, second]
    topic = first.settings.topic()
    try:
        assert first.runtime.relay is not None and second.runtime.relay is not None
        await eventually(lambda: _true(first.runtime.relay.leading or  # type: ignore[union-attr]
                                       second.runtime.relay.leading),  # type: ignore[union-attr]
                         what="one replica to lead")
        leader, standby = (first, second) if first.runtime.relay.leading else (second, first)
        assert not standby.runtime.relay.leading  # type: ignore[union-attr]

        await plan_launch(standby)  # written by the standby, relayed by the leader
        committed = standby.application.max_notification_id()
        await eventually(lambda: _true(leader.runtime.relay.position >= committed),  # type: ignore[union-attr]
                         what="the leader to relay the standby's writes")

        await leader.stop()
        running.remove(leader)
        await eventually(lambda: _true(standby.runtime.relay.leading),  # type: ignore[union-attr]
                         what="the standby to take over")
        await plan_launch(standby)
        committed = standby.application.max_notification_id()
        await eventually(lambda: _true(standby.runtime.relay.position >= committed),  # type: ignore[union-attr]
                         what="the new leader to relay")
        ids = await messages_on(env, topic)
        # two assignees registered (the second launch's identical PUTs record nothing),
        # two playbooks and two campaigns
        assert len(ids) == 6, ids
        assert len(set(ids)) == len(ids), "an event was published twice"
    finally:
        for service in running:
            await service.stop()


async def _true(value: bool) -> bool:
    return value
