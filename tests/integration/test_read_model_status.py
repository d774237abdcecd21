"""A read model that cannot fold what was committed is not silent: queries answer 503
naming it, /health/status shows it retrying and then stalled with the error, readiness
is unaffected, and everything recovers by itself once it can fold again."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from contracts import execution as contract
from shared import cloudevents
from tests.harness import Environment, auth, eventually, publish_raw, start_service, tuned

pytestmark = pytest.mark.integration


def assigned(sequence: int) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    task_id = uuid.uuid4()
    event = contract.TaskAssigned(task_id=task_id, campaign_id=uuid.uuid4(), assignee_id="ben",
                                  title="Write the brief", due_date=dt.date(2027, 3, 1))
    envelope = cloudevents.Envelope(
        id=f"{task_id}:3", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="anna",
        aggregate_version=3, sequence=sequence)
    body, headers = cloudevents.encode(envelope, event)
    return str(task_id).encode(), body, headers


async def test_a_read_model_that_cannot_fold_shows_degraded_and_recovers(
        sqlite_env: Environment) -> None:
    env = tuned(sqlite_env, stall_seconds=1.0)
    notification = await start_service(env, "notification")
    try:
        [inbox] = [view for view in notification.runtime.parts.views
                   if view.name == "notification.inbox"]

        def broken(sql: Any) -> None:
            raise RuntimeError("disk quota exceeded")

        inbox.finish = broken  # type: ignore[method-assign]  # every page's fold fails
        await publish_raw(env.kafka_bootstrap, env.settings("execution").topic(),
                          [assigned(1)])

        async def read_model(state: str) -> dict[str, Any] | None:
            response = await notification.http.get("/health/status")
            status: dict[str, Any] = response.json()
            [model] = [model for model in status["read_models"]
                       if model["name"] == "notification.inbox"]
            return status | {"model": model, "code": response.status_code} \
                if model["state"] == state else None

        stalled = await eventually(lambda: read_model("stalled"),
                                   what="the read model to show as stalled")
        assert stalled["code"] == 503 and stalled["status"] == "degraded"
        assert stalled["model"]["name"] == "notification.inbox"
        assert stalled["model"]["lag"] >= 1
        assert "disk quota exceeded" in stalled["model"]["last_error"]
        assert (await notification.http.get("/health/ready")).status_code == 200
        response = await notification.http.get("/notifications", headers=auth("ben"))
        assert response.status_code == 503
        assert "notification.inbox" in response.text and "disk quota" in response.text

        del inbox.finish  # fixed (e.g. space freed): the follower retries by itself
        await eventually(lambda: read_model("healthy"), what="the read model to recover")
        response = await notification.http.get("/notifications", headers=auth("ben"))
        assert response.status_code == 200
        assert [note["kind"] for note in response.json()] == ["task.assigned"]
    finally:
        await notification.stop()
