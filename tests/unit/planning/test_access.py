"""Planning's access rules where they bite: what a writer can no longer do, what an
auditor reads, absence reasons, API tokens and secret calendar addresses, and sign-in
through a real OpenID Connect provider."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.auth import Member, TokenRegistry
from shared.config import Settings
from shared.oidc import OidcSettings
from shared.policy import Role
from shared.runtime import create_http_app
from tests.harness import BUILDERS, LAUNCH_PLAYBOOK
from tests.oidc_provider import CLIENT_ID, running_provider, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib")

TOKENS = TokenRegistry({
    "t-anna": Member("anna", "Anna", frozenset({Role.ADMIN})),
    "t-ben": Member("ben", "Ben"),
    "t-erin": Member("erin", "Erin"),
    "t-max": Member("max", "Max"),
    "t-aud": Member("aud", "Aud", frozenset({Role.AUDITOR})),
})
ANNA, BEN, ERIN = ({"Authorization": "Bearer t-anna"}, {"Authorization": "Bearer t-ben"},
                   {"Authorization": "Bearer t-erin"})
MAX, AUDITOR = {"Authorization": "Bearer t-max"}, {"Authorization": "Bearer t-aud"}
TODAY = dt.date.today()
GOAL = {"name": "Leads", "kind": "sales_support", "weight": 1, "kpi": {
    "name": "leads", "target": 10, "period_start": TODAY.isoformat(),
    "period_end": (TODAY + dt.timedelta(days=30)).isoformat()}}


def client_for(directory: Path, oidc: OidcSettings | None = None) -> TestClient:
    settings = replace(Settings(service="planning"), sqlite_dir=directory)
    app = create_http_app(settings, BUILDERS["planning"], tokens=TOKENS, oidc_settings=oidc)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    client = client_for(tmp_path)
    assert client.put("/teams/content", json={"name": "Content"}, headers=ANNA).status_code == 200
    for member_id in ("max", "ben", "erin"):
        assert client.put(f"/members/{member_id}", headers=ANNA, json={
            "name": member_id.title(), "team_ids": ["content"], "roles": ["writer"],
            "manager_id": None if member_id == "max" else "max"}).status_code == 200
    assert client.put("/teams/content", json={"name": "Content", "manager_id": "max"},
                      headers=ANNA).status_code == 200
    try:
        yield client
    finally:
        client.app.state.runtime.application.close()  # type: ignore[attr-defined]


def head(client: TestClient) -> int:
    return int(client.app.state.runtime.application.max_notification_id())  # type: ignore[attr-defined]


def test_a_writer_can_no_longer_change_roles_absences_playbooks_campaigns_or_goals(
        client: TestClient) -> None:
    before = head(client)
    ben_as_planner = {"name": "Ben", "team_ids": ["content"], "roles": ["writer", "planner"],
                      "manager_id": "max"}
    refused = [
        client.put("/members/ben", json=ben_as_planner, headers=BEN),
        client.put("/members/erin", json={"name": "Erin", "roles": ["planner"]}, headers=BEN),
        client.post("/members/erin/absences", headers=BEN, json={
            "starts_on": TODAY.isoformat(), "ends_on": TODAY.isoformat()}),
        client.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=BEN),
        client.post("/goals", headers=BEN, json=GOAL),
        client.post("/api-tokens", json={"principal_id": "ben", "label": "mine"}, headers=BEN),
    ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    assert "may not member.register" in refused[0].json()["detail"]
    assert head(client) == before
    # The team's manager manages their team's people, but cannot hand out access roles.
    by_manager = client.put("/members/ben", json=ben_as_planner, headers=MAX)
    assert by_manager.status_code == 403
    assert "may not member.grant_access" in by_manager.json()["detail"]
    assert client.put("/members/ben", headers=MAX, json={
        **ben_as_planner, "roles": ["writer", "editor"]}).status_code == 200
    assert client.put("/members/ben", json=ben_as_planner, headers=ANNA).status_code == 200


def test_a_member_records_their_own_absence_and_only_whom_it_concerns_reads_why(
        client: TestClient) -> None:
    away = client.post("/members/ben/absences", headers=BEN, json={
        "starts_on": TODAY.isoformat(), "ends_on": TODAY.isoformat(),
        "reason": "medical leave (surgery)"})
    assert away.status_code == 201, away.text
    path = away.headers["Location"]

    def reason(headers: dict[str, str]) -> Any:
        return client.get(path, headers=headers).json()["reason"]

    assert [reason(who) for who in (BEN, MAX, ANNA, AUDITOR)] == [
        "medical leave (surgery)"] * 4
    assert reason(ERIN) == "away"
    listed = client.get("/members", headers=ERIN).json()
    assert [a["reason"] for m in listed if m["member_id"] == "ben" for a in m["absences"]] \
        == ["away"]
    team = client.get("/teams/content", headers=ERIN).json()
    assert [a["reason"] for m in team["members"] for a in m["absences"]] == ["away"]


def test_an_auditor_reads_everything_and_changes_nothing(client: TestClient) -> None:
    playbook = client.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=ANNA).json()
    for path in ("/playbooks", f"/playbooks/{playbook['id']}", "/campaigns", "/members",
                 "/teams", "/goals", "/routines", "/api-tokens"):
        assert client.get(path, headers=AUDITOR).status_code == 200, path
    before = head(client)
    for method, path, body in (
            ("POST", "/playbooks", LAUNCH_PLAYBOOK),
            ("PUT", "/teams/content", {"name": "Renamed"}),
            ("POST", "/members/aud/absences", {"starts_on": TODAY.isoformat(),
                                               "ends_on": TODAY.isoformat()}),
            ("POST", "/routines/run", None)):
        assert client.request(method, path, json=body, headers=AUDITOR).status_code in (
            403, 404), path
    assert head(client) == before


def test_an_api_token_is_shown_once_works_and_stops_when_revoked(client: TestClient) -> None:
    issued = client.post("/api-tokens", headers=ANNA, json={
        "principal_id": "crm-sync", "label": "CRM KPI feed", "service_account": True,
        "roles": ["integration"]})
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    machine = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api-tokens", headers=ANNA).json()
    assert [row["label"] for row in listed] == ["CRM KPI feed"]
    assert token not in str(listed)
    goal = client.post("/goals", headers=ANNA, json=GOAL).json()
    measured = client.post(f"/goals/{goal['id']}/measurements", headers=machine,
                           json={"value": 3, "measured_on": TODAY.isoformat()})
    assert measured.status_code == 201, measured.text
    assert client.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=machine).status_code == 403
    assert client.delete(f"/api-tokens/{issued.json()['token_id']}",
                         headers=ANNA).json()["revoked_by"] == "anna"
    refused = client.get("/goals", headers=machine)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    # A member's token acts as the member; it cannot carry roles of its own.
    assert client.post("/api-tokens", headers=ANNA, json={
        "principal_id": "ben", "label": "x", "roles": ["integration"]}).status_code == 422
    assert client.post("/api-tokens", headers=ANNA, json={
        "principal_id": "ben", "label": "x", "expires_at": "2020-01-01T00:00:00Z"}
    ).status_code == 422


def test_a_calendar_address_opens_its_feed_only_and_rotates_and_revokes(
        client: TestClient) -> None:
    made = client.post("/members/ben/calendar-feeds", headers=BEN,
                       json={"kind": "team", "id": "content"})
    assert made.status_code == 201, made.text
    key = made.json()["url"].split("?key=")[1]
    assert client.get("/calendar/teams/content.ics", params={"key": key}).status_code == 200
    assert client.get("/calendar/members/ben.ics", params={"key": key}).status_code == 401
    assert client.get("/members", params={"key": key}).status_code == 401
    assert client.post("/members/erin/calendar-feeds", headers=BEN,
                       json={"kind": "member", "id": "erin"}).status_code == 403
    feed_id = made.json()["feed_id"]
    rotated = client.post(f"/members/ben/calendar-feeds/{feed_id}/rotate", headers=BEN)
    new_key = rotated.json()["url"].split("?key=")[1]
    assert client.get("/calendar/teams/content.ics", params={"key": key}).status_code == 401
    assert client.get("/calendar/teams/content.ics", params={"key": new_key}).status_code == 200
    assert client.delete(f"/members/ben/calendar-feeds/{feed_id}", headers=BEN).json()[
        "revoked"]
    assert client.get("/calendar/teams/content.ics",
                      params={"key": new_key}).status_code == 401
    assert [row["revoked"] for row in client.get("/members/ben/calendar-feeds",
                                                 headers=BEN).json()] == [True]
    # Leaving the team closes the team's feed to the address made while in it.
    again = client.post("/members/ben/calendar-feeds", headers=BEN,
                        json={"kind": "team", "id": "content"}).json()
    assert client.put("/members/ben", headers=ANNA, json={"name": "Ben"}).status_code == 200
    assert client.get("/calendar/teams/content.ics",
                      params={"key": again["url"].split("?key=")[1]}).status_code == 403


def test_people_sign_in_with_tokens_from_the_organizations_provider(tmp_path: Path) -> None:
    with running_provider() as issuer:
        oidc = OidcSettings(issuer=issuer, audiences=(CLIENT_ID,),
                            member_claim="preferred_username", roles_claim="groups")
        client = client_for(tmp_path, oidc)
        try:
            admin = sign_in(issuer, "u-1", {"preferred_username": "anna",
                                            "groups": ["admin", "marketing"]})["id_token"]
            writer = sign_in(issuer, "u-2", {"preferred_username": "ben"})["id_token"]
            as_admin = {"Authorization": f"Bearer {admin}"}
            defined = client.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=as_admin)
            assert defined.status_code == 201, defined.text
            assert defined.json()["defined_by"] == "anna"  # the configured claim
            as_writer = {"Authorization": f"Bearer {writer}"}
            assert client.get("/playbooks", headers=as_writer).status_code == 200
            assert client.post("/playbooks", json=LAUNCH_PLAYBOOK,
                               headers=as_writer).status_code == 403
            forged = writer[:-4] + ("AAAA" if not writer.endswith("AAAA") else "BBBB")
            assert client.get("/playbooks", headers={
                "Authorization": f"Bearer {forged}"}).status_code == 401
        finally:
            client.app.state.runtime.application.close()  # type: ignore[attr-defined]


def test_a_contributor_lists_and_reads_the_campaigns_of_their_teams_and_their_work(
        client: TestClient) -> None:
    playbook = client.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=ANNA).json()
    launch = (TODAY + dt.timedelta(days=90)).isoformat()

    def plan(name: str, writer: str, team_id: str | None) -> str:
        planned = client.post("/campaigns", headers=ANNA, json={
            "playbook_id": playbook["id"], "name": name, "launch_date": launch,
            "team_id": team_id, "assignments": {"writer": writer, "designer": writer}})
        assert planned.status_code == 201, planned.text
        return str(planned.json()["id"])

    assert client.put("/members/erin", headers=ANNA, json={"name": "Erin"}).status_code == 200
    content = plan("Content's", "ben", "content")
    elsewhere = plan("No team's", "erin", None)

    def listed(headers: dict[str, str]) -> set[str]:
        return {row["name"] for row in client.get("/campaigns", headers=headers).json()}

    assert listed(BEN) == {"Content's"}
    assert listed(ERIN) == {"No team's"}  # left the team; holds the other's tasks
    assert listed(AUDITOR) == listed(ANNA) == {"Content's", "No team's"}
    assert client.get(f"/campaigns/{content}", headers=BEN).status_code == 200
    assert client.get(f"/campaigns/{elsewhere}", headers=BEN).status_code == 403
    assert client.get(f"/campaigns/{elsewhere}", headers=MAX).status_code == 403
