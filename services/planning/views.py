"""Planning's read models."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.planning.domain import Campaign, Playbook
from shared.views import View


class CatalogView(View):
    """Playbooks and campaigns, for listing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.playbooks: dict[UUID, dict[str, Any]] = {}
        self.campaigns: dict[UUID, dict[str, Any]] = {}

    def apply(self, domain_event: Any) -> None:
        if isinstance(domain_event, Playbook.Defined):  # type: ignore[attr-defined]
            self.playbooks[domain_event.originator_id] = {
                "id": str(domain_event.originator_id),
                "name": domain_event.name,
                "version": domain_event.originator_version,
                "tasks": len(domain_event.tasks),
            }
        elif isinstance(domain_event, Campaign.Planned):  # type: ignore[attr-defined]
            self.campaigns[domain_event.originator_id] = {
                "id": str(domain_event.originator_id),
                "name": domain_event.name,
                "launch_date": domain_event.launch_date.isoformat(),
                "playbook_id": str(domain_event.playbook_id),
            }
