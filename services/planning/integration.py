"""What planning publishes: its domain events translated to the contracts."""

from __future__ import annotations

from typing import Any

from contracts import planning as contract
from services.planning.domain import Campaign, Playbook
from shared.outbox import translate_by_type


def _playbook_defined(event: Any) -> contract.PlaybookDefined:
    return contract.PlaybookDefined(
        playbook_id=event.originator_id,
        name=event.name,
        version=event.originator_version,
        tasks=[contract.PlaybookTaskTemplate(**task.model_dump()) for task in event.tasks],
    )


def _campaign_planned(event: Any) -> contract.CampaignPlanned:
    return contract.CampaignPlanned(
        campaign_id=event.originator_id,
        name=event.name,
        playbook_id=event.playbook_id,
        playbook_version=event.playbook_version,
        launch_date=event.launch_date,
        tasks=[contract.PlannedTask(**task.model_dump()) for task in event.tasks],
    )


translate = translate_by_type({
    Playbook.Defined: _playbook_defined,  # type: ignore[attr-defined]
    Campaign.Planned: _campaign_planned,  # type: ignore[attr-defined]
})
