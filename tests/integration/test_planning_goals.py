"""Goals and KPIs: measurements through the API and from a CRM's Kafka events."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from contracts import planning as contract
from shared import cloudevents
from tests.harness import Environment, auth, eventually, publish_raw, start_service
from tests.integration.test_http_errors import assert_refused

pytestmark = pytest.mark.integration
ANNA = auth("anna")
GOAL = {"name": "More qualified leads", "kind": "sales_support", "weight": 40,
        "kpi": {"name": "qualified leads", "unit": "leads", "target": 200,
                "period_start": "2026-01-01", "period_end": "2026-06-30"}}


def crm_message(sequence: int, goal_id: str, value: float, measured_on: date,
                external_id: str) -> tuple[bytes, bytes, cloudevents.Headers]:
    event = contract.KpiMeasurementReported(goal_id=uuid.UUID(goal_id), value=value,
                                            measured_on=measured_on, source="crm",
                                            external_id=external_id)
    envelope = cloudevents.Envelope(
        id=f"crm:{sequence}", source="/crm", type=event.event_type, time=datetime.now(UTC),
        subject=goal_id, actor="system:crm", aggregate_version=1, sequence=sequence)
    body, headers = cloudevents.encode(envelope, event)
    return goal_id.encode(), body, headers


async def test_goals_kpis_and_crm_measurements(sqlite_env: Environment) -> None:
    planning = await start_service(sqlite_env, "planning")
    try:
        response = await planning.http.post("/goals", json=GOAL, headers=ANNA)
        assert response.status_code == 201, response.text
        goal_id = response.json()["id"]
        await assert_refused(planning, "POST", "/goals", 422, "custom_kind is required",
                             json={**GOAL, "kind": "custom"}, headers=ANNA)
        await assert_refused(planning, "POST", "/goals", 422, "weight",
                             json={**GOAL, "weight": 0}, headers=ANNA)
        await assert_refused(planning, "POST", f"/goals/{goal_id}/measurements", 422,
                             "outside the KPI period", headers=ANNA,
                             json={"value": 10, "measured_on": "2027-01-01"})
        response = await planning.http.post(f"/goals/{goal_id}/measurements", headers=ANNA,
                                            json={"value": 50, "measured_on": "2026-02-01"})
        assert response.status_code == 201, response.text
        assert response.json()["attainment_percent"] == 25.0

        response = await planning.http.post("/playbooks", headers=ANNA, json={
            "name": "One", "tasks": [{"key": "a", "title": "A", "role": "w"}]})
        response = await planning.http.post("/campaigns", headers=ANNA, json={
            "playbook_id": response.json()["id"], "name": "Leads push",
            "launch_date": "2027-03-01", "goal_ids": [goal_id]})
        assert response.status_code == 201, response.text
        assert response.json()["goal_ids"] == [goal_id]
        await assert_refused(planning, "POST", f"/campaigns/{response.json()['id']}/goals",
                             422, "unknown goal", headers=ANNA,
                             json={"goal_ids": [str(uuid.uuid4())]})

        topic = f"{sqlite_env.namespace}.crm.events"
        await publish_raw(sqlite_env.kafka_bootstrap, topic, [
            crm_message(1, goal_id, 120, date(2026, 3, 1), "crm-1"),
            crm_message(1, goal_id, 120, date(2026, 3, 1), "crm-1"),  # redelivered
            crm_message(2, str(uuid.uuid4()), 1, date(2026, 3, 1), "crm-2"),  # no goal
        ])

        async def measured() -> dict[str, Any] | None:
            goal = (await planning.http.get(f"/goals/{goal_id}", headers=ANNA)).json()
            return goal if len(goal["measurements"]) == 2 else None

        goal = await eventually(measured, what="the CRM measurement to be recorded")
        assert goal["attainment_percent"] == 85.0  # the period's sum: 50 + 120 of 200
        assert goal["measurements"][1]["source"] == "crm"
        goal_aggregate = planning.application.goal(uuid.UUID(goal_id))
        events = planning.application.repository.event_store.get(goal_aggregate.id)
        assert [event.meta.actor for event in events] == ["anna", "anna", "system:crm"]

        consumer = AIOKafkaConsumer(topic + ".dlq", bootstrap_servers=sqlite_env.kafka_bootstrap,
                                    group_id=f"{sqlite_env.namespace}.dlq-reader",
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), timeout=30)
        finally:
            await consumer.stop()
        dlq_headers = dict(record.headers)
        assert dlq_headers["dlq_reason"] == b"refused-by-domain"
        assert b"not found" in dlq_headers["dlq_detail"]
        inbox = planning.runtime.inbox
        assert inbox is not None

        async def duplicate_dropped() -> bool:
            return inbox.duplicates == 1

        await eventually(duplicate_dropped, what="the redelivered measurement to be dropped")
    finally:
        await planning.stop()
