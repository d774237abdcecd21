"""A member's activity and a playbook's history on PostgreSQL: the same answers as on
SQLite (``tests/unit/test_audit_activity.py``), through reporting's own schema (the join
of the activity to the archive, keyset pages, the masking)."""

from __future__ import annotations

import pytest

from tests.harness import Environment, auth, fed_client
from tests.unit.test_audit_activity import AWAY, PLAYBOOK, SECRET, story

pytestmark = pytest.mark.integration


async def test_activity_and_histories_read_the_same_from_postgresql(
        postgres_env: Environment) -> None:
    feed, ids = story()
    with fed_client(postgres_env, "reporting", feed.events) as client:
        seen: list[tuple[str, str]] = []
        url: str | None = "/audit/members/ben/activity?limit=4"
        while url is not None:
            answer = client.get(url, headers=auth("anna"))
            assert answer.status_code == 200, answer.text
            seen += [(entry["id"], entry["role"]) for entry in answer.json()]
            link = answer.headers.get("Link")
            url = link[1:link.index(">")] if link else None
        assert seen == [
            (ids["ben registered"], "on_behalf"), (ids["planned"], "on_behalf"),
            (ids["started"], "actor"), (ids["absence"], "on_behalf"),
            (ids["handed over"], "on_behalf"), (ids["notified"], "on_behalf")]
        for caller, reason in (("ben", SECRET), ("anna", AWAY)):
            history = client.get("/members/ben/history", headers=auth(caller))
            assert history.status_code == 200, history.text
            assert history.json()["events"][-1]["data"]["reason"] == reason
        playbook = client.get(f"/playbooks/{PLAYBOOK}/history", headers=auth("anna"))
        assert [e["id"] for e in playbook.json()["events"]] == [ids["playbook"],
                                                                ids["playbook v2"]]
