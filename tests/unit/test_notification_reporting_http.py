"""Notification's and reporting's HTTP edges in-process (no broker): typed answers, ETag
and If-Match on a notification, and cursor pages on every list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.in_process import ServiceClient, auth, service_client
from tests.unit.test_notification_handlers import submitted
from tests.unit.test_reporting_projection import CAMPAIGN, TASKS, execution_topic, planning_topic


def all_pages(client: ServiceClient, path: str, member: str, limit: int
              ) -> list[Any]:
    """Every page of a list, following ``Link``/``X-Next-Cursor``."""
    pages: list[Any] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        response = client.get(path, params=params, headers=auth(member))
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            assert "Link" not in response.headers
            return pages
        assert f"cursor={cursor}" in response.headers["Link"]
        params = {"limit": limit, "cursor": cursor}
        assert len(pages) < 20, "the cursor does not advance"


def test_a_notification_has_an_etag_and_if_match_guards_marking_it_read(
        tmp_path: Path) -> None:
    with service_client("notification", tmp_path) as client:
        for sequence in range(1, 4):
            assert client.application.process_inbound(submitted(sequence, ["carla"]))
        pages = all_pages(client, "/notifications", "carla", limit=2)
        assert [len(page) for page in pages] == [2, 1]
        first = pages[0][0]
        assert first["version"] == 1 and first["read"] is False

        path = f"/notifications/{first['id']}"
        read = client.get(path, headers=auth("carla"))
        assert read.status_code == 200 and read.headers["ETag"] == '"1"'
        assert read.json() == first
        assert client.get(path, headers=auth("ben")).status_code == 403

        before = client.head_position()
        stale = client.post(f"{path}/read", headers={**auth("carla"), "If-Match": '"7"'})
        assert stale.status_code == 412, stale.text
        assert client.head_position() == before
        marked = client.post(f"{path}/read", headers={**auth("carla"), "If-Match": '"1"'})
        assert marked.status_code == 200, marked.text
        assert marked.json()["read"] is True and marked.json()["id"] == first["id"]
        assert marked.headers["ETag"] == f'"{marked.json()["version"]}"' == '"2"'
        assert client.get(path, headers=auth("carla")).headers["ETag"] == '"2"'


def test_reporting_answers_are_typed_and_histories_page(tmp_path: Path) -> None:
    with service_client("reporting", tmp_path) as client:
        for inbound in [*planning_topic(), *execution_topic()]:
            assert client.application.process_inbound(inbound)

        progress = client.get(f"/campaigns/{CAMPAIGN}/progress", headers=auth("anna"))
        assert progress.status_code == 200, progress.text
        assert progress.json()["tasks_done"] == 1
        assert progress.json()["launch_date"] == "2027-03-15"

        whole = client.get(f"/campaigns/{CAMPAIGN}/history", headers=auth("anna")).json()
        assert len(whole["events"]) == 8 and whole["campaign_id"] == str(CAMPAIGN)
        pages = all_pages(client, f"/campaigns/{CAMPAIGN}/history", "anna", limit=3)
        assert [len(page["events"]) for page in pages] == [3, 3, 2]
        assert [event for page in pages for event in page["events"]] == whole["events"]
        times = [event["time"] for event in whole["events"]]
        assert times == sorted(times)

        task = all_pages(client, f"/tasks/{TASKS[0]}/history", "anna", limit=1)
        assert [page["task_id"] for page in task] == [str(TASKS[0])] * 2
        bogus = client.get(f"/tasks/{TASKS[0]}/history?cursor=bogus", headers=auth("anna"))
        assert bogus.status_code == 422, bogus.text

        archive = client.get("/archive", headers=auth("anna")).json()
        assert sum(archive["archived_by_type"].values()) == 8
