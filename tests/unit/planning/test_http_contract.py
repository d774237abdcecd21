"""Planning's HTTP contract, in-process: typed answers in the OpenAPI document, ETag /
If-Match / 412, Location on 201, cursor pages on every list, and conditional GET and
HEAD on the ICS feeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness import LAUNCH_PLAYBOOK
from tests.unit.in_process import ServiceClient, auth, service_client

ANNA = auth("anna")
TODAY = dt.date.today()
PLANNING_TAGS = {"playbooks", "campaigns", "calendar", "goals", "directory"}
JSON = "application/json"


@dataclass
class World:
    client: ServiceClient
    playbook: dict[str, Any]
    campaign: dict[str, Any]
    goal: dict[str, Any]
    routine: dict[str, Any]


def created(client: ServiceClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body, headers=ANNA)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A team, three members, a playbook, a campaign, a goal and a weekly routine."""
    with service_client("planning", tmp_path) as client:
        assert client.put("/teams/content-dk", json={"name": "Content", "country": "DK"},
                          headers=ANNA).status_code == 200
        for member_id in ("ben", "carla", "erin"):
            assert client.put(f"/members/{member_id}", headers=ANNA, json={
                "name": member_id.title(), "team_ids": ["content-dk"],
                "roles": ["writer"]}).status_code == 200
        playbook = created(client, "/playbooks", LAUNCH_PLAYBOOK)
        assignments = {"writer": "ben", "designer": "carla"}
        campaign = created(client, "/campaigns", {
            "playbook_id": playbook["id"], "name": "Spring launch",
            "launch_date": "2027-03-01", "team_id": "content-dk",
            "assignments": assignments})
        goal = created(client, "/goals", {
            "name": "Leads", "kind": "sales_support", "weight": 2, "kpi": {
                "name": "qualified leads", "target": 100,
                "period_start": (TODAY - dt.timedelta(days=30)).isoformat(),
                "period_end": (TODAY + dt.timedelta(days=300)).isoformat()}})
        routine = created(client, "/routines", {
            "name": "Weekly post", "playbook_id": playbook["id"], "rule": "FREQ=WEEKLY",
            "starts_on": TODAY.isoformat(), "horizon_days": 21, "team_id": "content-dk",
            "assignments": assignments})
        yield World(client, playbook, campaign, goal, routine)


# --- the OpenAPI document ----------------------------------------------------------------

def untyped(schema: dict[str, Any], components: dict[str, Any], path: str = "$",
            seen: frozenset[str] = frozenset()) -> list[str]:
    """Where ``schema`` lets an object through without saying what is in it."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return untyped(components[name], components, name, seen | {name})
    problems = []
    if schema.get("additionalProperties") is True:
        problems.append(f"{path}: additionalProperties: true")
    if schema.get("type") == "object" and not schema.get("properties") \
            and not isinstance(schema.get("additionalProperties"), dict):
        problems.append(f"{path}: an object without properties")
    for key, value in schema.get("properties", {}).items():
        problems += untyped(value, components, f"{path}.{key}", seen)
    for keyword in ("items", "additionalProperties"):
        if isinstance(schema.get(keyword), dict):
            problems += untyped(schema[keyword], components, f"{path}[]", seen)
    for keyword in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(keyword, []):
            problems += untyped(option, components, path, seen)
    return problems


def planning_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if PLANNING_TAGS & set(operation.get("tags", [])):
                yield method.upper(), path, operation


def test_every_planning_operation_answers_2xx_with_a_concrete_schema(
        tmp_path: Path) -> None:
    with service_client("planning", tmp_path) as client:
        document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    operations = list(planning_operations(document))
    assert len(operations) >= 35
    problems = []
    for method, path, operation in operations:
        answers = {code: answer for code, answer in operation["responses"].items()
                   if code.startswith("2")}
        assert answers, f"{method} {path}: no 2xx answer documented"
        for code, answer in answers.items():
            content = answer.get("content", {})
            if not content:
                problems.append(f"{method} {path} {code}: no content")
            for media_type, described in content.items():
                schema = described.get("schema")
                if not schema:
                    problems.append(f"{method} {path} {code} {media_type}: no schema")
                elif media_type in (JSON, "application/yaml"):  # a YAML file's data is typed
                    problems += [f"{method} {path} {code}: {problem}"
                                 for problem in untyped(schema, components)]
                else:  # iCalendar files
                    assert schema == {"type": "string"}, (method, path, schema)
    assert problems == []


def test_the_untyped_check_finds_what_it_is_for() -> None:
    assert untyped({"type": "object", "additionalProperties": True}, {})
    assert untyped({"type": "array", "items": {"$ref": "#/c/Thing"}},
                   {"Thing": {"type": "object", "properties": {"x": {"type": "object"}}}})
    assert not untyped({"type": "object", "additionalProperties": {"type": "string"}}, {})


# --- ETag and If-Match -------------------------------------------------------------------

def etag_of(client: ServiceClient, path: str) -> str:
    response = client.get(path, headers=ANNA)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def test_every_single_resource_read_has_its_version_as_etag(world: World) -> None:
    client = world.client
    reads = {
        f"/playbooks/{world.playbook['id']}": "latest_version",
        f"/campaigns/{world.campaign['id']}": "version",
        f"/routines/{world.routine['id']}": "version",
        f"/goals/{world.goal['id']}": "version",
        "/teams/content-dk": "version",
        "/members/ben": "version",
    }
    for path, field in reads.items():
        response = client.get(path, headers=ANNA)
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{response.json()[field]}"', path


def commands_on_versions(world: World) -> list[tuple[str, str, dict[str, Any] | None, str]]:
    """(method, path, body, the resource whose ETag it acts on)."""
    playbook = f"/playbooks/{world.playbook['id']}"
    campaign = f"/campaigns/{world.campaign['id']}"
    revised = {**LAUNCH_PLAYBOOK, "name": "Product launch v2"}
    return [
        ("POST", f"{playbook}/revisions", revised, playbook),
        ("POST", f"{campaign}/reschedule", {"launch_date": "2027-03-15"}, campaign),
        ("POST", f"{campaign}/migrate", {"playbook_version": 2}, campaign),  # revised above
        ("POST", f"{campaign}/goals", {"goal_ids": [world.goal["id"]]}, campaign),
        ("POST", f"{campaign}/cancel", {"reason": "budget cut"}, campaign),
        ("POST", f"/goals/{world.goal['id']}/measurements",
         {"value": 5, "measured_on": TODAY.isoformat()}, f"/goals/{world.goal['id']}"),
        ("PUT", "/teams/content-dk", {"name": "Content DK", "country": "DK"},
         "/teams/content-dk"),
        ("PUT", "/members/erin", {"name": "Erin E."}, "/members/erin"),
        ("POST", "/members/ben/absences", {"starts_on": "2027-02-01",
                                           "ends_on": "2027-02-05"}, "/members/ben"),
        ("POST", f"/routines/{world.routine['id']}/stop", None,
         f"/routines/{world.routine['id']}"),
    ]


def test_a_stale_if_match_is_a_412_and_changes_nothing_a_current_one_succeeds(
        world: World) -> None:
    client = world.client
    for method, path, body, resource in commands_on_versions(world):
        current = etag_of(client, resource)
        stale = f'"{int(current.strip(chr(34))) - 1}"' if current != '"1"' else '"7"'
        before = client.head_position()
        refused = client.request(method, path, json=body, headers={**ANNA, "If-Match": stale})
        assert refused.status_code == 412, (path, refused.text)
        assert client.head_position() == before, path
        done = client.request(method, path, json=body, headers={**ANNA, "If-Match": current})
        assert done.status_code in (200, 201), (path, done.text)
        if resource != "/members/ben":  # an absence answers with itself, no ETag
            assert done.headers["ETag"] == etag_of(client, resource), path
        assert client.head_position() > before, path


def test_cancelling_an_absence_and_completing_a_campaign_take_if_match(world: World) -> None:
    client = world.client
    absence = client.post("/members/ben/absences", headers=ANNA, json={
        "starts_on": "2027-02-01", "ends_on": "2027-02-05"}).json()
    path = f"/members/ben/absences/{absence['absence_id']}"
    current = etag_of(client, path)
    assert current == etag_of(client, "/members/ben")
    assert client.delete(path, headers={**ANNA, "If-Match": '"1"'}).status_code == 412
    assert client.delete(path, headers={**ANNA, "If-Match": current}).status_code == 200
    campaign = f"/campaigns/{world.campaign['id']}/complete"
    # Not every task is done: a 409 for the state, but a stale version is a 412 first.
    assert client.post(campaign, headers={**ANNA, "If-Match": '"99"'}).status_code == 412
    assert client.post(campaign, headers={**ANNA, "If-Match": etag_of(
        client, f"/campaigns/{world.campaign['id']}")}).status_code == 409


def test_the_version_in_the_query_stays_a_409_and_if_match_may_replace_it(
        world: World) -> None:
    client = world.client
    playbook = f"/playbooks/{world.playbook['id']}"
    revised = {**LAUNCH_PLAYBOOK, "name": "Product launch v2"}
    assert client.post(f"{playbook}/revisions?expected_version=1", json=revised,
                       headers=ANNA).status_code == 200
    stale = client.post(f"{playbook}/revisions?expected_version=1",
                        json={**revised, "name": "v3"}, headers=ANNA)
    assert stale.status_code == 409, stale.text
    disagreeing = client.post(f"{playbook}/revisions?expected_version=1",
                              json={**revised, "name": "v3"},
                              headers={**ANNA, "If-Match": '"2"'})
    assert disagreeing.status_code == 422, disagreeing.text
    # An import that revises needs a version: If-Match is enough.
    text = yaml.safe_dump({**LAUNCH_PLAYBOOK, "name": "Product launch v3"}).encode()
    yaml_headers = {**ANNA, "content-type": "application/yaml"}
    query = f"/playbooks/import?playbook_id={world.playbook['id']}"
    assert client.post(query, content=text, headers=yaml_headers).status_code == 428
    assert client.post(query, content=text, headers={
        **yaml_headers, "If-Match": '"1"'}).status_code == 412
    imported = client.post(query, content=text, headers={**yaml_headers, "If-Match": '"2"'})
    assert imported.status_code == 201, imported.text
    assert imported.headers["ETag"] == '"3"'
    assert imported.headers["Location"] == playbook


# --- Location -------------------------------------------------------------------------------

def test_every_201_names_what_it_created_in_location(world: World) -> None:
    client = world.client
    yaml_headers = {**ANNA, "content-type": "application/yaml"}
    answers = [
        client.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=ANNA),
        client.post("/playbooks/import", content=yaml.safe_dump(LAUNCH_PLAYBOOK).encode(),
                    headers=yaml_headers),
        client.post("/campaigns", headers=ANNA, json={
            "playbook_id": world.playbook["id"], "name": "Autumn",
            "start_date": "2027-09-01"}),
        client.post("/goals", headers=ANNA, json={
            "name": "Reach", "kind": "awareness", "weight": 1, "kpi": {
                "name": "visits", "target": 10, "period_start": "2027-01-01",
                "period_end": "2027-12-31"}}),
        client.post("/routines", headers=ANNA, json={
            "name": "Monthly", "playbook_id": world.playbook["id"],
            "rule": "FREQ=MONTHLY", "starts_on": "2028-01-03"}),
        client.post(f"/goals/{world.goal['id']}/measurements", headers=ANNA,
                    json={"value": 3, "measured_on": TODAY.isoformat()}),
        client.post("/members/ben/absences", headers=ANNA,
                    json={"starts_on": "2027-04-01", "ends_on": "2027-04-02"}),
    ]
    for answer in answers:
        assert answer.status_code == 201, answer.text
        location = answer.headers["Location"]
        read = client.get(location, headers=ANNA)
        assert read.status_code == 200, (location, read.text)
        identity = {key: answer.json()[key] for key in ("id", "absence_id")
                    if key in answer.json()}
        assert identity and all(read.json()[k] == v for k, v in identity.items()), location


# --- cursor pages ---------------------------------------------------------------------------

def every_page(client: ServiceClient, path: str, params: dict[str, Any]
               ) -> tuple[list[Any], int]:
    """All rows of a list read one row a page, following the Link headers."""
    rows: list[Any] = []
    pages = 0
    url: str | None = path
    query: dict[str, Any] | None = {**params, "limit": 1}
    while url is not None:
        response = client.get(url, params=query, headers=ANNA)
        assert response.status_code == 200, response.text
        pages += 1
        rows += response.json()
        link = response.headers.get("Link")
        if link is None:
            assert "X-Next-Cursor" not in response.headers
            url, query = None, None
        else:
            assert link.endswith('>; rel="next"')
            assert response.headers["X-Next-Cursor"] in link
            url, query = link[1:link.index(">")], None
        assert pages < 500
    return rows, pages


LISTS: list[tuple[str, dict[str, Any]]] = [
    ("/playbooks", {}),
    ("/campaigns", {}),
    ("/routines", {}),
    ("/goals", {}),
    ("/teams", {}),
    ("/members", {}),
    ("/calendar", {"from": (TODAY - dt.timedelta(days=7)).isoformat(), "to": "2027-03-31"}),
    ("/teams/content-dk/closed-days", {"from": "2027-01-01", "to": "2027-01-31"}),
]


@pytest.mark.parametrize(("path", "params"), LISTS, ids=[path for path, _ in LISTS])
def test_every_list_pages_with_a_cursor(world: World, path: str,
                                        params: dict[str, Any]) -> None:
    client = world.client
    client.post("/playbooks", json={**LAUNCH_PLAYBOOK, "name": "Another"}, headers=ANNA)
    client.post("/routines", headers=ANNA, json={
        "name": "Monthly", "playbook_id": world.playbook["id"], "rule": "FREQ=MONTHLY",
        "starts_on": "2028-01-03"})
    client.post("/goals", headers=ANNA, json={"name": "Reach", "kind": "awareness",
                                              "weight": 1, "kpi": {
        "name": "visits", "target": 10, "period_start": "2027-01-01",
        "period_end": "2027-12-31"}})
    client.put("/teams/web-us", json={"name": "Web", "country": "US"}, headers=ANNA)
    whole = client.get(path, params=params, headers=ANNA)
    assert whole.status_code == 200, whole.text
    assert "Link" not in whole.headers
    assert len(whole.json()) >= 2, whole.json()
    rows, pages = every_page(client, path, params)
    assert rows == whole.json()
    assert pages == len(rows)
    refused = client.get(path, params={**params, "cursor": "not-a-cursor"}, headers=ANNA)
    assert refused.status_code == 422, refused.text


# --- the ICS feeds --------------------------------------------------------------------------

@pytest.mark.parametrize("feed", ["/calendar/teams/content-dk.ics",
                                  "/calendar/members/ben.ics"])
def test_feeds_answer_head_and_conditional_get(world: World, feed: str) -> None:
    client = world.client
    full = client.get(feed, headers=ANNA)
    assert full.status_code == 200, full.text
    assert b"BEGIN:VCALENDAR" in full.content
    tag = full.headers["ETag"]
    head = client.head(feed, headers=ANNA)
    assert head.status_code == 200
    assert head.headers["ETag"] == tag
    assert head.headers["content-type"].startswith("text/calendar")
    assert head.content == b""
    for matching in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        unchanged = client.get(feed, headers={**ANNA, "If-None-Match": matching})
        assert unchanged.status_code == 304, matching
        assert unchanged.content == b""
        assert unchanged.headers["ETag"] == tag
    # Calendar clients that cannot send a header get a secret address for this feed
    # (never the API token in a URL), conditional requests included.
    kind, target = feed.removeprefix("/calendar/").removesuffix(".ics").split("/")
    address = client.post("/members/ben/calendar-feeds", headers=ANNA,
                          json={"kind": kind.removesuffix("s"), "id": target})
    assert address.status_code == 201, address.text
    key = address.json()["url"].split("?key=")[1]
    assert client.get(feed, params={"key": key},
                      headers={"If-None-Match": tag}).status_code == 304
    token = ANNA["Authorization"].removeprefix("Bearer ")
    assert client.get(feed, params={"token": token}).status_code == 401
    assert client.get("/campaigns", params={"key": key}).status_code == 401
    assert client.post(f"/campaigns/{world.campaign['id']}/reschedule", headers=ANNA,
                       json={"launch_date": "2027-03-08"}).status_code == 200
    changed = client.get(feed, headers={**ANNA, "If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert client.head("/calendar/members/nobody.ics", headers=ANNA).status_code == 404
