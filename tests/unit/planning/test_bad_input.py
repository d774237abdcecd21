"""Bad input to planning gets a clear 4xx naming the problem and changes nothing
(issue 9, points 11 and 12)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.planning.domain import RoutineDefinition, define_routine
from shared.domain import EventMeta, InvalidCommand
from tests.harness import LAUNCH_PLAYBOOK
from tests.unit.in_process import ServiceClient, auth, service_client

ANNA = auth("anna")
PLAYBOOK_ID = "00000000-0000-4000-8000-000000000001"


def routine(rule: str, horizon_days: int = 90) -> RoutineDefinition:
    return RoutineDefinition(name="R", playbook_id=PLAYBOOK_ID, rule=rule,  # type: ignore[arg-type]
                             starts_on=dt.date(2027, 1, 1), horizon_days=horizon_days)


@pytest.mark.parametrize("rule, message", [
    ("FREQ", "'FREQ' is not NAME=VALUE"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never falls on a date"),
    ("FREQ=DAILY", "plans 91 campaigns within 90 days; at most 60"),
])
def test_routine_rules_that_cannot_work_are_refused_clearly(rule: str, message: str) -> None:
    with pytest.raises(InvalidCommand, match=message):
        define_routine(routine(rule), EventMeta(actor="anna"))


@pytest.fixture
def planning(tmp_path: Path) -> Iterator[ServiceClient]:
    with service_client("planning", tmp_path) as client:
        yield client


def refused(client: ServiceClient, method: str, path: str, status: int, mentions: str,
            **kwargs: Any) -> None:
    before = client.head_position()
    response = client.request(method, path, headers=ANNA, **kwargs)
    assert response.status_code == status, response.text
    assert mentions in response.text, response.text
    assert client.head_position() == before


@pytest.mark.parametrize("title", ["\x00", "   ", "Draft\x00"])
def test_nul_and_blank_titles_are_refused(planning: ServiceClient, title: str) -> None:
    tasks = [{**LAUNCH_PLAYBOOK["tasks"][0], "title": title}]  # type: ignore[index]
    refused(planning, "POST", "/playbooks", 422, "tasks.brief.title",
            json={"name": "P", "tasks": tasks})


def test_dates_numbers_and_booleans_are_strict_and_bounded(planning: ServiceClient) -> None:
    playbook = planning.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=ANNA).json()
    refused(planning, "POST", "/campaigns", 422, "launch_date", json={
        "playbook_id": playbook["id"], "name": "C", "launch_date": "0001-01-02"})
    refused(planning, "PUT", "/teams/t", 422, "not a number",
            json={"name": "T", "closed_days": [0]})
    refused(planning, "PUT", "/members/m", 422, "active", json={"name": "M", "active": 0})
    refused(planning, "PUT", "/teams/t", 422, "100",
            json={"name": "T", "queues": [f"q{n}" for n in range(101)]})
    refused(planning, "PUT", "/members/m", 422, "64",
            json={"name": "M", "roles": ["r" * 100_000]})
    refused(planning, "PUT", "/members/" + "m" * 100, 422, "member_id", json={"name": "M"})


def test_a_member_feed_of_nobody_is_not_found(planning: ServiceClient) -> None:
    response = planning.get("/calendar/members/nope.ics", headers=ANNA)
    assert response.status_code == 404, response.text


# --- no 5xx for any text ----------------------------------------------------------------

TEXT = st.text(st.characters(codec=None, categories=None), max_size=30) | st.sampled_from(
    ["\ud800", "\x00", " ", "\u202e", "\udfff\ud800", "a\x1fb", ""])


def commands(text: str, playbook_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every planning command, with ``text`` in each of its text fields in turn."""
    task = {"key": "a", "title": "A", "role": "w"}
    kpi = {"name": "k", "target": 1, "period_start": "2026-01-01", "period_end": "2026-12-31"}
    goal = {"name": "G", "kind": "custom", "custom_kind": "c", "weight": 1, "kpi": kpi}
    campaign = {"playbook_id": playbook_id, "name": "C", "launch_date": "2027-03-01"}
    return [
        ("POST", "/playbooks", {"name": text, "tasks": [task]}),
        ("POST", "/playbooks", {"name": "P", "description": text, "tasks": [task]}),
        *[("POST", "/playbooks", {"name": "P", "tasks": [{**task, field: text}]})
          for field in ("key", "title", "role", "description", "deliverable")],
        ("POST", "/playbooks", {"name": "P", "tasks": [{**task, "consulted": [text]}]}),
        ("POST", "/playbooks", {"name": "P", "tasks": [
            {**task, "approval_chain": [{"role": text}]}]}),
        ("POST", "/campaigns", {**campaign, "name": text}),
        ("POST", "/campaigns", {**campaign, "assignments": {"w": text}}),
        ("POST", "/campaigns", {**campaign, "assignments": {text: "ben"}}),
        ("POST", "/campaigns", {**campaign, "team_id": text}),
        ("POST", "/routines", {"name": text, "playbook_id": playbook_id,
                               "rule": "FREQ=MONTHLY", "starts_on": "2027-01-01"}),
        ("POST", "/routines", {"name": "R", "playbook_id": playbook_id, "rule": text,
                               "starts_on": "2027-01-01"}),
        *[("POST", "/goals", {**goal, field: text}) for field in ("name", "description",
                                                                  "custom_kind")],
        *[("POST", "/goals", {**goal, "kpi": {**kpi, field: text}}) for field in ("name",
                                                                                   "unit")],
        ("PUT", "/teams/t", {"name": text}),
        ("PUT", "/teams/t", {"name": "T", "queues": [text]}),
        ("PUT", "/teams/t", {"name": "T", "country": text}),
        ("PUT", "/members/m", {"name": text}),
        ("PUT", "/members/m", {"name": "M", "roles": [text]}),
        ("PUT", "/members/m", {"name": "M", "email": text}),
        ("POST", "/members/ben/absences", {"starts_on": "2027-01-01", "ends_on": "2027-01-02",
                                           "reason": text}),
        ("POST", "/members/ben/absences", {"starts_on": "2027-01-01", "ends_on": "2027-01-02",
                                           "backup_member_id": text}),
    ]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=TEXT)
def test_no_text_in_any_command_field_gives_a_server_error(tmp_path_factory: Any,
                                                           text: str) -> None:
    with service_client("planning", tmp_path_factory.mktemp("fuzz")) as client:
        playbook = client.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=ANNA).json()
        client.put("/members/ben", json={"name": "Ben"}, headers=ANNA)
        for method, path, body in commands(text, playbook["id"]):
            # Serialized by hand: httpx's json= refuses lone surrogates; a client may not.
            content = json.dumps(body).encode()
            response = client.request(method, path, content=content, headers={
                **ANNA, "content-type": "application/json"})
            assert response.status_code < 500, (path, body, response.text)
            response.json()  # always a JSON body
