"""`marketflow dlq replay`: a dead letter, as the inbox writes it, goes back on its
original topic once (same key, body and other headers, no dlq_* headers); a dry run
changes nothing; a second run replays nothing; what is dead-lettered later is replayed
by the next run. Real Kafka."""

from __future__ import annotations

import asyncio
import re

from typer.testing import CliRunner

from services.cli import app as cli
from shared.runtime import ensure_topics
from tests.harness import Environment, RawMessage, publish_raw, read_topic

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
