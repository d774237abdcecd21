"""Notification's and reporting's access policies, through their HTTP APIs in-process: a
notification is its recipient's; a report goes with its campaign (who takes part in it,
its team); auditors read every report and the archive and change nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts import IntegrationEvent
from contracts import execution as task_contract
from contracts import planning as plan_contract
from services.notification.application import NotificationApplication
from services.notification.policy import POLICY as NOTIFICATION_POLICY
from services.reporting.domain import ArchivedEvent
from services.reporting.policy import POLICY as REPORTING_POLICY
from services.reporting.progress import participants_of
from shared import cloudevents
from shared.domain import Forbidden
from shared.policy import ACTION_EXTENSION, Caller, Policy, Role
from tests.unit.in_process import ServiceClient, auth, service_client
from tests.unit.test_notification_handlers import submitted

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
BRAND = uuid.UUID("00000000-0000-4000-8000-0000000b4a4d")  # team "brand": ben's work
LEGAL = uuid.UUID("00000000-0000-4000-8000-00000000ce9a")  # team "legal": carla's work
BRAND_TASK = uuid.UUID("00000000-0000-4000-8000-0000000000b1")
LEGAL_TASK = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
NOWHERE = uuid.UUID("00000000-0000-4000-8000-00000000dead")
_sequence = iter(range(1, 10_000))


def inbound(source: str, subject: object, version: int, event: IntegrationEvent,
            minute: int = 0) -> cloudevents.InboundEvent:
    envelope = cloudevents.Envelope(
        id=f"{subject}:{version}", source=f"/marketflow/{source}", type=event.event_type,
        time=T0 + dt.timedelta(minutes=minute), subject=str(subject), actor="anna",
        aggregate_version=version, sequence=next(_sequence))
    return cloudevents.InboundEvent(envelope, event)


def directory() -> list[cloudevents.InboundEvent]:
    """Erin audits; dave works in brand; mette manages legal."""
    members = [plan_contract.MemberRegistered(member_id="erin", name="Erin", roles=["auditor"]),
               plan_contract.MemberRegistered(member_id="dave", name="Dave",
                                              team_ids=["brand"]),
               plan_contract.MemberRegistered(member_id="mette", name="Mette")]
    teams = [plan_contract.TeamRegistered(team_id="legal", name="Legal", manager_id="mette")]
    return [inbound("planning", uuid.uuid5(uuid.NAMESPACE_URL, event.model_dump_json()), 1,
                    event) for event in [*members, *teams]]


def planned(campaign: uuid.UUID, team: str, task_id: uuid.UUID, assignee: str | None,
            approver: str | None = None) -> cloudevents.InboundEvent:
    chain = [plan_contract.ApprovalStep(member_id=approver)] if approver else []
    return inbound("planning", campaign, 1, plan_contract.CampaignPlanned(
        campaign_id=campaign, name=f"{team} launch", playbook_id=uuid.uuid4(),
        playbook_version=1, launch_date=dt.date(2027, 3, 1), team_id=team,
        tasks=[plan_contract.PlannedTask(
            task_id=task_id, key="brief", title="Brief", role="writer",
            due_date=dt.date(2027, 2, 1), assignee_id=assignee, approval_chain=chain)]))


def campaigns() -> list[cloudevents.InboundEvent]:
    """Brand's campaign plans ben's task with lee approving; legal's leaves its task
    unassigned until execution assigns it to carla."""
    return [
        planned(BRAND, "brand", BRAND_TASK, "ben", approver="lee"),
        planned(LEGAL, "legal", LEGAL_TASK, None),
        inbound("execution", BRAND_TASK, 1, task_contract.TaskOpened(
            task_id=BRAND_TASK, campaign_id=BRAND, title="Brief", role="writer",
            due_date=dt.date(2027, 2, 1)), minute=1),
        inbound("execution", LEGAL_TASK, 1, task_contract.TaskOpened(
            task_id=LEGAL_TASK, campaign_id=LEGAL, title="Brief", role="writer",
            due_date=dt.date(2027, 2, 1), queue="legal"), minute=1),
        inbound("execution", LEGAL_TASK, 2, task_contract.TaskAssigned(
            task_id=LEGAL_TASK, campaign_id=LEGAL, title="Brief", assignee_id="carla",
            due_date=dt.date(2027, 2, 1), via="claimed"), minute=2),
    ]


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[ServiceClient]:
    with service_client("reporting", tmp_path) as client:
        for event in [*directory(), *campaigns()]:
            assert client.application.process_inbound(event)
        yield client


def reads(client: ServiceClient, member: str) -> dict[str, int]:
    """The status of each report the member asks for."""
    paths = {
        "brand progress": f"/campaigns/{BRAND}/progress",
        "brand as of": f"/campaigns/{BRAND}/progress?as_of={T0.isoformat()}".replace(
            "+", "%2B"),
        "brand history": f"/campaigns/{BRAND}/history",
        "brand task": f"/tasks/{BRAND_TASK}/history",
        "legal progress": f"/campaigns/{LEGAL}/progress",
        "legal history": f"/campaigns/{LEGAL}/history",
        "legal task": f"/tasks/{LEGAL_TASK}/history",
        "archive": "/archive",
    }
    return {name: client.get(path, headers=auth(member)).status_code
            for name, path in paths.items()}


BRAND_ONLY = {"brand progress": 200, "brand as of": 200, "brand history": 200,
              "brand task": 200, "legal progress": 403, "legal history": 403,
              "legal task": 403, "archive": 403}
LEGAL_ONLY = {**{name: 403 for name in BRAND_ONLY},
              **{"legal progress": 200, "legal history": 200, "legal task": 200}}
EVERY_REPORT = dict.fromkeys(BRAND_ONLY, 200)


@pytest.mark.parametrize(("member", "expected"), [
    ("ben", BRAND_ONLY),     # assigned brand's task in the plan
    ("lee", BRAND_ONLY),     # named by the plan to approve it
    ("dave", BRAND_ONLY),    # works in the brand team
    ("carla", LEGAL_ONLY),   # assigned legal's task by execution (claimed from a queue)
    ("mette", LEGAL_ONLY),   # manages the legal team
    ("soren", {name: 403 for name in BRAND_ONLY}),  # takes part in nothing
    ("erin", EVERY_REPORT),  # audits
    ("anna", EVERY_REPORT),  # administers and plans
])
def test_a_report_is_read_by_who_takes_part_in_its_campaign_and_by_auditors(
        reporting: ServiceClient, member: str, expected: dict[str, int]) -> None:
    assert reads(reporting, member) == expected


def test_a_refusal_names_the_action_and_who_may(reporting: ServiceClient) -> None:
    refused = reporting.get(f"/campaigns/{LEGAL}/history", headers=auth("ben"))
    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert "ben may not report.campaign_history.read on campaign" in detail
    assert "auditor (all)" in detail and "contributor (team)" in detail
    task = reporting.get(f"/tasks/{LEGAL_TASK}/history", headers=auth("ben")).json()
    assert f"task {LEGAL_TASK} of campaign {LEGAL}" in task["detail"]


def test_a_campaign_reporting_knows_nothing_of_is_only_for_readers_of_everything(
        reporting: ServiceClient) -> None:
    # Not found for who may read everything; for the others, not theirs (nothing leaks).
    for path in (f"/campaigns/{NOWHERE}/progress", f"/campaigns/{NOWHERE}/history",
                 f"/tasks/{NOWHERE}/history"):
        assert reporting.get(path, headers=auth("erin")).status_code == 404, path
        assert reporting.get(path, headers=auth("ben")).status_code == 403, path


def test_the_progress_read_model_keeps_campaign_teams_and_participants(
        reporting: ServiceClient) -> None:
    view = reporting.application.progress
    brand = view.campaign_access(str(BRAND))
    assert (brand.team_id, brand.participants) == ("brand", frozenset({"ben", "lee"}))
    legal = view.campaign_access(str(LEGAL))
    assert (legal.team_id, legal.participants) == ("legal", frozenset({"carla"}))
    assert view.campaign_of_task(str(LEGAL_TASK)) == str(LEGAL)
    assert view.campaign_access(str(NOWHERE)) is None


def _archived(event: IntegrationEvent) -> ArchivedEvent:
    return ArchivedEvent(id="x:1", source="/marketflow/execution", type=event.event_type,
                         time=T0, subject="x", actor="anna", aggregate_version=1,
                         data=event.model_dump(mode="json"))


def test_who_takes_part_in_a_task() -> None:
    task = str(LEGAL_TASK)
    assert participants_of(_archived(task_contract.TaskSubmitted(
        task_id=LEGAL_TASK, campaign_id=LEGAL, submission_version=1, reference="r",
        note="", pending_approvers=["lee", "soren"]))) == {(task, "lee"), (task, "soren")}
    assert participants_of(_archived(task_contract.ApprovalStepEscalated(
        task_id=LEGAL_TASK, campaign_id=LEGAL, step=1, submission_version=1,
        escalated_to="anna", eligible_approvers=[]))) == {(task, "anna")}
    assert participants_of(_archived(task_contract.TaskAssigned(
        task_id=LEGAL_TASK, campaign_id=LEGAL, title="t", assignee_id="ben",
        previous_assignee_id="carla", due_date=dt.date(2027, 1, 1), via="reassigned"))
    ) == {(task, "ben"), (task, "carla")}
    assert participants_of(_archived(task_contract.TaskCompleted(
        task_id=LEGAL_TASK, campaign_id=LEGAL))) == set()


# --- notification ---------------------------------------------------------------------------


@pytest.fixture
def notification(tmp_path: Path) -> Iterator[ServiceClient]:
    with service_client("notification", tmp_path) as client:
        for event in directory():
            assert client.application.process_inbound(event)
        assert client.application.process_inbound(submitted(1, ["carla"]))
        yield client


def test_a_member_neither_reads_nor_marks_anothers_notification(
        notification: ServiceClient) -> None:
    [note] = notification.get("/notifications", headers=auth("carla")).json()
    path = f"/notifications/{note['id']}"
    assert notification.get("/notifications", headers=auth("ben")).json() == []
    before = notification.head_position()
    read = notification.get(path, headers=auth("ben"))
    assert read.status_code == 403
    assert "ben may not notification.read on notification" in read.json()["detail"]
    assert notification.post(f"{path}/read", headers=auth("ben")).status_code == 403
    assert notification.head_position() == before
    assert notification.get(path, headers=auth("carla")).json()["read"] is False


def test_admins_and_auditors_read_any_notification_and_mark_none_read(
        notification: ServiceClient) -> None:
    [note] = notification.get("/notifications", headers=auth("carla")).json()
    path = f"/notifications/{note['id']}"
    before = notification.head_position()
    for reader in ("anna", "erin"):
        assert notification.get(path, headers=auth(reader)).json() == note, reader
        # Their list stays their own: no one browses another member's inbox.
        assert notification.get("/notifications", headers=auth(reader)).json() == []
        refused = notification.post(f"{path}/read", headers=auth(reader))
        assert refused.status_code == 403, reader
        assert "notification.mark_read" in refused.json()["detail"]
    assert notification.head_position() == before
    marked = notification.post(f"{path}/read", headers=auth("carla"))
    assert marked.status_code == 200 and marked.json()["read"] is True


def test_an_auditor_marks_not_even_their_own_notification_read(
        notification: ServiceClient) -> None:
    app: NotificationApplication = notification.application
    assert app.process_inbound(submitted(2, ["erin"]))
    [note] = app.inbox.for_member("erin").rows
    auditor = Caller("erin", "Erin", roles=frozenset({Role.AUDITOR}))
    assert app.read(uuid.UUID(note["id"]), auditor)["recipient_id"] == "erin"
    before = notification.head_position()
    with pytest.raises(Forbidden, match=r"erin may not notification\.mark_read"):
        app.mark_read(uuid.UUID(note["id"]), auditor)
    assert notification.head_position() == before


# --- every route declares an action of its service's table ---------------------------------


@pytest.mark.parametrize(("service", "policy"), [("notification", NOTIFICATION_POLICY),
                                                 ("reporting", REPORTING_POLICY)])
def test_every_operation_names_an_action_of_the_table_and_every_action_is_offered(
        tmp_path: Path, service: str, policy: Policy) -> None:
    with service_client(service, tmp_path) as client:
        document: dict[str, Any] = client.get("/openapi.json").json()
    declared = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith(("/health", "/metrics")) or not isinstance(operation, dict):
                continue
            declared[f"{method.upper()} {path}"] = operation.get(ACTION_EXTENSION)
    assert None not in declared.values(), declared
    assert set(declared.values()) <= set(policy.rules), declared
    assert set(policy.rules) <= set(declared.values()), "an action no route takes"
