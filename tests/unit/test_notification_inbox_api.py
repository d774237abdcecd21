"""The inbox over HTTP in process: unread count, mark-all-read (events attributed to the
caller, never touching anyone else's), what a notification names, and a member's own
preferences (validated, 422 naming what is wrong; auditors read only)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from contracts import execution
from services.notification.application import SetPreferences
from services.notification.domain import Notification
from services.notification.policy import POLICY
from shared.cloudevents import InboundEvent
from shared.domain import InvalidCommand
from shared.policy import Caller, Denied, Resource, Role
from tests.unit.in_process import auth, service_client
from tests.unit.test_notification_handlers import submitted


def test_unread_count_and_mark_all_read_are_the_callers_own(tmp_path: Path) -> None:
    with service_client("notification", tmp_path) as client:
        for sequence in range(1, 4):
            assert client.application.process_inbound(submitted(sequence, ["carla"]))
        assert client.application.process_inbound(submitted(4, ["dave"]))

        def unread(member: str) -> int:
            answer = client.get("/notifications/unread-count", headers=auth(member))
            assert answer.status_code == 200, answer.text
            return int(answer.json()["unread"])

        assert (unread("carla"), unread("dave"), unread("erin")) == (3, 1, 0)
        first = client.get("/notifications", headers=auth("carla")).json()[0]
        assert client.post(f"/notifications/{first['id']}/read",
                           headers=auth("carla")).status_code == 200
        assert unread("carla") == 2
        # Someone else's notification is not theirs to mark.
        assert client.post(f"/notifications/{first['id']}/read",
                           headers=auth("dave")).status_code == 403

        marked = client.post("/notifications/read-all", headers=auth("carla"))
        assert marked.status_code == 200, marked.text
        assert marked.json() == {"marked": 2}
        assert (unread("carla"), unread("dave")) == (0, 1)
        rows = client.get("/notifications", headers=auth("carla")).json()
        assert all(row["read"] and row["version"] == 2 for row in rows)
        for row in rows:
            notification = client.application.load(uuid.UUID(row["id"]), Notification)
            read = [event for event in client.application.repository.event_store.get(
                notification.id) if type(event).__name__ == "Read"]
            assert [event.meta.actor for event in read] == ["carla"]
        before = client.head_position()
        again = client.post("/notifications/read-all", headers=auth("carla"))
        assert again.json() == {"marked": 0} and client.head_position() == before


def test_a_notification_names_its_campaign_title_and_link(tmp_path: Path) -> None:
    with service_client("notification", tmp_path) as client:
        task_id, campaign_id = uuid.uuid4(), uuid.uuid4()
        event = execution.TaskAssigned(task_id=task_id, campaign_id=campaign_id,
                                       title="Press kit", assignee_id="carla",
                                       due_date=dt.date(2027, 3, 1))
        envelope = replace(submitted(1, []).envelope, id="assigned-1", actor="anna",
                           type=event.event_type, subject=str(task_id))
        assert client.application.process_inbound(InboundEvent(envelope, event))
        [row] = [row for row in client.get("/notifications", headers=auth("carla")).json()
                 if row["kind"] == "task.assigned"]
        assert row["campaign_id"] == str(campaign_id)
        assert "Press kit" in row["title"]
        assert row["link"].endswith(f"/tasks/{task_id}") and row["link"] in row["text"]


def test_preferences_are_set_read_and_validated(tmp_path: Path) -> None:
    with service_client("notification", tmp_path) as client:
        path = "/notifications/preferences"
        defaults = client.get(path, headers=auth("ben"))
        assert defaults.status_code == 200, defaults.text
        assert defaults.json() == {"member_id": "ben", "time_zone": "UTC", "channels": {},
                                   "quiet_hours": None, "digest": False, "version": 0}
        wanted = {"time_zone": "Europe/Helsinki", "quiet_hours": ["22:00", "07:00"],
                  "channels": {"*": ["in_app", "email"], "task.done": ["in_app"]},
                  "digest": True}
        put = client.put(path, json=wanted, headers=auth("ben"))
        assert put.status_code == 200, put.text
        assert put.json() == {"member_id": "ben", "version": 1, **wanted}
        assert client.get(path, headers=auth("ben")).json() == put.json()
        assert client.get(path, headers=auth("carla")).json()["version"] == 0
        before = client.head_position()
        assert client.put(path, json=wanted, headers=auth("ben")).json()["version"] == 1
        assert client.head_position() == before  # the same again changes nothing

        refusals = {
            "Mars/Olympus_Mons": {**wanted, "time_zone": "Mars/Olympus_Mons"},
            "pigeon": {**wanted, "channels": {"task.done": ["pigeon"]}},
            "25:00": {**wanted, "quiet_hours": ["25:00", "07:00"]},
            "same time": {**wanted, "quiet_hours": ["07:00", "07:00"]},
            "quiet_hours": {**wanted, "quiet_hours": ["22:00"]},
            "colour": {**wanted, "colour": "blue"},
        }
        for named, body in refusals.items():
            refused = client.put(path, json=body, headers=auth("ben"))
            assert refused.status_code == 422, (named, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert named in refused.text, (named, refused.text)
        assert client.head_position() == before
        assert client.get(path, headers=auth("ben")).json()["time_zone"] == "Europe/Helsinki"


def test_preferences_decide_where_the_next_notification_goes(tmp_path: Path) -> None:
    with service_client("notification", tmp_path) as client:
        assert client.put("/notifications/preferences", headers=auth("carla"), json={
            "channels": {"approval.requested": ["in_app"]}}).status_code == 200
        assert client.application.process_inbound(submitted(1, ["carla"]))
        [row] = client.get("/notifications", headers=auth("carla")).json()
        notification = client.application.load(uuid.UUID(row["id"]), Notification)
        assert notification.deliveries == []  # in-app only: no email planned


def test_auditors_read_their_own_inbox_and_preferences_but_change_nothing() -> None:
    auditor = Caller.person("audrey", Role.AUDITOR)
    own = Resource.of(owners="audrey")
    assert POLICY.allows("notification.unread_count", auditor, own)
    assert POLICY.allows("notification.preferences.read", auditor, own)
    for action in ("notification.mark_all_read", "notification.preferences.write"):
        assert not POLICY.allows(action, auditor, own)
    member = Caller.person("ben")
    for action in ("notification.preferences.write", "notification.mark_all_read"):
        assert POLICY.allows(action, member, Resource.of(owners="ben"))
        assert not POLICY.allows(action, member, Resource.of(owners="carla"))


def test_set_preferences_refuses_an_auditor_before_validating(tmp_path: Path) -> None:
    with service_client("notification", tmp_path) as client:
        with pytest.raises(Denied):
            client.application.set_preferences(SetPreferences(time_zone="UTC"),
                                               Caller.person("audrey", Role.AUDITOR))
        with pytest.raises(InvalidCommand, match="Nowhere/Land"):
            SetPreferences(time_zone="Nowhere/Land").check()
