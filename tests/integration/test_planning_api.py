"""Planning over HTTP against the real stores and Kafka: playbook files and versions,
campaigns on a team calendar, rescheduling, the team directory, and refusals."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from contracts import EVENT_TYPES
from services.planning.playbook_files import PLAYBOOK_DIR
from tests.harness import Environment, RunningService, auth, eventually, start_service
from tests.integration.test_http_errors import assert_refused

pytestmark = pytest.mark.integration
ANNA = auth("anna")
YAML = {**ANNA, "content-type": "application/yaml"}


@pytest.fixture
async def planning(postgres_env: Environment) -> AsyncIterator[RunningService]:
    service = await start_service(postgres_env, "planning")
    yield service
    await service.stop()


async def published(service: RunningService, wanted: dict[str, int]) -> list[dict[str, Any]]:
    """Planning's messages on its topic, once at least ``wanted`` of each type are there."""
    consumer = AIOKafkaConsumer(
        service.settings.topic(), bootstrap_servers=service.settings.kafka_bootstrap,
        group_id=f"{service.settings.namespace}.reader-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen: list[dict[str, Any]] = []
    try:
        async def enough() -> bool:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    headers = {name: value.decode() for name, value in record.headers}
                    body = orjson.loads(record.value)
                    EVENT_TYPES[headers["ce_type"]].model_validate(body)
                    seen.append({"type": headers["ce_type"], "actor": headers["ce_actor"],
                                 "body": body})
            counts = {kind: sum(1 for m in seen if m["type"] == kind) for kind in wanted}
            return all(counts[kind] >= count for kind, count in wanted.items())

        await eventually(enough, what=f"planning to publish {wanted}")
    finally:
        await consumer.stop()
    return seen


async def setup_team(planning: RunningService) -> None:
    response = await planning.http.put("/teams/marketing-fi", headers=ANNA, json={
        "name": "Marketing Finland", "country": "FI", "queues": ["content"],
        "closed_days": ["2027-03-12"]})
    assert response.status_code == 200, response.text
    for member_id, roles, manager in (("anna", ["marketing-manager"], None),
                                      ("ben", ["writer"], "anna"),
                                      ("lena", ["legal"], "anna"),
                                      ("dave", ["brand"], "anna")):
        response = await planning.http.put(f"/members/{member_id}", headers=ANNA, json={
            "name": member_id.title(), "roles": roles, "team_ids": ["marketing-fi"],
            "manager_id": manager})
        assert response.status_code == 200, response.text
    response = await planning.http.put("/teams/marketing-fi", headers=ANNA, json={
        "name": "Marketing Finland", "country": "FI", "queues": ["content"],
        "closed_days": ["2027-03-12"], "manager_id": "anna"})
    assert response.status_code == 200, response.text


async def test_playbook_files_versions_campaigns_and_rescheduling(
    planning: RunningService,
) -> None:
    await setup_team(planning)
    text = (PLAYBOOK_DIR / "product-launch.yaml").read_text()
    response = await planning.http.post("/playbooks/import", content=text, headers=YAML)
    assert response.status_code == 201, response.text
    playbook = response.json()
    assert (playbook["version"], len(playbook["tasks"])) == (1, 9)

    exported = await planning.http.get(f"/playbooks/{playbook['id']}/export", headers=ANNA)
    assert exported.headers["content-type"].startswith("application/yaml")
    revised = exported.text.replace("title: Launch retrospective", "title: Retrospective")
    response = await planning.http.post(
        "/playbooks/import", content=revised, headers=YAML,
        params={"playbook_id": playbook["id"], "expected_version": 1})
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 2
    diff = (await planning.http.get(f"/playbooks/{playbook['id']}/diff",
                                    params={"from": 1, "to": 2}, headers=ANNA)).json()
    assert diff["changed"] == [{"key": "retro", "fields": {
        "title": {"from": "Launch retrospective", "to": "Retrospective"}}}]

    response = await planning.http.get("/teams/marketing-fi/closed-days", headers=ANNA,
                                       params={"from": "2027-03-10", "to": "2027-03-15"})
    assert response.json() == [
        {"date": "2027-03-12", "reason": "team closed day"},
        {"date": "2027-03-13", "reason": "weekend"},
        {"date": "2027-03-14", "reason": "weekend"}]
    response = await planning.http.post("/campaigns", headers=ANNA, json={
        "playbook_id": playbook["id"], "playbook_version": 1, "name": "Spring launch",
        "launch_date": "2027-03-16", "team_id": "marketing-fi",
        "assignments": {"writer": "ben", "marketing-manager": "anna"},
        "queues": {"web": "content"}, "not_before": "2027-01-01"})
    assert response.status_code == 201, response.text
    campaign = response.json()
    tasks = {task["key"]: task for task in campaign["tasks"]}
    assert campaign["playbook_version"] == 1
    assert tasks["launch-day"]["due_date"] == "2027-03-16"
    assert tasks["sales-briefing"]["due_date"] == "2027-03-10"  # the 12th is closed
    assert tasks["landing-page"]["queue"] == "content"
    assert tasks["press-release"]["role_members"]["legal"] == ["lena"]
    assert campaign["critical_path"][0] == "positioning"

    response = await planning.http.post(f"/campaigns/{campaign['id']}/reschedule",
                                        headers=ANNA, json={"launch_date": "2027-04-20",
                                                            "not_before": "2027-01-01"})
    assert response.status_code == 200, response.text
    assert {t["key"]: t["due_date"] for t in response.json()["tasks"]}["launch-day"] == (
        "2027-04-20")
    response = await planning.http.post(f"/campaigns/{campaign['id']}/migrate",
                                        headers=ANNA, json={"playbook_version": 2})
    assert response.status_code == 200, response.text
    assert {t["key"]: t["title"] for t in response.json()["tasks"]}["retro"] == "Retrospective"

    response = await planning.http.post("/campaigns", headers=ANNA, json={
        "playbook_id": playbook["id"], "name": "Forward", "start_date": "2027-01-04",
        "team_id": "marketing-fi"})
    assert response.status_code == 201, response.text
    forward = response.json()
    assert (forward["mode"], forward["start_date"]) == ("forward", "2027-01-04")
    assert min(t["start_date"] for t in forward["tasks"]) == "2027-01-04"
    launch_day = next(t for t in forward["tasks"] if t["key"] == "launch-day")
    assert launch_day["due_date"] == forward["launch_date"] > "2027-02-01"
    await assert_refused(planning, "POST", "/campaigns", 422, "versions 1 to 2, not 7",
                         headers=ANNA, json={"playbook_id": playbook["id"], "name": "X",
                                             "playbook_version": 7,
                                             "launch_date": "2027-06-01"})

    messages = await published(planning, {
        "marketflow.planning.campaign.planned.v1": 2,
        "marketflow.planning.campaign.tasks_revised.v1": 2,
        "marketflow.planning.playbook.defined.v1": 2,
        "marketflow.planning.member.registered.v1": 3,
        "marketflow.planning.team.registered.v1": 2})
    revisions = [m["body"] for m in messages
                 if m["type"] == "marketflow.planning.campaign.tasks_revised.v1"]
    assert revisions[0]["launch_date"] == "2027-04-20"
    assert revisions[1]["playbook_version"] == 2
    assert all(m["actor"] == "anna" for m in messages)

    await assert_refused(planning, "POST", f"/campaigns/{campaign['id']}/complete", 409,
                         "are not done yet", headers=ANNA)
    response = await planning.http.post(f"/campaigns/{campaign['id']}/cancel", headers=ANNA,
                                        json={"reason": "product delayed"})
    assert response.json()["status"] == "cancelled"
    await assert_refused(planning, "POST", f"/campaigns/{campaign['id']}/reschedule", 409,
                         "cannot reschedule a cancelled campaign", headers=ANNA,
                         json={"launch_date": "2027-05-01"})


async def test_absences_are_published_for_execution(sqlite_env: Environment) -> None:
    planning = await start_service(sqlite_env, "planning")
    try:
        await setup_team(planning)
        response = await planning.http.post("/members/ben/absences", headers=ANNA, json={
            "starts_on": "2027-07-01", "ends_on": "2027-07-21", "backup_member_id": "lena",
            "reason": "summer holiday"})
        assert response.status_code == 201, response.text
        absence_id = response.json()["absence_id"]
        await assert_refused(planning, "POST", "/members/ben/absences", 409,
                             "already away", headers=ANNA,
                             json={"starts_on": "2027-07-10", "ends_on": "2027-07-11"})
        response = await planning.http.delete(f"/members/ben/absences/{absence_id}",
                                              headers=ANNA)
        assert response.status_code == 200, response.text
        messages = await published(planning, {
            "marketflow.planning.member.absence_recorded.v1": 1,
            "marketflow.planning.member.absence_cancelled.v1": 1})
        recorded = next(m["body"] for m in messages
                        if m["type"] == "marketflow.planning.member.absence_recorded.v1")
        assert recorded["backup_member_id"] == "lena"
        assert recorded["member_id"] == "ben"
    finally:
        await planning.stop()


async def test_planning_refusals_name_the_problem_and_record_nothing(
    planning: RunningService,
) -> None:
    await setup_team(planning)
    cycle = {"name": "Loop", "tasks": [
        {"key": "a", "title": "A", "role": "w", "depends_on": ["b"]},
        {"key": "b", "title": "B", "role": "w", "depends_on": ["a"]}]}
    await assert_refused(planning, "POST", "/playbooks", 422, "dependency cycle a -> b -> a",
                         json=cycle, headers=ANNA)
    await assert_refused(planning, "POST", "/playbooks", 422, "unknown roles legal",
                         json={"name": "R", "roles": ["w"], "tasks": [
                             {"key": "a", "title": "A", "role": "w",
                              "approval_chain": [{"role": "legal"}]}]}, headers=ANNA)
    await assert_refused(planning, "POST", "/playbooks", 422, "duration_days",
                         json={"name": "D", "tasks": [
                             {"key": "a", "title": "A", "role": "w", "duration_days": -1}]},
                         headers=ANNA)
    await assert_refused(planning, "POST", "/playbooks/import", 422, "not valid YAML",
                         content=b"name: [", headers=YAML)
    response = await planning.http.post("/playbooks", headers=ANNA, json={
        "name": "One", "tasks": [{"key": "a", "title": "A", "role": "w"}]})
    playbook_id = response.json()["id"]
    good = {"playbook_id": playbook_id, "name": "C", "launch_date": "2027-03-01"}
    await assert_refused(planning, "POST", "/campaigns", 422, "team_id: unknown team 'nope'",
                         json={**good, "team_id": "nope"}, headers=ANNA)
    await assert_refused(planning, "POST", "/campaigns", 422, "not both or neither",
                         json={**good, "start_date": "2027-01-01"}, headers=ANNA)
    await assert_refused(planning, "POST", "/campaigns", 422, "queues.w: the team has no queue",
                         json={**good, "team_id": "marketing-fi", "queues": {"w": "x"}},
                         headers=ANNA)
    await assert_refused(planning, "PUT", "/teams/t1", 422, "country: 'XX' is not a supported",
                         json={"name": "T", "country": "XX"}, headers=ANNA)
    await assert_refused(planning, "PUT", "/teams/t2", 422, "manager_id: unknown member 'x'",
                         json={"name": "T", "manager_id": "x"}, headers=ANNA)
    await assert_refused(planning, "PUT", "/members/anna", 422, "chain of managers loops",
                         json={"name": "Anna", "manager_id": "ben"}, headers=ANNA)
    await assert_refused(planning, "PUT", "/members/zed", 422, "unknown team 'nope'",
                         json={"name": "Zed", "team_ids": ["nope"]}, headers=ANNA)
    await assert_refused(planning, "POST", "/members/ben/absences", 422,
                         "ends_on: must be on or after starts_on", headers=ANNA,
                         json={"starts_on": "2027-07-10", "ends_on": "2027-07-01"})
    await assert_refused(planning, "POST", "/members/nobody/absences", 404,
                         "member 'nobody' not found", headers=ANNA,
                         json={"starts_on": "2027-07-10", "ends_on": "2027-07-11"})
    await assert_refused(planning, "POST", f"/playbooks/{playbook_id}/revisions", 409,
                         "at version 1, not 3", params={"expected_version": 3}, headers=ANNA,
                         json={"name": "One", "tasks": [{"key": "b", "title": "B",
                                                         "role": "w"}]})
