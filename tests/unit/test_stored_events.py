"""Stored events are never rewritten: events stored before a parameter was added to
their ``@event`` method still load, reading it as its default."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson

from services.execution.domain import Task
from shared.domain import EventMeta
from shared.store import OrjsonTranscoder, PydanticMapper


def test_an_event_stored_before_a_parameter_was_added_reads_it_as_its_default() -> None:
    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    task = Task(id=uuid.uuid4(), campaign_id=uuid.uuid4(), key="brief", title="Brief",
                role="writer", due_date=dt.date(2027, 3, 1), meta=EventMeta(actor="anna"),
                team_id="content", complete_on_approval=False)
    [opened] = task.collect_events()
    stored = mapper.to_stored_event(opened)
    state = orjson.loads(stored.state)
    # As stored by the release before team ownership and complete-on-approval existed.
    del state["team_id"], state["complete_on_approval"]
    old = stored.__class__(originator_id=stored.originator_id,
                           originator_version=stored.originator_version,
                           topic=stored.topic, state=orjson.dumps(state))

    loaded = mapper.to_domain_event(old)

    rebuilt = loaded.mutate(None)  # type: ignore[attr-defined]
    assert isinstance(rebuilt, Task)
    assert rebuilt.team_id is None and rebuilt.complete_on_approval is True
    assert rebuilt.title == "Brief"
