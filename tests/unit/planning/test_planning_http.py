"""Planning's HTTP layer where it is the point: status codes and what a refused request
leaves behind (nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.harness import LAUNCH_PLAYBOOK
from tests.problems import field_errors
from tests.unit.in_process import ServiceClient, auth, service_client

ANNA = auth("anna")


@pytest.fixture
def planning(tmp_path: Path) -> Iterator[ServiceClient]:
    with service_client("planning", tmp_path) as client:
        yield client


def import_yaml(client: ServiceClient, text: str, query: str = "") -> httpx.Response:
    return client.post(f"/playbooks/import{query}", content=text.encode(),
                       headers={**ANNA, "content-type": "application/yaml"})


def test_revising_by_import_needs_expected_version(planning: ServiceClient) -> None:
    created = import_yaml(planning, yaml.safe_dump(LAUNCH_PLAYBOOK))
    assert created.status_code == 201, created.text
    playbook_id = created.json()["id"]
    revised = yaml.safe_dump({**LAUNCH_PLAYBOOK, "name": "Product launch v2"})
    before = planning.head_position()
    response = import_yaml(planning, revised, f"?playbook_id={playbook_id}")
    assert response.status_code == 428, response.text
    assert "expected_version" in response.text
    assert planning.head_position() == before
    response = import_yaml(planning, revised, f"?playbook_id={playbook_id}&expected_version=1")
    assert response.status_code == 201, response.text
    assert response.json()["latest_version"] == 2
    stale = import_yaml(planning, revised.replace("v2", "v3"),
                        f"?playbook_id={playbook_id}&expected_version=1")
    assert stale.status_code == 409


def test_yaml_nested_a_thousand_deep_is_a_422(planning: ServiceClient) -> None:
    response = import_yaml(planning, "name: x\ntasks: " + "[" * 1000 + "]" * 1000)
    assert response.status_code == 422, response.text
    assert "nests too deeply" in response.text


def test_a_campaign_naming_an_unknown_member_is_a_422_not_a_201(
        planning: ServiceClient) -> None:
    playbook = planning.post("/playbooks", json=LAUNCH_PLAYBOOK, headers=ANNA).json()
    before = planning.head_position()
    response = planning.post("/campaigns", headers=ANNA, json={
        "playbook_id": playbook["id"], "name": "Launch", "launch_date": "2027-03-01",
        "assignments": {"writer": "benn"}})
    assert response.status_code == 422, response.text
    assert field_errors(response)[0]["loc"] == ["assignments", "writer"]
    assert "unknown member 'benn'" in field_errors(response)[0]["msg"]
    assert planning.head_position() == before


def test_put_with_the_same_body_again_is_200_and_records_nothing(
        planning: ServiceClient) -> None:
    for path, body in (("/teams/content-dk", {"name": "Content", "country": "DK"}),
                       ("/members/ben", {"name": "Ben", "team_ids": ["content-dk"]})):
        first = planning.put(path, json=body, headers=ANNA)
        assert first.status_code == 200, first.text
        before = planning.head_position()
        again = planning.put(path, json=body, headers=ANNA)
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
        assert planning.head_position() == before
