"""A realistic campaign for notification's rules, fed in process through the real (SQLite)
store: the directory, a planned campaign with roles, an approval chain, consulted and
informed roles, then execution's events, each as the actor who caused it.

The cast: anna plans (and, in some scenes, holds the brand role too); ben writes the blog
post; dave (brand) approves step 1 and lee (legal) step 2; carla is consulted (design);
ivy and otto are informed (sales), but otto has left (inactive); erin is a backup. The blog post
waits for the launch email.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from contracts import execution, planning
from contracts.base import IntegrationEvent
from services.notification.application import NotificationApplication
from services.notification.settings import NotificationSettings
from services.notification.views import InboxView
from services.notification.wiring import build
from shared import cloudevents
from shared.config import Settings

WEB = "https://marketflow.example"
CAMPAIGN_NAME = "Spring launch"
TASK_TITLE = "Blog post"
OTHER_TITLE = "Launch email"
DUE = dt.date(2027, 3, 1)
OTHER_DUE = dt.date(2027, 3, 3)
LAUNCH = dt.date(2027, 3, 15)

NAMES = {"anna": "Anna Planner", "ben": "Ben Writer", "carla": "Carla Designer",
         "dave": "Dave Brand", "lee": "Lee Legal", "ivy": "Ivy Sales", "otto": "Otto Gone",
         "erin": "Erin Brand"}
SOURCES = {"planning": "/marketflow/planning", "execution": "/marketflow/execution"}


class Script:
    """Feeds events to a notification application, each from its service, as its actor."""

    def __init__(self, app: NotificationApplication) -> None:
        self.app = app
        self.campaign_id = uuid.uuid4()
        self.task_id = uuid.uuid4()
        self.other_task_id = uuid.uuid4()
        self.sequences = {service: 0 for service in SOURCES}
        self.inbox = InboxView(app)

    # --- sending ---------------------------------------------------------------------

    def inbound(self, service: str, event: IntegrationEvent, actor: str,
                subject: object | None = None) -> cloudevents.InboundEvent:
        self.sequences[service] += 1
        sequence = self.sequences[service]
        subject = subject or getattr(event, "task_id", None) or getattr(
            event, "campaign_id", None) or getattr(event, "member_id", "x")
        envelope = cloudevents.Envelope(
            id=f"{service}-{sequence}-{uuid.uuid4()}", source=SOURCES[service],
            type=event.event_type, time=dt.datetime.now(dt.UTC), subject=str(subject),
            actor=actor, aggregate_version=sequence, sequence=sequence)
        return cloudevents.InboundEvent(envelope, event)

    def send(self, service: str, event: IntegrationEvent, actor: str
             ) -> cloudevents.InboundEvent:
        inbound = self.inbound(service, event, actor)
        assert self.app.process_inbound(inbound)
        return inbound

    def planning(self, event: IntegrationEvent, actor: str = "anna"
                 ) -> cloudevents.InboundEvent:
        return self.send("planning", event, actor)

    def execution(self, event: IntegrationEvent, actor: str) -> cloudevents.InboundEvent:
        return self.send("execution", event, actor)

    # --- the story's beginning ---------------------------------------------------------

    def directory(self, inactive: frozenset[str] = frozenset({"otto"})) -> None:
        for member_id, name in NAMES.items():
            self.planning(planning.MemberRegistered(
                member_id=member_id, name=name, email=f"{member_id}@example.com",
                active=member_id not in inactive), actor="anna")

    def planned_task(self, task_id: uuid.UUID, title: str, due: dt.date,
                     role_members: dict[str, list[str]],
                     depends_on: list[uuid.UUID] | None = None) -> planning.PlannedTask:
        return planning.PlannedTask(
            task_id=task_id, key=title.lower().replace(" ", "-"), title=title, role="writer",
            due_date=due, assignee_id="ben", depends_on=depends_on or [],
            approval_chain=[planning.ApprovalStep(role="brand"),
                            planning.ApprovalStep(role="legal")],
            consulted_roles=["design"], informed_roles=["sales"], role_members=role_members)

    def plan(self, brand: list[str] | None = None, consulted: list[str] | None = None,
             informed: list[str] | None = None) -> None:
        """The directory, then the campaign anna plans: two tasks for ben."""
        self.directory()
        self.roles = {"writer": ["ben"], "brand": brand or ["dave"], "legal": ["lee"],
                      "design": consulted or ["carla"], "sales": informed or ["ivy", "otto"]}
        self.planning(planning.CampaignPlanned(
            campaign_id=self.campaign_id, name=CAMPAIGN_NAME, playbook_id=uuid.uuid4(),
            playbook_version=1, launch_date=LAUNCH, tasks=[
                self.planned_task(self.task_id, TASK_TITLE, DUE, self.roles,
                                  depends_on=[self.other_task_id]),
                self.planned_task(self.other_task_id, OTHER_TITLE, OTHER_DUE, self.roles)]))

    def assigned(self, assignee: str = "ben", *, actor: str = "anna",
                 via: Any = "planned", previous: str | None = None,
                 task_id: uuid.UUID | None = None) -> cloudevents.InboundEvent:
        task_id = task_id or self.task_id
        return self.execution(execution.TaskAssigned(
            task_id=task_id, campaign_id=self.campaign_id,
            title=TASK_TITLE if task_id == self.task_id else OTHER_TITLE,
            assignee_id=assignee, due_date=DUE, via=via, previous_assignee_id=previous,
            absence_id=uuid.uuid4() if via == "absence" else None), actor)

    def submitted(self, approvers: list[str] | None = None, actor: str = "ben"
                  ) -> cloudevents.InboundEvent:
        return self.execution(execution.TaskSubmitted(
            task_id=self.task_id, campaign_id=self.campaign_id, submission_version=1,
            reference="https://drive.example/blog-v1", note="first draft",
            pending_approvers=approvers or ["dave"]), actor)

    # --- what was told ------------------------------------------------------------------

    def told(self, inbound: cloudevents.InboundEvent) -> dict[str, list[dict[str, Any]]]:
        """Who was told of this event, and what (every member's inbox, by cause)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for member_id in NAMES:
            rows = [row for row in self.inbox.for_member(member_id).rows
                    if row["caused_by"] == inbound.envelope.id]
            if rows:
                found[member_id] = rows
        return found

    def kinds(self, inbound: cloudevents.InboundEvent) -> dict[str, str]:
        """Recipient -> the kind they were told (and each told once, naming the task, the
        campaign and the link, never the actor; telling again records nothing)."""
        told = self.told(inbound)
        for member_id, rows in told.items():
            assert len(rows) == 1, f"{member_id} told twice of one event: {rows}"
            assert member_id != inbound.envelope.actor, f"the actor was told: {rows}"
            [row] = rows
            assert CAMPAIGN_NAME in row["text"] and CAMPAIGN_NAME in row["title"], row
            assert row["link"] and row["link"].startswith(WEB) and row["link"] in row["text"]
            assert row["campaign_id"] == str(self.campaign_id), row
        before = self.app.recorder.max_notification_id()
        assert not self.app.process_inbound(inbound)  # redelivered: nothing more
        assert self.app.recorder.max_notification_id() == before
        return {member_id: rows[0]["kind"] for member_id, rows in told.items()}

    def only(self, inbound: cloudevents.InboundEvent, member_id: str) -> dict[str, Any]:
        [row] = self.told(inbound)[member_id]
        return row


@contextmanager
def script(tmp_path: Path) -> Iterator[Script]:
    settings = replace(Settings(service="notification"), sqlite_dir=tmp_path)
    app = build(settings, notification_settings=NotificationSettings(web_url=WEB)).application
    try:
        yield Script(app)
    finally:
        app.close()
