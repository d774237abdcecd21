"""Limits at the edge: playbook size, and the service layer's event size guard, which
refuses any save whose event could not be published, before anything is committed."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from contracts import planning as planning_contract
from services.execution.wiring import build as build_execution
from services.planning.application import PlanningApplication
from services.planning.domain import PlaybookSpec, define_playbook
from services.planning.domain.playbook import (
    MAX_APPROVAL_STEPS,
    MAX_LINKS,
    MAX_PHASES,
    MAX_TASKS,
)
from services.planning.playbook_files import playbook_from_yaml
from services.planning.wiring import build as build_planning
from shared import cloudevents
from shared.config import Settings
from shared.domain import DomainError, EventMeta, InvalidCommand, TooLarge
from shared.policy import Caller, Role

ANNA = EventMeta(actor="anna")
PLANNER = Caller.person("anna", Role.PLANNER)


def many_tasks(count: int, **fields: Any) -> list[dict[str, Any]]:
    return [{"key": f"t{n}", "title": f"T{n}", "role": "writer", **fields}
            for n in range(count)]


def test_a_five_thousand_task_playbook_is_refused_naming_the_limit() -> None:
    spec = PlaybookSpec.model_validate({"name": "Huge", "tasks": many_tasks(5000)})
    with pytest.raises(InvalidCommand, match=f"tasks: at most {MAX_TASKS} tasks, not 5000"):
        define_playbook(spec, ANNA)
    # The YAML file parses (stored playbooks are never re-validated against new limits)
    # and is refused when defined.
    text = yaml.safe_dump({"name": "Huge", "tasks": many_tasks(5000)})
    with pytest.raises(InvalidCommand, match=f"at most {MAX_TASKS} tasks"):
        define_playbook(playbook_from_yaml(text), ANNA)


def test_phases_links_and_chains_are_bounded() -> None:
    phases = [{"key": f"p{n}", "title": "P", "tasks": [{"key": f"t{n}", "title": "T",
                                                          "role": "writer"}]}
              for n in range(MAX_PHASES + 1)]
    with pytest.raises(InvalidCommand, match=f"phases: at most {MAX_PHASES} phases"):
        define_playbook(PlaybookSpec.model_validate({"name": "P", "phases": phases}), ANNA)
    informed = [f"role-{n}" for n in range(MAX_LINKS + 1)]
    with pytest.raises(InvalidCommand, match=f"tasks.t0.informed: at most {MAX_LINKS} roles"):
        define_playbook(PlaybookSpec.model_validate(
            {"name": "P", "tasks": many_tasks(1, informed=informed)}), ANNA)
    chain = [{"role": f"approver-{n}"} for n in range(MAX_APPROVAL_STEPS + 1)]
    with pytest.raises(InvalidCommand, match=f"at most {MAX_APPROVAL_STEPS} steps"):
        define_playbook(PlaybookSpec.model_validate(
            {"name": "P", "tasks": many_tasks(1, approval_chain=chain)}), ANNA)
    with pytest.raises(InvalidCommand, match=r"tasks\.t0\.consulted: .* at most 64 characters"):
        define_playbook(PlaybookSpec.model_validate(
            {"name": "P", "tasks": many_tasks(1, consulted=["x" * 65])}), ANNA)


def test_the_limits_leave_room_for_real_playbooks() -> None:
    spec = PlaybookSpec.model_validate({"name": "Big", "tasks": many_tasks(MAX_TASKS)})
    assert len(define_playbook(spec, ANNA).tasks) == MAX_TASKS


def small_limit(tmp_path: Path, service: str, max_message_bytes: int) -> Settings:
    return replace(Settings(service=service), sqlite_dir=tmp_path,
                   kafka_max_message_bytes=max_message_bytes)


def test_a_save_with_an_event_over_the_limit_commits_nothing(tmp_path: Path) -> None:
    settings = small_limit(tmp_path, "planning", 40_000)
    assert settings.max_event_bytes == 20_000
    app = cast(PlanningApplication, build_planning(settings).application)
    commits: list[int] = []
    app.add_commit_listener(lambda: commits.append(app.max_notification_id()))
    try:
        app.define(PlaybookSpec.model_validate({"name": "Fine", "tasks": many_tasks(3)}), PLANNER)
        assert commits == [1]
        # Within every count limit, but its texts add up to more than one event may hold.
        wordy = PlaybookSpec.model_validate(
            {"name": "Wordy", "tasks": many_tasks(20, description="x" * 2000)})
        with pytest.raises(TooLarge) as refused:
            app.define(wordy, PLANNER)
        assert refused.value.status_code == 413
        message = str(refused.value)
        assert "Playbook.Defined" in message and "the limit is 20,000 bytes" in message
        assert app.max_notification_id() == 1, "a refused save wrote"
        assert commits == [1], "a refused save was announced as a commit"
    finally:
        app.close()


def campaign_planned(sequence: int, title: str) -> cloudevents.InboundEvent:
    campaign_id = uuid.uuid4()
    event = planning_contract.CampaignPlanned(
        campaign_id=campaign_id, name="C", playbook_id=uuid.uuid4(), playbook_version=1,
        launch_date=dt.date(2027, 1, 15),
        tasks=[planning_contract.PlannedTask(
            task_id=uuid.uuid5(campaign_id, "only"), key="only", title=title,
            role="writer", due_date=dt.date(2027, 1, 10), assignee_id="ben")],
    )
    envelope = cloudevents.Envelope(
        id=f"{campaign_id}:1", source="/marketflow/planning", type=event.event_type,
        time=dt.datetime.now(dt.UTC), subject=str(campaign_id), actor="anna",
        aggregate_version=1, sequence=sequence)
    return cloudevents.InboundEvent(envelope, event)


def test_inbound_handling_that_would_store_an_oversized_event_is_refused(
    tmp_path: Path,
) -> None:
    """A DomainError, which the inbox dead-letters instead of retrying forever; its
    identity is not recorded as applied either, so nothing of it was recorded."""
    app = build_execution(small_limit(tmp_path, "execution", 1_400)).application
    try:
        assert app.process_inbound(campaign_planned(1, "Short"))
        before = app.max_notification_id()
        big = campaign_planned(2, "x" * 200)
        with pytest.raises(DomainError) as refused:
            app.process_inbound(big)
        assert isinstance(refused.value, TooLarge)
        with pytest.raises(TooLarge):
            app.process_inbound_batch([(big, None)])
        assert app.max_notification_id() == before
        assert not app.inbox_recorder.select_inbox({big.envelope.id})
    finally:
        app.close()


def test_message_limits_come_from_one_setting() -> None:
    settings = Settings.from_env("planning", {
        "MARKETFLOW_KAFKA_MAX_MESSAGE_BYTES": "2000000", "MARKETFLOW_KAFKA_COMPRESSION": "lz4",
        "MARKETFLOW_MAX_REQUEST_BYTES": "65536", "MARKETFLOW_STALL_SECONDS": "2.5",
    })
    assert (settings.kafka_max_message_bytes, settings.max_event_bytes) == (2_000_000, 1_000_000)
    assert settings.dead_letter_max_message_bytes == 2_000_000 + 65_536
    assert settings.kafka_compression_type == "lz4"
    assert (settings.max_request_bytes, settings.stall_seconds) == (65536, 2.5)
    defaults = Settings.from_env("planning", {})
    assert defaults.kafka_compression_type == "zstd"
    assert defaults.max_event_bytes < defaults.kafka_max_message_bytes
    assert Settings.from_env("planning", {"MARKETFLOW_KAFKA_COMPRESSION": "none"}
                             ).kafka_compression_type is None
    with pytest.raises(ValueError, match="MARKETFLOW_KAFKA_COMPRESSION"):
        Settings.from_env("planning", {"MARKETFLOW_KAFKA_COMPRESSION": "brotli"})
    with pytest.raises(ValueError, match="MARKETFLOW_STALL_SECONDS must be greater than 0"):
        Settings.from_env("planning", {"MARKETFLOW_STALL_SECONDS": "0"})
    with pytest.raises(ValueError, match="MARKETFLOW_MAX_REQUEST_BYTES must be a number"):
        Settings.from_env("planning", {"MARKETFLOW_MAX_REQUEST_BYTES": "1MB"})
