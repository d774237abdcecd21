"""A campaign command that acts on the latest state is not refused because planning's own
inbound processing saved the same campaign a moment earlier: it runs again from a fresh
load. Refusals of the domain are not retried."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from services.planning import commands
from services.planning.application import PlanningApplication
from services.planning.domain import Campaign
from services.planning.playbook_files import shipped_playbooks
from services.planning.wiring import build
from shared.config import Settings
from shared.domain import Conflict, EventMeta, StaleVersion
from shared.policy import Caller, Role

ANNA = Caller.person("anna", Role.ADMIN, Role.PLANNER)
SYSTEM = EventMeta(actor="system:planning.progress")


def planning(tmp_path: Path) -> PlanningApplication:
    app = build(replace(Settings(service="planning"), sqlite_dir=tmp_path)).application
    assert isinstance(app, PlanningApplication)
    return app


def test_a_reschedule_that_loses_a_race_is_run_again_and_keeps_both_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = planning(tmp_path)
    try:
        playbook = app.define(shipped_playbooks()["blog-article"], ANNA)
        campaign = app.plan_campaign(
            commands.PlanCampaign(playbook.id, "Blog", launch_date=dt.date(2027, 3, 1)), ANNA)
        task_id = campaign.tasks[0].task_id
        loads = 0
        original = PlanningApplication.campaign

        def campaign_with_a_concurrent_writer(self: Any, campaign_id: uuid.UUID) -> Campaign:
            nonlocal loads
            loads += 1
            stale = original(self, campaign_id)
            if loads == 1:  # progress from execution lands between load and save
                fresh = original(self, campaign_id)
                fresh.record_task_progress(task_id, "done", SYSTEM)
                self.save(fresh)
            return stale

        monkeypatch.setattr(PlanningApplication, "campaign", campaign_with_a_concurrent_writer)
        moved = app.reschedule_campaign(
            commands.RescheduleCampaign(campaign.id, dt.date(2027, 3, 15)), ANNA)
        assert loads == 2
        assert moved.launch_date == dt.date(2027, 3, 15)
        assert moved.task_status[task_id] == "done"  # the concurrent change is kept

        loads = 0
        monkeypatch.setattr(PlanningApplication, "campaign", original)
        app.cancel_campaign(commands.CancelCampaign(campaign.id, "budget cut"), ANNA)
        calls = 0

        def counted(self: Any, campaign_id: uuid.UUID) -> Campaign:
            nonlocal calls
            calls += 1
            return original(self, campaign_id)

        monkeypatch.setattr(PlanningApplication, "campaign", counted)
        with pytest.raises(Conflict):  # a cancelled campaign cannot complete: no retry
            app.complete_campaign(commands.CompleteCampaign(campaign.id), ANNA)
        assert calls == 1
    finally:
        app.close()


def test_a_command_on_a_version_the_campaign_left_is_a_stale_version_not_retried(
        tmp_path: Path) -> None:
    """A caller who saw version N and names it must not have their change applied on top
    of someone else's: the retry of lost races does not paper over that."""
    app = planning(tmp_path)
    try:
        playbook = app.define(shipped_playbooks()["blog-article"], ANNA)
        campaign = app.plan_campaign(
            commands.PlanCampaign(playbook.id, "Blog", launch_date=dt.date(2027, 3, 1)), ANNA)
        seen = campaign.version
        moved = app.reschedule_campaign(commands.RescheduleCampaign(
            campaign.id, dt.date(2027, 3, 15), expected_version=seen), ANNA)
        before = app.recorder.max_notification_id()
        with pytest.raises(StaleVersion, match=f"at version {moved.version}, not {seen}"):
            app.cancel_campaign(commands.CancelCampaign(campaign.id, "budget cut",
                                                        expected_version=seen), ANNA)
        assert app.recorder.max_notification_id() == before
        assert issubclass(StaleVersion, Conflict)  # a 409 where no If-Match was given
    finally:
        app.close()
