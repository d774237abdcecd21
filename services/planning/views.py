"""Planning's read models."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.planning.domain import Campaign, Goal, Member, Playbook, Team
from shared.views import View


class CatalogView(View):
    """Playbooks, campaigns and goals, for listing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.playbooks: dict[UUID, dict[str, Any]] = {}
        self.campaigns: dict[UUID, dict[str, Any]] = {}
        self.goals: dict[UUID, dict[str, Any]] = {}

    def apply(self, domain_event: Any) -> None:
        if isinstance(domain_event, Playbook.Defined | Playbook.Revised):  # type: ignore[attr-defined]
            self.playbooks[domain_event.originator_id] = {
                "id": str(domain_event.originator_id),
                "name": domain_event.spec.name,
                "version": domain_event.originator_version,
                "tasks": len(domain_event.spec.tasks),
            }
        elif isinstance(domain_event, Campaign.Planned):  # type: ignore[attr-defined]
            self.campaigns[domain_event.originator_id] = {
                "id": str(domain_event.originator_id),
                "name": domain_event.name,
                "launch_date": domain_event.launch_date.isoformat(),
                "playbook_id": str(domain_event.playbook_id),
                "playbook_version": domain_event.playbook_version,
                "team_id": domain_event.team_id,
                "goal_ids": [str(goal_id) for goal_id in domain_event.goal_ids or []],
                "status": "active",
            }
        elif isinstance(domain_event, Campaign.Rescheduled):  # type: ignore[attr-defined]
            self.campaigns[domain_event.originator_id]["launch_date"] = (
                domain_event.launch_date.isoformat())
        elif isinstance(domain_event, Campaign.Migrated):  # type: ignore[attr-defined]
            self.campaigns[domain_event.originator_id]["playbook_version"] = (
                domain_event.playbook_version)
        elif isinstance(domain_event, Campaign.Cancelled):  # type: ignore[attr-defined]
            self.campaigns[domain_event.originator_id]["status"] = "cancelled"
        elif isinstance(domain_event, Campaign.Completed):  # type: ignore[attr-defined]
            self.campaigns[domain_event.originator_id]["status"] = "completed"
        elif isinstance(domain_event, Campaign.GoalsLinked):  # type: ignore[attr-defined]
            campaign = self.campaigns[domain_event.originator_id]
            campaign["goal_ids"] = [*campaign.get("goal_ids", []),
                                    *map(str, domain_event.goal_ids)]
        elif isinstance(domain_event, Goal.Defined):  # type: ignore[attr-defined]
            self.goals[domain_event.originator_id] = {
                "id": str(domain_event.originator_id),
                **domain_event.definition.model_dump(mode="json"),
                "measurements": 0,
            }
        elif isinstance(domain_event, Goal.Measured):  # type: ignore[attr-defined]
            self.goals[domain_event.originator_id]["measurements"] += 1


class DirectoryView(View):
    """Teams and members, and who holds which role in which team."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.teams: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, Any]] = {}

    def apply(self, domain_event: Any) -> None:
        if isinstance(domain_event, Team.Registered | Team.Changed):  # type: ignore[attr-defined]
            self.teams[domain_event.team_id] = {
                "team_id": domain_event.team_id,
                **domain_event.profile.model_dump(mode="json"),
            }
        elif isinstance(domain_event, Member.Registered | Member.Changed):  # type: ignore[attr-defined]
            absences = self.members.get(domain_event.member_id, {}).get("absences", [])
            self.members[domain_event.member_id] = {
                "member_id": domain_event.member_id,
                **domain_event.profile.model_dump(mode="json"),
                "absences": absences,
            }
        elif isinstance(domain_event, Member.AbsenceRecorded):  # type: ignore[attr-defined]
            member = self.members[domain_event.member_id]
            member["absences"] = sorted(
                [*member["absences"], domain_event.absence.model_dump(mode="json")],
                key=lambda absence: absence["starts_on"])
        elif isinstance(domain_event, Member.AbsenceCancelled):  # type: ignore[attr-defined]
            member = self.members[domain_event.member_id]
            member["absences"] = [a for a in member["absences"]
                                  if a["absence_id"] != str(domain_event.absence_id)]

    def role_holders(self, team_id: str) -> dict[str, list[str]]:
        """Role -> active members of the team holding it."""
        self.catch_up()
        holders: dict[str, list[str]] = {}
        for member in sorted(self.members.values(), key=lambda m: m["member_id"]):
            if member["active"] and team_id in member["team_ids"]:
                for role in member["roles"]:
                    holders.setdefault(role, []).append(member["member_id"])
        return holders

    def team_members(self, team_id: str) -> list[dict[str, Any]]:
        self.catch_up()
        return [m for m in sorted(self.members.values(), key=lambda m: m["member_id"])
                if team_id in m["team_ids"]]
