"""Execution at the HTTP level, against real Kafka and PostgreSQL: approval chains with
N of M and consulted roles, racing approvers, the WIP limit and queues, absences.

Planning's directory and revision events are published here the way planning will
publish them (CloudEvents over Kafka, increasing sequence numbers).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts import IntegrationEvent
from contracts import planning as contract
from shared import cloudevents
from shared.domain import Conflict, EventMeta
from tests.harness import Environment, RunningService, auth, eventually, start_service
from tests.integration.test_http_errors import assert_refused

pytestmark = pytest.mark.integration
TODAY = dt.datetime.now(UTC).date()
DUE = TODAY + dt.timedelta(days=30)


class Planning:
    """Publishes what planning would, on planning's topic."""

    def __init__(self, env: Environment) -> None:
        self.topic = env.settings("planning").topic()
        self.producer = AIOKafkaProducer(bootstrap_servers=env.kafka_bootstrap)
        self.sequence = 0

    async def publish(self, subject: str, event: IntegrationEvent, actor: str = "anna") -> None:
        self.sequence += 1
        envelope = cloudevents.Envelope(
            id=f"{subject}:{self.sequence}", source="/marketflow/planning",
            type=event.event_type, time=datetime.now(UTC), subject=subject, actor=actor,
            aggregate_version=self.sequence, sequence=self.sequence)
        body, headers = cloudevents.encode(envelope, event)
        await self.producer.send_and_wait(self.topic, body, key=subject.encode(),
                                          headers=headers)

    async def member(self, member_id: str, *roles: str, teams: tuple[str, ...] = ()) -> None:
        await self.publish(member_id, contract.MemberRegistered(
            member_id=member_id, name=member_id.title(), roles=list(roles),
            team_ids=list(teams)))

    async def campaign(self, *tasks: contract.PlannedTask) -> uuid.UUID:
        campaign_id = uuid.uuid4()
        await self.publish(str(campaign_id), contract.CampaignPlanned(
            campaign_id=campaign_id, name="Launch", playbook_id=uuid.uuid4(),
            playbook_version=1, launch_date=DUE, tasks=list(tasks)))
        return campaign_id


def planned(key: str, assignee: str | None = "ben", **fields: Any) -> contract.PlannedTask:
    return contract.PlannedTask(task_id=uuid.uuid4(), key=key, title=key.title(),
                                role="writer", due_date=DUE, assignee_id=assignee, **fields)


@pytest.fixture
async def system(postgres_env: Environment) -> AsyncIterator[tuple[RunningService, Planning]]:
    execution = await start_service(postgres_env, "execution")
    planning = Planning(postgres_env)
    await planning.producer.start()
    try:
        yield execution, planning
    finally:
        await planning.producer.stop()
        await execution.stop()


async def task_of(execution: RunningService, task_id: uuid.UUID,
                  when: Any = lambda task: True) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await execution.http.get(f"/tasks/{task_id}", headers=auth("anna"))
        if response.status_code != 200:
            return None
        task: dict[str, Any] = response.json()
        return task if when(task) else None

    return await eventually(probe, what=f"task {task_id}")


async def post(execution: RunningService, path: str, member: str,
               expect: int = 200, **body: Any) -> dict[str, Any]:
    response = await execution.http.post(path, json=body or None, headers=auth(member))
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def get(execution: RunningService, path: str, member: str = "anna",
              **params: Any) -> Any:
    response = await execution.http.get(path, params=params, headers=auth(member))
    assert response.status_code == 200, response.text
    return response.json()


async def test_approval_chain_n_of_m_with_consulted_roles(
        system: tuple[RunningService, Planning]) -> None:
    execution, planning = system
    task = planned("post", approval_chain=[
        contract.ApprovalStep(role="brand", required_approvals=2),
        contract.ApprovalStep(member_id="anna"),
    ], consulted_roles=["legal"],
        role_members={"brand": ["carla", "dave", "erin"], "legal": ["lee"]})
    await planning.campaign(task)
    path = f"/tasks/{task.task_id}"
    await task_of(execution, task.task_id, lambda t: t["status"] == "ready")
    await post(execution, f"{path}/start", "ben")
    await assert_refused(execution, "POST", f"{path}/submit", 422, "reference",
                         json={"note": "forgot the link"}, headers=auth("ben"))
    submitted = await post(execution, f"{path}/submit", "ben",
                           reference="https://docs/post-v1", note="first draft")
    assert submitted["status"] == "submitted"
    assert submitted["pending_approvers"] == ["carla", "dave", "erin"]
    inbox = await get(execution, "/approvals", "carla")
    assert [(row["id"], row["step"], row["required_approvals"]) for row in inbox] == [
        (str(task.task_id), 1, 2)]
    assert inbox[0]["consulted_missing"] == ["legal"]

    await assert_refused(execution, "POST", f"{path}/request-changes", 422, "comment",
                         json={}, headers=auth("carla"))
    await assert_refused(execution, "POST", f"{path}/approve", 422, "expected_version",
                         json={"expected_version": 0}, headers=auth("carla"))
    await assert_refused(execution, "POST", f"{path}/approve", 409,
                         "changed since version 1", json={"expected_version": 1},
                         headers=auth("carla"))
    await post(execution, f"{path}/approve", "carla", comment="on brand")
    await assert_refused(execution, "POST", f"{path}/approve", 409,
                         "consulted roles legal have not commented on submission 1",
                         headers=auth("dave"))
    # The submitter is no approver of the chain: the policy refuses before the domain's
    # separation of duties would.
    await assert_refused(execution, "POST", f"{path}/approve", 403,
                         "ben may not task.approve", headers=auth("ben"))
    await post(execution, f"{path}/comments", "lee", expect=201, text="legally fine")
    after_step_one = await post(execution, f"{path}/approve", "dave")
    assert (after_step_one["current_step"], after_step_one["pending_approvers"]) == (2, ["anna"])
    assert await get(execution, "/approvals", "erin") == []
    await assert_refused(execution, "POST", f"{path}/approve", 403,
                         "carla already approved step 1", headers=auth("carla"))

    # Step two asks for changes: a revision round; the new submission restarts the chain.
    changed = await post(execution, f"{path}/request-changes", "anna",
                         comment="shorter headline")
    assert (changed["status"], changed["revision_round"]) == ("in_progress", 1)
    await post(execution, f"{path}/submit", "ben", reference="https://docs/post-v2")
    assert [row["step"] for row in await get(execution, "/approvals", "carla")] == [1]
    await post(execution, f"{path}/comments", "lee", expect=201, text="still fine")
    await post(execution, f"{path}/approve", "erin")
    await post(execution, f"{path}/approve", "carla")
    # The last approval completes the task (the playbook did not say otherwise).
    approved = await post(execution, f"{path}/approve", "anna", comment="ship it")
    assert approved["status"] == "done"

    detail = await get(execution, path)
    history = detail["history"]
    assert [event["type"] for event in history][-4:] == [
        "ApprovalGiven", "ApprovalGiven", "Approved", "Completed"]
    assert all(event["actor"] and event["time"] for event in history)
    assert history[0]["actor"] == "anna" and history[0]["causation_id"]
    assert [s["version"] for s in detail["submissions"]] == [1, 2]
    assert [(c["author"], c["text"]) for c in detail["comments"]] == [
        ("carla", "on brand"), ("lee", "legally fine"), ("anna", "shorter headline"),
        ("lee", "still fine"), ("anna", "ship it")]
    assert all(c["at"] for c in detail["comments"])
    board = await get(execution, f"/campaigns/{detail['campaign_id']}/board")
    assert board["counts"]["done"] == 1


async def test_racing_approvers_of_one_step_both_succeed_and_the_store_still_refuses_a_lost_update(
        system: tuple[RunningService, Planning]) -> None:
    execution, planning = system
    task = planned("visual", approval_chain=[
        contract.ApprovalStep(role="brand", required_approvals=2)],
        role_members={"brand": ["carla", "dave", "erin"]})
    await planning.campaign(task)
    path = f"/tasks/{task.task_id}"
    await task_of(execution, task.task_id, lambda t: t["status"] == "ready")
    await post(execution, f"{path}/start", "ben")
    seen = await post(execution, f"{path}/submit", "ben", reference="figma://visual")

    # Both approvers act on the version they saw, at the same time: approvals of one
    # N-of-M step commute, so both count.
    responses = await asyncio.gather(*(
        execution.http.post(f"{path}/approve", json={"expected_version": seen["version"]},
                            headers=auth(member)) for member in ("carla", "dave")))
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    final = await get(execution, path)
    assert final["status"] == "done"
    assert sorted(final["step_approvals"][0]) == ["carla", "dave"]  # no lost update
    # A third approver who saw the same version is too late: the step completed.
    await assert_refused(execution, "POST", f"{path}/approve", 409, "cannot approve task",
                         json={"expected_version": seen["version"]}, headers=auth("erin"))

    # Below the use cases, the store's version check still refuses the loser of a race.
    app = execution.application
    first, second = app.task(task.task_id), app.task(task.task_id)
    first.comment("late remark", EventMeta(actor="erin"))
    second.comment("another", EventMeta(actor="erin"))
    app.save_or_conflict(first)
    with pytest.raises(Conflict, match="changed by someone else"):
        app.save_or_conflict(second)


async def test_queue_claims_respect_the_wip_limit(
        system: tuple[RunningService, Planning]) -> None:
    execution, planning = system
    await planning.member("anna", "planner")
    await planning.member("ben", "writer", teams=("content",))
    await planning.member("carla", "designer")
    tasks = [planned(f"article-{n}", assignee=None, queue="content") for n in range(3)]
    await planning.campaign(*tasks)

    async def queue() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = await get(execution, "/queues/content", "ben")
        return rows if len(rows) == 3 else None

    for member in ("anna", "ben", "carla"):  # other partitions than the campaign's
        await eventually(functools.partial(_member_known, execution, member),
                         what=f"{member} known")
    await eventually(queue, what="three tasks in the content queue")  # ben's team's queue
    await assert_refused(execution, "PUT", "/members/ben/wip-limit", 403,
                         "ben may not member.set_wip_limit",
                         json={"limit": 2}, headers=auth("ben"))
    response = await execution.http.put("/members/ben/wip-limit", json={"limit": 2},
                                        headers=auth("anna"))
    assert response.status_code == 200, response.text
    first, second, third = (f"/tasks/{t.task_id}" for t in tasks)
    await post(execution, f"{first}/claim", "ben")
    await post(execution, f"{second}/claim", "ben")
    await assert_refused(execution, "POST", f"{third}/claim", 409,
                         "ben already has 2 tasks in progress and the work-in-progress "
                         "limit is 2", headers=auth("ben"))
    await assert_refused(execution, "POST", f"{third}/claim", 403,
                         "carla may not task.claim", headers=auth("carla"))
    await assert_refused(execution, "POST", f"{first}/claim", 409,
                         "already assigned to ben", headers=auth("ben"))
    mine = await get(execution, "/tasks", "ben", assignee="me")
    assert len(mine) == 2

    # Finishing one frees a slot; a planner reassigns with a reason.
    await post(execution, f"{first}/start", "ben")
    await post(execution, f"{first}/complete", "ben")
    await post(execution, f"{third}/claim", "ben")
    await assert_refused(execution, "POST", f"{second}/reassign", 403,
                         "ben may not task.reassign",
                         json={"assignee_id": "carla", "reason": "x"}, headers=auth("ben"))
    moved = await post(execution, f"{second}/reassign", "anna", assignee_id="carla",
                       reason="ben is on the webinar")
    assert moved["assignee_id"] == "carla"
    history = (await get(execution, second))["history"]
    assert history[-1]["reason"] == "ben is on the webinar"
    assert await get(execution, "/queues/content") == []

    # Two claims by one member at once cannot both squeeze under the limit.
    await planning.member("erin", "writer")
    extra = [planned(f"extra-{n}", assignee=None, queue="content") for n in range(2)]
    await planning.campaign(*extra)
    await task_of(execution, extra[1].task_id)
    await eventually(lambda: _member_known(execution, "erin"), what="erin in the directory")
    response = await execution.http.put("/members/erin/wip-limit", json={"limit": 1},
                                        headers=auth("anna"))
    assert response.status_code == 200, response.text
    claims = await asyncio.gather(*(
        execution.http.post(f"/tasks/{t.task_id}/claim", headers=auth("erin")) for t in extra))
    assert sorted(r.status_code for r in claims) == [200, 409], [r.text for r in claims]
    assert len(await get(execution, "/tasks", "erin", assignee="me")) == 1


async def _member_known(execution: RunningService, member_id: str) -> bool:
    return execution.application.member(member_id) is not None


async def test_absence_hands_work_to_the_backup_or_the_queue(
        system: tuple[RunningService, Planning]) -> None:
    execution, planning = system
    await planning.member("anna", "planner")
    await planning.member("ben", "writer")
    writing = planned("brief")
    review = planned("blog", assignee="carla",
                     approval_chain=[contract.ApprovalStep(member_id="ben")])
    await planning.campaign(writing, review)
    await task_of(execution, review.task_id, lambda t: t["assignee_id"] == "carla")
    await post(execution, f"/tasks/{review.task_id}/start", "carla")
    await post(execution, f"/tasks/{review.task_id}/submit", "carla", reference="doc://blog")
    assert [row["key"] for row in await get(execution, "/approvals", "ben")] == ["blog"]

    # Ben is away from today: his task and his pending approval go to dave.
    away = uuid.uuid4()
    await planning.publish("ben", contract.AbsenceRecorded(
        absence_id=away, member_id="ben", starts_on=TODAY,
        ends_on=TODAY + dt.timedelta(days=5), backup_member_id="dave", reason="holiday"))
    handed = await task_of(execution, writing.task_id, lambda t: t["assignee_id"] == "dave")
    assert handed["due_date"] == DUE.isoformat()
    # The history names the absence, not why ben is away (only his managers may know).
    assert f"absence {away}: ben away" in handed["history"][-1]["reason"]
    assert "holiday" not in handed["history"][-1]["reason"]
    assert [row["key"] for row in await get(execution, "/approvals", "dave")] == ["blog"]
    assert await get(execution, "/approvals", "ben") == []
    absence = await get(execution, f"/absences/{away}")
    assert absence["status"] == "started"
    assert sorted((m["what"], m["from_member"], m["to_member"]) for m in absence["moved"]) == [
        ("approvals", "ben", "dave"), ("task", "ben", "dave")]

    # Carla's absence starts next week, without a backup: nothing moves before then; on
    # its first day her open task goes back to the queue.
    later = uuid.uuid4()
    await planning.publish("carla", contract.AbsenceRecorded(
        absence_id=later, member_id="carla", starts_on=TODAY + dt.timedelta(days=7),
        ends_on=TODAY + dt.timedelta(days=9)))
    await eventually(lambda: _status_is(execution, later, "scheduled"), what="carla's absence")
    app = execution.application
    assert await asyncio.to_thread(app.start_due_absences, TODAY) == 0
    assert (await get(execution, f"/tasks/{review.task_id}"))["assignee_id"] == "carla"
    assert await asyncio.to_thread(app.start_due_absences, TODAY + dt.timedelta(days=7)) == 1
    returned = await get(execution, f"/tasks/{review.task_id}")
    assert returned["assignee_id"] is None and returned["due_date"] == DUE.isoformat()
    assert [row["key"] for row in await get(execution, "/queues/writer")] == ["blog"]

    # Cancelling a started absence moves nothing back.
    await planning.publish("ben", contract.AbsenceCancelled(absence_id=away, member_id="ben"))
    await eventually(lambda: _status_is(execution, away, "cancelled"), what="cancellation")
    assert (await get(execution, f"/tasks/{writing.task_id}"))["assignee_id"] == "dave"


async def _status_is(execution: RunningService, absence_id: uuid.UUID, status: str) -> bool:
    response = await execution.http.get(f"/absences/{absence_id}", headers=auth("anna"))
    return response.status_code == 200 and response.json()["status"] == status


async def test_planning_revisions_dependencies_and_cancellation(
        system: tuple[RunningService, Planning]) -> None:
    execution, planning = system
    first = planned("brief")
    second = planned("post", depends_on=[first.task_id])
    dropped = planned("teaser")
    campaign_id = await planning.campaign(first, second, dropped)
    waiting = await task_of(execution, second.task_id)
    assert (waiting["status"], waiting["waiting_for"]) == ("planned", [str(first.task_id)])
    await task_of(execution, first.task_id, lambda t: t["status"] == "ready")
    await assert_refused(execution, "POST", f"/tasks/{second.task_id}/start", 409,
                         "transition planned -> in_progress is not allowed",
                         headers=auth("ben"))
    await post(execution, f"/tasks/{first.task_id}/start", "ben")
    await post(execution, f"/tasks/{first.task_id}/complete", "ben")
    assert (await get(execution, f"/tasks/{second.task_id}"))["status"] == "ready"

    # Lee is away from today; planning reschedules, drops a task, adds one for lee.
    await planning.publish("lee", contract.AbsenceRecorded(
        absence_id=uuid.uuid4(), member_id="lee", starts_on=TODAY,
        ends_on=TODAY + dt.timedelta(days=3), backup_member_id="dave"))
    later = DUE + dt.timedelta(days=7)
    added = planned("recap", assignee="lee", depends_on=[first.task_id])
    await planning.publish(str(campaign_id), contract.CampaignTasksRevised(
        campaign_id=campaign_id, reason="launch moved a week",
        updated=[second.model_copy(update={"due_date": later})], removed=[dropped.task_id],
        added=[added]))
    moved = await task_of(execution, second.task_id,
                          lambda t: t["due_date"] == later.isoformat())
    assert moved["history"][-1]["reason"] == "launch moved a week"
    removed = await get(execution, f"/tasks/{dropped.task_id}")
    assert removed["status"] == "cancelled"
    # Lee is away (whichever of the two messages execution applied first).
    recap = await task_of(execution, added.task_id, lambda t: t["assignee_id"] == "dave")
    assert recap["status"] == "ready"

    await planning.publish(str(campaign_id), contract.CampaignCancelled(
        campaign_id=campaign_id, reason="product withdrawn"))
    await task_of(execution, second.task_id, lambda t: t["status"] == "cancelled")
    board = await get(execution, f"/campaigns/{campaign_id}/board")
    assert {state: n for state, n in board["counts"].items() if n} == {
        "done": 1, "cancelled": 3}


async def test_restarted_execution_rebuilds_the_same_answers(postgres_env: Environment) -> None:
    """Replay is exact: boards, inboxes, queues, absences and details after a restart."""
    execution = await start_service(postgres_env, "execution")
    planning = Planning(postgres_env)
    await planning.producer.start()
    try:
        await planning.member("ben", "writer")
        reviewed = planned("post", approval_chain=[
            contract.ApprovalStep(role="brand", required_approvals=2)],
            role_members={"brand": ["carla", "dave", "erin"]})
        queued = planned("teaser", assignee=None, queue="content")
        campaign_id = await planning.campaign(reviewed, queued)
        await task_of(execution, reviewed.task_id, lambda t: t["status"] == "ready")
        await post(execution, f"/tasks/{reviewed.task_id}/start", "ben")
        await post(execution, f"/tasks/{reviewed.task_id}/submit", "ben", reference="doc")
        await post(execution, f"/tasks/{reviewed.task_id}/approve", "carla", comment="ok")
        away = uuid.uuid4()
        await planning.publish("dave", contract.AbsenceRecorded(
            absence_id=away, member_id="dave", starts_on=TODAY, ends_on=TODAY,
            backup_member_id="lee"))
        await eventually(lambda: _status_is(execution, away, "started"), what="the absence")
    except BaseException:
        await execution.stop()
        raise
    finally:
        await planning.producer.stop()

    async def answers(service: RunningService) -> list[Any]:
        return [await get(service, path, member, **params) for path, member, params in [
            (f"/campaigns/{campaign_id}/board", "anna", {}),
            ("/approvals", "lee", {}), ("/approvals", "erin", {}),
            ("/queues/content", "anna", {}), ("/tasks", "ben", {"assignee": "me"}),
            (f"/tasks/{reviewed.task_id}", "anna", {}), ("/absences", "anna", {}),
        ]]

    try:
        before = await answers(execution)
    finally:
        await execution.stop()
    assert [row["key"] for row in before[1]] == ["post"]  # lee stands in for dave
    restarted = await start_service(postgres_env, "execution")
    try:
        assert await answers(restarted) == before
    finally:
        await restarted.stop()
