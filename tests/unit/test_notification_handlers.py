"""Whom notification tells, applied through the real (SQLite) store exactly once."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from pathlib import Path

from contracts import execution
from services.notification.views import InboxView
from services.notification.wiring import build
from shared import cloudevents
from shared.config import Settings


def submitted(sequence: int, approvers: list[str]) -> cloudevents.InboundEvent:
    task_id = uuid.uuid4()
    event = execution.TaskSubmitted(task_id=task_id, campaign_id=uuid.uuid4(),
                                    submission_version=2, reference="https://drive/post",
                                    note="tightened the intro", pending_approvers=approvers)
    envelope = cloudevents.Envelope(
        id=f"{task_id}:7", source="/marketflow/execution", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(task_id), actor="ben",
        aggregate_version=7, sequence=sequence)
    return cloudevents.InboundEvent(envelope, event)


def test_a_submission_asks_each_first_step_approver_once(tmp_path: Path) -> None:
    settings = replace(Settings(service="notification"), sqlite_dir=tmp_path)
    app = build(settings).application
    inbound = submitted(1, ["carla", "dave", "carla"])
    assert app.process_inbound(inbound)
    assert not app.process_inbound(inbound)  # redelivered
    inbox = InboxView(app)
    for approver in ("carla", "dave"):
        [note] = inbox.for_member(approver).rows
        assert note["kind"] == "approval.requested"
        assert "version 2" in note["text"] and "https://drive/post" in note["text"]
        assert note["caused_by"] == inbound.envelope.id
    assert inbox.for_member("ben").rows == []
    app.close()
