"""Who did what (``GET /audit/members/{id}/activity``) and the full histories of members,
playbooks and goals, in-process: what a member did and what was done for them across
services, by period, paged without duplicates or omissions; absence reasons masked for
everyone but the member who is away; the access policy; bad periods are 422s."""

from __future__ import annotations

import datetime as dt
import types
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from contracts import EVENT_TYPES, IntegrationEvent
from contracts import execution as task_contract
from contracts import notification as notification_contract
from contracts import planning as plan_contract
from services.planning.domain.team import AWAY as PLANNING_AWAY
from services.planning.domain.team import member_aggregate_id
from services.reporting.activity import MEMBER_FIELDS, ActivityView, members_named
from services.reporting.audit_reads import AWAY, member_subject
from shared import cloudevents
from tests.unit.in_process import ServiceClient, auth, service_client

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
BRAND = uuid.UUID("00000000-0000-4000-8000-0000000b4a4d")
TASK = uuid.UUID("00000000-0000-4000-8000-0000000000b1")
PLAYBOOK = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
GOAL = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
SECRET = "medical leave"


class Feed:
    """Integration events as the services would publish them (versions per subject)."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.events: list[cloudevents.InboundEvent] = []

    def add(self, source: str, subject: object, event: IntegrationEvent, *, minute: float,
            actor: str = "anna", reason: str | None = None) -> str:
        key = str(subject)
        version = self.versions[key] = self.versions.get(key, 0) + 1
        envelope = cloudevents.Envelope(
            id=f"{key}:{version}", source=f"/marketflow/{source}", type=event.event_type,
            time=T0 + dt.timedelta(minutes=minute), subject=key, actor=actor,
            aggregate_version=version, sequence=len(self.events) + 1, reason=reason)
        self.events.append(cloudevents.InboundEvent(envelope, event))
        return envelope.id


def member(member_id: str, *, teams: tuple[str, ...] = (), roles: tuple[str, ...] = (),
           manager: str | None = None) -> plan_contract.MemberRegistered:
    return plan_contract.MemberRegistered(member_id=member_id, name=member_id.title(),
                                          team_ids=list(teams), roles=list(roles),
                                          manager_id=manager)


def story() -> tuple[Feed, dict[str, str]]:
    """Anna registers ben (brand) and carla (legal, managed by mette); plans ben's task
    with lee approving; ben starts it; anna records ben's absence (carla backs him up);
    execution hands the task to carla and lee's approvals to dave; carla submits; ben is
    notified. Erin audits. Returns the feed and the events' ids by name."""
    feed, ids = Feed(), {}
    for name, registered in (("erin", member("erin", roles=("auditor",))),
                             ("mette", member("mette", teams=("legal",))),
                             ("dave", member("dave", teams=("brand",))),
                             ("lee", member("lee", teams=("legal",), manager="mette"))):
        ids[name] = feed.add("planning", member_subject(name), registered, minute=-10)
    feed.add("planning", uuid.uuid5(uuid.NAMESPACE_URL, "team:legal"),
             plan_contract.TeamRegistered(team_id="legal", name="Legal", manager_id="mette"),
             minute=-10)
    ids["carla registered"] = feed.add("planning", member_subject("carla"), member(
        "carla", teams=("legal",), manager="mette"), minute=-10)
    ids["ben registered"] = feed.add("planning", member_subject("ben"),
                                     member("ben", teams=("brand",)), minute=0)
    ids["planned"] = feed.add("planning", BRAND, plan_contract.CampaignPlanned(
        campaign_id=BRAND, name="Launch", playbook_id=PLAYBOOK, playbook_version=1,
        launch_date=dt.date(2027, 3, 1), team_id="brand", tasks=[plan_contract.PlannedTask(
            task_id=TASK, key="brief", title="Brief", role="writer",
            due_date=dt.date(2027, 2, 1), assignee_id="ben",
            approval_chain=[plan_contract.ApprovalStep(member_id="lee")])]), minute=1)
    ids["started"] = feed.add("execution", TASK, task_contract.TaskStarted(
        task_id=TASK, campaign_id=BRAND, assignee_id="ben"), minute=2, actor="ben")
    ids["absence"] = feed.add("planning", member_subject("ben"), plan_contract.AbsenceRecorded(
        absence_id=uuid.uuid4(), member_id="ben", starts_on=dt.date(2026, 11, 3),
        ends_on=dt.date(2026, 11, 6), backup_member_id="carla", reason=SECRET),
        minute=3, reason=SECRET)
    ids["handed over"] = feed.add("execution", TASK, task_contract.TaskAssigned(
        task_id=TASK, campaign_id=BRAND, title="Brief", assignee_id="carla",
        due_date=dt.date(2027, 2, 1), previous_assignee_id="ben", via="absence"),
        minute=4, actor="system:execution", reason="absence: ben away")
    ids["delegated"] = feed.add("execution", TASK, task_contract.ApprovalsDelegated(
        task_id=TASK, member_id="lee", backup_id="dave"), minute=5, actor="system:execution")
    ids["submitted"] = feed.add("execution", TASK, task_contract.TaskSubmitted(
        task_id=TASK, campaign_id=BRAND, submission_version=1, reference="https://d/1",
        note="", pending_approvers=["dave"]), minute=6, actor="carla")
    notification_id = uuid.uuid4()
    ids["notified"] = feed.add("notification", notification_id,
                               notification_contract.NotificationRecorded(
                                   notification_id=notification_id, recipient_id="ben",
                                   kind="task.assigned", subject_id=TASK, text="Brief"),
                               minute=7, actor="system:notification")
    ids["playbook"] = feed.add("planning", PLAYBOOK, plan_contract.PlaybookDefined(
        playbook_id=PLAYBOOK, name="Launch", version=1, tasks=[]), minute=-20)
    ids["playbook v2"] = feed.add("planning", PLAYBOOK, plan_contract.PlaybookDefined(
        playbook_id=PLAYBOOK, name="Launch", version=2, tasks=[]), minute=8)
    ids["goal"] = feed.add("planning", GOAL, plan_contract.GoalDefined(
        goal_id=GOAL, name="Leads", kind="sales_support", weight=1, kpi_name="leads",
        kpi_target=10, period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 12, 1)),
        minute=-15)
    ids["measured"] = feed.add("planning", GOAL, plan_contract.KpiMeasured(
        goal_id=GOAL, value=3, measured_on=dt.date(2026, 11, 2), source="crm"),
        minute=9, actor="system:crm")
    return feed, ids


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[tuple[ServiceClient, dict[str, str]]]:
    feed, ids = story()
    with service_client("reporting", tmp_path) as client:
        for event in feed.events:
            assert client.application.process_inbound(event)
        yield client, ids


def activity(client: ServiceClient, member_id: str, caller: str, **params: str) -> Any:
    return client.get(f"/audit/members/{member_id}/activity", params=params,
                      headers=auth(caller))


def entries(client: ServiceClient, member_id: str, caller: str = "erin",
            **params: str) -> list[dict[str, Any]]:
    response = activity(client, member_id, caller, **params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_a_members_activity_is_what_they_did_and_what_was_done_for_them(
        reporting: tuple[ServiceClient, dict[str, str]]) -> None:
    client, ids = reporting
    found = entries(client, "ben")
    assert [(e["id"], e["role"]) for e in found] == [
        (ids["ben registered"], "on_behalf"), (ids["planned"], "on_behalf"),
        (ids["started"], "actor"), (ids["absence"], "on_behalf"),
        (ids["handed over"], "on_behalf"), (ids["notified"], "on_behalf")]
    handed = found[4]
    assert handed["actor"] == "system:execution"
    assert handed["source"] == "/marketflow/execution"
    assert handed["type"] == task_contract.TaskAssigned.event_type
    assert handed["data"]["assignee_id"] == "carla"
    assert set(handed) >= {"id", "type", "time", "subject", "actor", "reason",
                           "correlation_id", "causation_id", "source", "role", "data"}

    assert [e["id"] for e in entries(client, "ben", include="own")] == [ids["started"]]
    assert [e["id"] for e in entries(client, "ben", include="on_behalf")] == [
        e["id"] for e in found if e["role"] == "on_behalf"]
    # Delegated approvals, and the submission waiting for them: dave's.
    assert [(e["id"], e["role"]) for e in entries(client, "dave")] == [
        (ids["dave"], "on_behalf"), (ids["delegated"], "on_behalf"),
        (ids["submitted"], "on_behalf")]
    # The system's own actors are nobody's activity.
    assert entries(client, "system:execution") == []


def test_the_period_is_from_inclusive_to_exclusive(
        reporting: tuple[ServiceClient, dict[str, str]]) -> None:
    client, ids = reporting
    found = entries(client, "ben", **{"from": (T0 + dt.timedelta(minutes=2)).isoformat(),
                                      "to": (T0 + dt.timedelta(minutes=7)).isoformat()})
    assert [e["id"] for e in found] == [ids["started"], ids["absence"], ids["handed over"]]


def test_pages_follow_the_cursor_without_duplicates_or_omissions(tmp_path: Path) -> None:
    feed = Feed()
    # Comments on one task, several at the same instant (ties go in arrival order), some
    # of them sent to the archive before earlier ones (out of time order).
    minutes = [m for m in range(20)] + [5, 5, 5, 3.5, 0, 19]
    expected = [feed.add("execution", TASK, task_contract.TaskCommented(
        task_id=TASK, text=f"comment {n}", submission_version=0), minute=minute,
        actor="ben") for n, minute in enumerate(minutes)]
    order = sorted(range(len(expected)), key=lambda n: (minutes[n], n))
    with service_client("reporting", tmp_path) as client:
        for event in feed.events:
            assert client.application.process_inbound(event)
        seen: list[str] = []
        url: str | None = "/audit/members/ben/activity?limit=7"
        pages = 0
        while url is not None:
            response = client.get(url, headers=auth("anna"))
            assert response.status_code == 200, response.text
            seen += [e["id"] for e in response.json()]
            pages += 1
            link = response.headers.get("Link")
            url = link[1:link.index(">")] if link else None
        assert pages == 4
        assert seen == [expected[n] for n in order]
        bad = client.get("/audit/members/ben/activity?cursor=nonsense", headers=auth("anna"))
        assert bad.status_code == 422


def test_absence_reasons_are_the_members_own(
        reporting: tuple[ServiceClient, dict[str, str]]) -> None:
    client, ids = reporting

    def absence(found: list[dict[str, Any]]) -> tuple[Any, Any]:
        entry = next(e for e in found if e["id"] == ids["absence"])
        return entry["data"]["reason"], entry["reason"]

    assert absence(entries(client, "ben", caller="ben")) == (SECRET, SECRET)
    assert absence(entries(client, "ben", caller="anna")) == (AWAY, AWAY)
    assert absence(entries(client, "ben", caller="erin")) == (AWAY, AWAY)
    assert absence(entries(client, "carla", caller="carla")) == (AWAY, AWAY)  # the backup
    assert absence(entries(client, "anna", caller="anna")) == (AWAY, AWAY)  # who recorded it

    def history(caller: str) -> tuple[Any, Any]:
        response = client.get("/members/ben/history", headers=auth(caller))
        assert response.status_code == 200, response.text
        return absence(response.json()["events"])

    assert history("ben") == (SECRET, SECRET)
    assert history("erin") == (AWAY, AWAY)
    assert AWAY == PLANNING_AWAY


def test_who_may_read_whose_activity(
        reporting: tuple[ServiceClient, dict[str, str]]) -> None:
    client, _ = reporting
    statuses = {(caller, whose): activity(client, whose, caller).status_code
                for caller, whose in [("ben", "ben"), ("carla", "ben"), ("dave", "ben"),
                                      ("mette", "carla"), ("mette", "lee"), ("mette", "ben"),
                                      ("erin", "ben"), ("anna", "carla"),
                                      ("carla", "nobody")]}
    assert statuses == {("ben", "ben"): 200, ("carla", "ben"): 403, ("dave", "ben"): 403,
                        ("mette", "carla"): 200, ("mette", "lee"): 200,
                        ("mette", "ben"): 403, ("erin", "ben"): 200, ("anna", "carla"): 200,
                        ("carla", "nobody"): 403}
    refused = activity(client, "ben", "carla")
    assert "audit.activity.read" in refused.text
    for path in ("/members/ben/history", "/members/carla/history"):
        assert client.get(path, headers=auth("dave")).status_code == 403
    assert client.get("/members/carla/history", headers=auth("mette")).status_code == 200


def test_an_unknown_member_has_no_activity_and_no_history(
        reporting: tuple[ServiceClient, dict[str, str]]) -> None:
    client, _ = reporting
    assert entries(client, "nobody") == []
    assert client.get("/members/nobody/history", headers=auth("erin")).status_code == 404


@pytest.mark.parametrize(("params", "message"), [
    ({"from": "2026-11-02T09:00:00"}, "from: give a time zone"),
    ({"to": "2026-11-02T09:00:00"}, "to: give a time zone"),
    ({"from": "2026-11-02T10:00:00Z", "to": "2026-11-02T09:00:00Z"}, "before to"),
    ({"from": "2026-11-02T09:00:00Z", "to": "2026-11-02T09:00:00Z"}, "before to"),
    ({"from": "yesterday"}, "from"),
    ({"include": "everything"}, "include"),
])
def test_a_bad_period_is_refused_saying_why(
        reporting: tuple[ServiceClient, dict[str, str]], params: dict[str, str],
        message: str) -> None:
    client, _ = reporting
    response = activity(client, "ben", "erin", **params)
    assert response.status_code == 422, response.text
    assert message in response.text


def test_playbook_and_goal_histories(
        reporting: tuple[ServiceClient, dict[str, str]]) -> None:
    client, ids = reporting

    def history(path: str, caller: str = "anna", **params: str) -> Any:
        return client.get(path, params=params, headers=auth(caller))

    found = history(f"/playbooks/{PLAYBOOK}/history")
    assert found.status_code == 200, found.text
    assert found.json()["playbook_id"] == str(PLAYBOOK)
    assert [e["id"] for e in found.json()["events"]] == [ids["playbook"], ids["playbook v2"]]
    earlier = history(f"/playbooks/{PLAYBOOK}/history", as_of=T0.isoformat())
    assert [e["id"] for e in earlier.json()["events"]] == [ids["playbook"]]
    paged = history(f"/playbooks/{PLAYBOOK}/history", limit="1")
    assert [e["id"] for e in paged.json()["events"]] == [ids["playbook"]]
    assert "cursor=" in paged.headers["Link"]

    goal = history(f"/goals/{GOAL}/history", caller="mette")  # a manager plans with goals
    assert [e["id"] for e in goal.json()["events"]] == [ids["goal"], ids["measured"]]
    assert history(f"/goals/{GOAL}/history", caller="ben").status_code == 403
    assert history(f"/playbooks/{PLAYBOOK}/history", caller="ben").status_code == 403
    assert history(f"/goals/{uuid.uuid4()}/history").status_code == 404
    assert history(f"/goals/{GOAL}/history",
                   as_of="2026-11-02T09:00:00").status_code == 422


def test_member_history_is_the_directory_record_and_absences(
        reporting: tuple[ServiceClient, dict[str, str]]) -> None:
    client, ids = reporting
    found = client.get("/members/ben/history", headers=auth("ben"))
    assert found.status_code == 200, found.text
    assert found.json()["member_id"] == "ben"
    assert [e["id"] for e in found.json()["events"]] == [ids["ben registered"], ids["absence"]]
    # Subjects are planning's member aggregates.
    assert member_subject("ben") == str(member_aggregate_id("ben"))


# --- the member fields, from the contracts --------------------------------------------------

NOT_MEMBER_FIELDS = frozenset({"team_id", "team_ids", "external_id", "subscription_id"})
"""Id-like fields of the contracts that name no member."""


def _text_types(annotation: Any) -> bool:
    """A str, an optional one, a list of them or a mapping to lists of them."""
    if annotation is str:
        return True
    return any(_text_types(arg) for arg in typing.get_args(annotation))


def _contract_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    names: set[str] = set()
    if model in seen:
        return names
    seen.add(model)
    for name, field in model.model_fields.items():
        if _text_types(field.annotation):
            names.add(name)
        for inner in _nested_models(field.annotation):
            names |= _contract_fields(inner, seen)
    return names


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_args(annotation):
        return [m for arg in typing.get_args(annotation) for m in _nested_models(arg)]
    return []


def test_every_id_like_field_of_the_contracts_is_classified() -> None:
    seen: set[type[BaseModel]] = set()
    text_fields = set().union(*(_contract_fields(model, seen)
                                for model in EVENT_TYPES.values()))
    id_like = {name for name in text_fields if name.endswith(
        ("_id", "_ids", "_to", "approvers", "holders", "members", "recipient"))}
    assert id_like - MEMBER_FIELDS - NOT_MEMBER_FIELDS == set(), (
        "a contract field names members or not: add it to activity.MEMBER_FIELDS or "
        "to NOT_MEMBER_FIELDS here")
    assert MEMBER_FIELDS - text_fields == set()  # none is stale


def test_member_fields_are_found_at_any_depth() -> None:
    assert members_named({"tasks": [{"assignee_id": "ben", "role_members": {
        "brand": ["lee", "dave"]}, "approval_chain": [{"member_id": "mo", "role": None}]}],
        "team_id": "brand", "manager_id": None, "text": "ben"}) == {"ben", "lee", "dave", "mo"}


def test_the_read_model_rebuilds_the_same_and_every_row_finds_its_archived_event(
        reporting: tuple[ServiceClient, dict[str, str]]) -> None:
    client, _ = reporting
    view = next(view for view in client.app.state.runtime.parts.views  # type: ignore[attr-defined]
                if isinstance(view, ActivityView))
    archive = client.application.archive
    view.catch_up()
    archive.catch_up()
    assert [difference.count for difference in view.verify()] == [0, 0]
    with view.store.transaction(commit=False) as sql:
        rows = sql.rows(f'SELECT act."event_id", a."id" FROM {view.table("activity")} act '
                        f'LEFT JOIN {archive.table("archive_events")} a '
                        'ON a."seq" = act."seq"')
    assert rows and all(row["event_id"] == row["id"] for row in rows)
