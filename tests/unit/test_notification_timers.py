"""Reminders and escalations: a scripted campaign fed through the real (SQLite) store and
a clock walked day by day; each notice arrives once, on its day, across restarts too."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from contracts import execution, planning
from contracts.base import IntegrationEvent
from services.notification.application import NotificationApplication
from services.notification.domain import Notification
from services.notification.settings import NotificationSettings
from services.notification.timers import TIMERS_ACTOR, TimersView, plan
from services.notification.wiring import build
from shared import cloudevents
from shared.config import Settings

DUE = dt.date(2025, 3, 14)  # a Friday
CAMPAIGN = uuid.UUID("00000000-0000-0000-0000-00000000c001")
PEOPLE = ("ann", "mike", "mia", "lena", "paula", "carl", "cora")


class Clock:
    def __init__(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(9), dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(9), dt.UTC)


_sequence = itertools.count(1)


def inbound(event: IntegrationEvent, *, actor: str = "paula", source: str = "execution",
            at: dt.datetime | None = None) -> cloudevents.InboundEvent:
    number = next(_sequence)
    subject = str(getattr(event, "task_id", None) or getattr(event, "campaign_id", None)
                  or getattr(event, "member_id", "x"))
    envelope = cloudevents.Envelope(
        id=f"{subject}:{number}", source=f"/marketflow/{source}", type=event.event_type,
        time=at or dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC), subject=subject, actor=actor,
        aggregate_version=number, sequence=number)
    return cloudevents.InboundEvent(envelope, event)


def member(member_id: str, manager_id: str | None = None) -> cloudevents.InboundEvent:
    return inbound(planning.MemberRegistered(
        member_id=member_id, name=member_id.title(), email=f"{member_id}@example.com",
        manager_id=manager_id), actor="admin", source="planning")


def planned(tasks: list[planning.PlannedTask]) -> cloudevents.InboundEvent:
    return inbound(planning.CampaignPlanned(
        campaign_id=CAMPAIGN, name="Spring launch", playbook_id=uuid.uuid4(),
        playbook_version=1, launch_date=DUE + dt.timedelta(days=30), tasks=tasks,
        team_id="marketing"), actor="paula", source="planning")


def task(key: str, *, due: dt.date = DUE, reminder_days: int | None = None
         ) -> planning.PlannedTask:
    return planning.PlannedTask(
        task_id=uuid.uuid5(CAMPAIGN, key), key=key, title=key.replace("-", " ").title(),
        role="writer", due_date=due, assignee_id="ann",
        approval_chain=[planning.ApprovalStep(member_id="lena")],
        reminder_days=reminder_days)


def assigned(planned_task: planning.PlannedTask) -> cloudevents.InboundEvent:
    return inbound(execution.TaskAssigned(
        task_id=planned_task.task_id, campaign_id=CAMPAIGN, title=planned_task.title,
        assignee_id="ann", due_date=planned_task.due_date))


def directory() -> list[cloudevents.InboundEvent]:
    return [member("mia"), member("mike", "mia"), member("ann", "mike"), member("lena"),
            member("paula"), member("carl", "cora"), member("cora")]


class Scenario:
    """Notification on a SQLite directory, fed events, its clock walked day by day."""

    def __init__(self, tmp_path: Path, start: dt.date, *,
                 notification_settings: NotificationSettings | None = None,
                 settings: Settings | None = None) -> None:
        self.settings = settings or replace(Settings(service="notification"),
                                            sqlite_dir=tmp_path)
        self.notification_settings = notification_settings or NotificationSettings(
            web_url="https://marketflow.example")
        self.clock = Clock(start)
        self.app = self._build()
        self.seen: set[str] = set()
        self.log: list[tuple[dt.date, str, str, dict[str, Any]]] = []

    def _build(self) -> NotificationApplication:
        app = build(self.settings, notification_settings=self.notification_settings,
                    clock=self.clock).application
        assert isinstance(app, NotificationApplication)
        return app

    def feed(self, *events: cloudevents.InboundEvent) -> None:
        for event in events:
            assert self.app.process_inbound(event)

    def restart(self) -> None:
        self.app.close()
        self.app = self._build()

    def walk(self, until: dt.date) -> None:
        """Each day from the clock's through ``until``: fire what is due, note what is new."""
        day = self.clock().date()
        while day <= until:
            self.clock.set(day)
            self.app.fire_due_timers()
            self._collect(day)
            day += dt.timedelta(days=1)

    def _collect(self, day: dt.date) -> None:
        for person in PEOPLE:
            for row in self.app.inbox.for_member(person).rows:
                if row["id"] not in self.seen:
                    self.seen.add(row["id"])
                    self.log.append((day, person, row["kind"], row))

    def timed(self) -> list[tuple[dt.date, str, str]]:
        """(day, recipient, kind) of the notifications the timers recorded."""
        return sorted((day, person, kind) for day, person, kind, _ in self.log
                      if kind in TIMED)


TIMED = ("task.reminder", "task.late", "task.late.escalated", "approval.reminder",
         "approval.escalated")

LATE_TIMELINE = [
    (dt.date(2025, 3, 12), "ann", "task.reminder"),        # 2 working days before
    (dt.date(2025, 3, 17), "ann", "task.late"),            # the first working day after
    (dt.date(2025, 3, 17), "lena", "task.late"),           # accountable
    (dt.date(2025, 3, 17), "paula", "task.late"),          # the campaign's planner
    (dt.date(2025, 3, 19), "mike", "task.late.escalated"),  # 2 working days more
    (dt.date(2025, 3, 21), "mia", "task.late.escalated"),   # as many again
]


def test_a_late_task_reminds_then_tells_then_escalates_twice_each_once(
        tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, dt.date(2025, 3, 3))
    write = task("blog-post")
    scenario.feed(*directory(), planned([write]), assigned(write))
    scenario.walk(dt.date(2025, 3, 31))
    assert scenario.timed() == LATE_TIMELINE

    notes = {(person, kind): row for _, person, kind, row in scenario.log}
    reminder = notes[("ann", "task.reminder")]
    assert "Blog Post" in reminder["text"] and "Spring launch" in reminder["text"]
    assert "in 2 working days" in reminder["text"]
    late = notes[("paula", "task.late")]
    assert "1 working day late" in late["text"] and "assigned to ann" in late["text"]
    second = notes[("mike", "task.late.escalated")]
    assert "level 2" in second["text"] and "3 working days late" in second["text"]
    assert "level 3" in notes[("mia", "task.late.escalated")]["text"]

    # The stored notification: with the task's link, the campaign and the timer's key.
    stored = scenario.app.load(uuid.UUID(second["id"]), Notification)
    assert stored.link == f"https://marketflow.example/tasks/{write.task_id}"
    assert stored.timer_key == f"timer:{write.task_id}:late:2:{DUE.isoformat()}"
    assert stored.campaign_id == CAMPAIGN
    scenario.app.close()


def test_the_timers_record_as_the_timers_with_a_reason(tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, dt.date(2025, 3, 17))
    write = task("blog-post")
    scenario.feed(*directory(), planned([write]), assigned(write))
    scenario.walk(dt.date(2025, 3, 17))
    events = [event for notification in scenario.app.recorder.select_notifications(
        start=1, limit=1000) if notification.topic.endswith("Notification.Recorded")
        for event in [scenario.app.mapper.to_domain_event(notification)]]
    late = [event for event in events if event.kind == "task.late"]
    assert {event.recipient_id for event in late} == {"ann", "lena", "paula"}
    for event in late:
        assert event.meta.actor == TIMERS_ACTOR
        assert event.meta.reason and "task late, level 1" in event.meta.reason
    scenario.app.close()


def test_a_restart_in_the_middle_repeats_nothing_and_misses_nothing(tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, dt.date(2025, 3, 3))
    write = task("blog-post")
    scenario.feed(*directory(), planned([write]), assigned(write))
    scenario.walk(dt.date(2025, 3, 17))
    scenario.restart()
    scenario.app.fire_due_timers()  # the same day again, in a new process
    scenario._collect(dt.date(2025, 3, 17))
    scenario.walk(dt.date(2025, 3, 19))
    scenario.restart()
    scenario.clock.set(dt.date(2025, 3, 24))  # down for days: what fell due fires once
    scenario.walk(dt.date(2025, 3, 28))
    assert [(person, kind) for _, person, kind in scenario.timed()] == [
        (person, kind) for _, person, kind in LATE_TIMELINE]
    assert [day for day, *_ in scenario.timed()][:5] == [day for day, *_ in LATE_TIMELINE][:5]
    assert scenario.timed()[-1][0] == dt.date(2025, 3, 24)
    # Fired timers are marked in the read model: nothing left to scan.
    assert scenario.app.timers.due(dt.date(2025, 4, 30)) == []
    scenario.app.close()


def test_a_task_done_before_its_due_date_gets_no_late_notice(tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, dt.date(2025, 3, 3))
    write = task("blog-post")
    scenario.feed(*directory(), planned([write]), assigned(write))
    scenario.walk(dt.date(2025, 3, 12))
    scenario.feed(inbound(execution.TaskCompleted(task_id=write.task_id,
                                                  campaign_id=CAMPAIGN), actor="ann"))
    scenario.walk(dt.date(2025, 3, 31))
    assert scenario.timed() == [(dt.date(2025, 3, 12), "ann", "task.reminder")]
    assert all(row["fired"] for row in scenario.app.timers.timers_of(write.task_id))
    scenario.app.close()


def test_a_rescheduled_task_fires_against_its_new_date(tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, dt.date(2025, 3, 3))
    write = task("blog-post")
    scenario.feed(*directory(), planned([write]), assigned(write))
    scenario.walk(dt.date(2025, 3, 12))  # reminded for the 14th
    new_due = dt.date(2025, 3, 21)
    scenario.feed(inbound(execution.TaskRevised(
        task_id=write.task_id, campaign_id=CAMPAIGN, title=write.title, due_date=new_due)))
    scenario.walk(dt.date(2025, 4, 4))
    assert scenario.timed() == [
        (dt.date(2025, 3, 12), "ann", "task.reminder"),
        (dt.date(2025, 3, 19), "ann", "task.reminder"),  # for the new date
        (dt.date(2025, 3, 24), "ann", "task.late"),
        (dt.date(2025, 3, 24), "lena", "task.late"),
        (dt.date(2025, 3, 24), "paula", "task.late"),
        (dt.date(2025, 3, 26), "mike", "task.late.escalated"),
        (dt.date(2025, 3, 28), "mia", "task.late.escalated"),
    ]
    scenario.app.close()


def test_a_playbook_tasks_own_reminder_lead_wins(tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, dt.date(2025, 3, 3))
    write = task("blog-post", reminder_days=4)
    scenario.feed(*directory(), planned([write]), assigned(write))
    scenario.walk(dt.date(2025, 3, 14))
    assert scenario.timed() == [(dt.date(2025, 3, 10), "ann", "task.reminder")]
    scenario.app.close()


def test_the_campaign_may_arrive_after_the_task(tmp_path: Path) -> None:
    """Execution's assignment first, planning's plan (and so the planner) after."""
    scenario = Scenario(tmp_path, dt.date(2025, 3, 3))
    write = task("blog-post")
    scenario.feed(assigned(write), *directory())
    scenario.walk(dt.date(2025, 3, 13))
    scenario.feed(planned([write]))
    scenario.walk(dt.date(2025, 3, 17))
    assert ("paula", "task.late") in {(person, kind) for _, person, kind in scenario.timed()}
    scenario.app.close()


def test_an_approval_waiting_past_its_sla_reminds_then_escalates_twice(
        tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, dt.date(2025, 3, 3))
    write = task("blog-post", due=dt.date(2025, 4, 30))
    scenario.feed(*directory(), planned([write]), assigned(write))
    submitted_at = dt.datetime(2025, 3, 3, 15, tzinfo=dt.UTC)  # a Monday
    scenario.feed(inbound(execution.TaskSubmitted(
        task_id=write.task_id, campaign_id=CAMPAIGN, submission_version=1,
        reference="https://drive/post", note="", pending_approvers=["carl"]),
        actor="ann", at=submitted_at))
    scenario.walk(dt.date(2025, 3, 14))
    assert scenario.timed() == [
        (dt.date(2025, 3, 6), "carl", "approval.reminder"),     # waited 3 > 2 working days
        (dt.date(2025, 3, 10), "cora", "approval.escalated"),   # 2 working days more
    ]   # cora has no manager: level 3 has nobody to tell
    reminder = next(row for _, person, kind, row in scenario.log
                    if kind == "approval.reminder")
    assert "step 1" in reminder["text"] and "waiting 3 working days" in reminder["text"]
    # Approved: the step's timers stop.
    scenario.feed(inbound(execution.ApprovalGiven(
        task_id=write.task_id, campaign_id=CAMPAIGN, step=1, submission_version=1,
        step_completed=True), actor="carl"))
    scenario.feed(inbound(execution.TaskApproved(
        task_id=write.task_id, campaign_id=CAMPAIGN, submission_version=1), actor="carl"))
    scenario.walk(dt.date(2025, 3, 28))
    assert len(scenario.timed()) == 2
    scenario.app.close()


def test_an_approval_escalates_to_the_managers_managers(tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, dt.date(2025, 3, 3))
    write = task("blog-post", due=dt.date(2025, 4, 30))
    scenario.feed(*directory(), planned([write]), assigned(write))
    scenario.feed(inbound(execution.TaskSubmitted(
        task_id=write.task_id, campaign_id=CAMPAIGN, submission_version=1,
        reference="https://drive/post", note="", pending_approvers=["ann"]),
        actor="ann", at=dt.datetime(2025, 3, 3, 15, tzinfo=dt.UTC)))
    scenario.walk(dt.date(2025, 3, 14))
    assert [(day, person) for day, person, kind in scenario.timed()
            if kind.startswith("approval.")] == [
        (dt.date(2025, 3, 6), "ann"), (dt.date(2025, 3, 10), "mike"),
        (dt.date(2025, 3, 12), "mia")]
    scenario.app.close()


def test_the_timers_read_model_rebuilds_to_the_same_rows(tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, dt.date(2025, 3, 3))
    write, other = task("blog-post"), task("press-release", due=dt.date(2025, 3, 20))
    scenario.feed(*directory(), planned([write, other]), assigned(write))
    scenario.walk(dt.date(2025, 3, 18))
    view = TimersView(scenario.app)
    assert all(difference.count == 0 for difference in view.verify())
    scenario.app.close()


@pytest.mark.parametrize(("due", "reminder", "late"), [
    (dt.date(2025, 3, 14), dt.date(2025, 3, 12), dt.date(2025, 3, 17)),
    (dt.date(2025, 3, 15), dt.date(2025, 3, 12), dt.date(2025, 3, 17)),  # due on a Saturday
    (dt.date(2025, 3, 17), dt.date(2025, 3, 13), dt.date(2025, 3, 18)),  # due on a Monday
])
def test_timers_count_working_days(due: dt.date, reminder: dt.date, late: dt.date) -> None:
    timers = {(timer.kind, timer.level): timer.fire_on for timer in plan(
        "t", {"due_date": due.isoformat(), "status": "open"}, NotificationSettings())}
    assert timers[("reminder", 0)] == reminder
    assert timers[("late", 1)] == late
    assert plan("t", {"due_date": due.isoformat(), "status": "done"},
                NotificationSettings()) == []
