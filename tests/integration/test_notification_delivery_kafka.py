"""End to end on the real broker: notification's delivery loop (its background job, woken
by the commit) sends a notification to a webhook, and the attempt reaches Kafka as
``delivery.attempted`` (on SQLite and on PostgreSQL, where one replica leads)."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson
import pytest
from standardwebhooks import Webhook

from contracts import execution
from shared import cloudevents
from tests.harness import Environment, auth, eventually, read_topic, start_service
from tests.unit.delivery_support import http_receiver

pytestmark = pytest.mark.integration


async def test_a_delivery_attempt_reaches_kafka(env: Environment,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETFLOW_WEBHOOK_PRIVATE_ADDRESSES", "true")  # the receiver's
    notification = await start_service(env, "notification")
    try:
        with http_receiver() as receiver:
            answer = await notification.http.post(
                "/members/ben/webhooks", json={"url": receiver.url}, headers=auth("ben"))
            assert answer.status_code == 201, answer.text
            secret = answer.json()["secret"]
            task_id = uuid.uuid4()
            event = execution.TaskAssigned(task_id=task_id, campaign_id=uuid.uuid4(),
                                           title="Launch post", assignee_id="ben",
                                           due_date=dt.date.today())
            envelope = cloudevents.Envelope(
                id=f"{task_id}:1", source="/marketflow/execution", type=event.event_type,
                time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="anna",
                aggregate_version=1, sequence=1)
            assert notification.application.process_inbound(
                cloudevents.InboundEvent(envelope, event))

            async def attempted() -> dict[str, object] | None:
                records = await read_topic(env.kafka_bootstrap,
                                           notification.settings.topic())
                for record in records:
                    headers = {key: value.decode() for key, value in record.headers}
                    if headers["ce_type"] == "marketflow.notification.delivery.attempted.v1":
                        found: dict[str, object] = orjson.loads(record.value or b"{}")
                        return found
                return None

            published = await eventually(attempted, what="delivery.attempted on Kafka")
            assert published["channel"] == "webhook" and published["outcome"] == "delivered"
            assert published["response_code"] == 200
            [hit] = receiver.hits
            body = Webhook(secret).verify(hit.body, hit.headers)
            assert body["data"]["subject_id"] == str(task_id)
    finally:
        await notification.stop()
