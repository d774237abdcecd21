"""`marketflow dlq replay`: a dead letter, as the inbox writes it, goes back on its
original topic once (same key, body and other headers, no dlq_* headers); a dry run
changes nothing; a second run replays nothing; what is dead-lettered later is replayed
by the next run. Real Kafka."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from typing import Any

import pytest
from typer.testing import CliRunner

from contracts import execution
from services.cli import app as cli
from shared import cloudevents
from shared.runtime import ensure_topics
from tests.harness import (
    Environment,
    RawMessage,
    auth,
    eventually,
    publish_raw,
    read_topic,
    start_service,
)

ORIGINAL_HEADERS = [("ce_id", b"c-1:1"), ("ce_type", b"marketflow.planning.x.v1"),
                    ("ce_subject", b"c-1"), ("content-type", b"application/json"),
                    ("odd", b"\xff\xfe")]


def dead_letter(key: bytes, body: bytes, offset: int, reason: str, topic: str,
                body_dropped: bool = False) -> RawMessage:
    """What ``Inbox.dead_letter`` writes for a message read at ``topic``:0:``offset``."""
    headers = [*ORIGINAL_HEADERS,
               ("dlq_reason", reason.encode()), ("dlq_detail", b"it was wrong"),
               ("dlq_consumer", b"execution"), ("dlq_original_topic", topic.encode()),
               ("dlq_original_partition", b"0"), ("dlq_original_offset", str(offset).encode())]
    if body_dropped:
        return b"", b"", [(n, v) for n, v in headers if n.startswith("dlq_")] + [
            ("dlq_body_dropped", b"2000000")]
    return key, body, headers


async def run_cli(env: Environment, *args: str) -> tuple[int, str]:
    def invoke() -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), env={
            "MARKETFLOW_KAFKA_BOOTSTRAP": env.kafka_bootstrap,
            "MARKETFLOW_NAMESPACE": env.namespace, "COLUMNS": "250"})
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    # The command runs its own event loop (asyncio.run): not on the test's.
    return await asyncio.to_thread(invoke)


async def test_replay_puts_dead_letters_back_once(sqlite_env: Environment) -> None:
    settings = sqlite_env.settings("planning")
    topic = settings.topic()
    await ensure_topics(settings, topic)
    await publish_raw(sqlite_env.kafka_bootstrap, topic + ".dlq", [
        dead_letter(b"c-1", b'{"fixed": "later"}', 17, "invalid-payload", topic),
        dead_letter(b"", b"", 18, "invalid-payload", topic, body_dropped=True)])

    code, output = await run_cli(sqlite_env, "dlq", "replay", "planning", "--dry-run")
    assert code == 0, output
    assert re.search(rf"{re.escape(topic)}\s.*\b0\s.*\b17\s.*invalid-payload.*would replay",
                     output), output
    assert "skipped: body dropped" in output
    assert "2 dead letters" in output and "1 would replay" in output
    assert await read_topic(sqlite_env.kafka_bootstrap, topic) == []

    code, output = await run_cli(sqlite_env, "dlq", "replay", "planning")
    assert code == 0, output
    assert "1 replayed" in output
    [replayed] = await read_topic(sqlite_env.kafka_bootstrap, topic)
    assert replayed.key == b"c-1" and replayed.value == b'{"fixed": "later"}'
    assert list(replayed.headers) == ORIGINAL_HEADERS

    code, output = await run_cli(sqlite_env, "dlq", "replay", "planning")
    assert code == 0, output
    assert "0 dead letters" in output
    assert len(await read_topic(sqlite_env.kafka_bootstrap, topic)) == 1

    # Dead-lettered after the replay: the next run takes only that one.
    await publish_raw(sqlite_env.kafka_bootstrap, topic + ".dlq", [
        dead_letter(b"c-2", b"{}", 19, "unknown-type", topic)])
    code, output = await run_cli(sqlite_env, "dlq", "replay", "planning")
    assert code == 0, output
    assert "1 dead letters" in output and "1 replayed" in output
    assert sorted(r.key for r in await read_topic(sqlite_env.kafka_bootstrap, topic)) == [
        b"c-1", b"c-2"]


async def test_an_unknown_producer_is_refused(sqlite_env: Environment) -> None:
    code, output = await run_cli(sqlite_env, "dlq", "replay", "billing")
    assert code == 2 and "unknown producer 'billing'" in output


def task_assigned(assignee: str) -> RawMessage:
    """execution's task.assigned, as its relay would publish it."""
    task_id = uuid.uuid4()
    event = execution.TaskAssigned(task_id=task_id, campaign_id=uuid.uuid4(),
                                   title="Launch post", assignee_id=assignee,
                                   due_date=dt.date.today())
    envelope = cloudevents.Envelope(
        id=f"{task_id}:3", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="anna",
        aggregate_version=3, sequence=7)
    body, headers = cloudevents.encode(envelope, event)
    return str(task_id).encode(), body, headers


async def test_a_dead_letter_is_applied_once_after_the_fix(
        sqlite_env: Environment, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real consumer (notification) dead-letters a valid message because of its own bug
    (a handler raising ValueError: "unprocessable"); once the bug is fixed, the replay
    puts the message back and notification applies it, once: a second replay has nothing
    to put back, and a redelivery of the same message is dropped as a duplicate."""
    topic = sqlite_env.settings("execution").topic()
    await ensure_topics(sqlite_env.settings("execution"), topic)
    notification = await start_service(sqlite_env, "notification")
    try:
        inbox = notification.runtime.inbox
        assert inbox is not None
        handlers = notification.application.handlers
        fixed = handlers[execution.TaskAssigned]

        def buggy(app: Any, inbound: cloudevents.InboundEvent, processing_event: Any) -> None:
            raise ValueError("a bug in the task.assigned rule")

        monkeypatch.setitem(handlers, execution.TaskAssigned, buggy)
        message = task_assigned("ben")
        await publish_raw(sqlite_env.kafka_bootstrap, topic, [message])

        async def dead_lettered() -> list[Any] | None:
            records = await read_topic(sqlite_env.kafka_bootstrap, topic + ".dlq")
            return records or None

        [letter] = await eventually(dead_lettered, timeout=10, what="the dead letter")
        reasons = {name: value.decode() for name, value in letter.headers
                   if name.startswith("dlq_")}
        assert reasons["dlq_reason"] == "unprocessable"
        assert reasons["dlq_consumer"] == "notification"
        assert "a bug in the task.assigned rule" in reasons["dlq_detail"]
        assert (inbox.applied, inbox.dead_lettered) == (0, 1)

        async def ben_notifications() -> list[dict[str, Any]]:
            response = await notification.http.get("/notifications", headers=auth("ben"))
            assert response.status_code == 200, response.text
            rows: list[dict[str, Any]] = response.json()
            return rows

        assert await ben_notifications() == []

        # The fix is deployed; the dead letter goes back on execution's topic.
        handlers[execution.TaskAssigned] = fixed
        code, output = await run_cli(sqlite_env, "dlq", "replay", "execution")
        assert code == 0, output
        assert "1 dead letters" in output and "1 replayed" in output, output

        [note] = await eventually(ben_notifications, timeout=10, what="ben's notification")
        assert note["kind"] == "task.assigned" and "Launch post" in note["text"]
        assert (inbox.applied, inbox.dead_lettered) == (1, 1)

        # Nothing left to replay; the same message delivered again changes nothing.
        code, output = await run_cli(sqlite_env, "dlq", "replay", "execution")
        assert code == 0, output
        assert "0 dead letters" in output, output
        await publish_raw(sqlite_env.kafka_bootstrap, topic, [message])

        async def dropped() -> bool:
            return inbox.duplicates == 1

        await eventually(dropped, timeout=10, what="the redelivery to be dropped")
        assert (inbox.applied, inbox.dead_lettered) == (1, 1)
        assert [row["id"] for row in await ben_notifications()] == [note["id"]]
        assert len(await read_topic(sqlite_env.kafka_bootstrap, topic + ".dlq")) == 1
    finally:
        await notification.stop()
