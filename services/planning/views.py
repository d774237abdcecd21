"""Planning's read models."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from services.planning.domain import Campaign, Goal, Member, Playbook, Routine, Team
from shared.views import View


class CatalogView(View):
    """Playbooks, campaigns and goals, for listing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.playbooks: dict[UUID, dict[str, Any]] = {}
        self.campaigns: dict[UUID, dict[str, Any]] = {}
        self.goals: dict[UUID, dict[str, Any]] = {}
        self.routines: dict[UUID, dict[str, Any]] = {}

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
        elif isinstance(domain_event, Routine.Defined):  # type: ignore[attr-defined]
            self.routines[domain_event.originator_id] = {
                "id": str(domain_event.originator_id),
                **domain_event.definition.model_dump(mode="json"),
                "active": True, "planned": 0,
            }
        elif isinstance(domain_event, Routine.OccurrencePlanned):  # type: ignore[attr-defined]
            self.routines[domain_event.originator_id]["planned"] += 1
        elif isinstance(domain_event, Routine.Stopped):  # type: ignore[attr-defined]
            self.routines[domain_event.originator_id]["active"] = False

    def routine_ids(self) -> list[UUID]:
        """Active routines."""
        self.catch_up()
        return [routine_id for routine_id, row in self.routines.items() if row["active"]]


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


class CalendarView(View):
    """The year calendar: every active campaign's launch and tasks, by date, for the
    calendar query and the ICS feeds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaigns: dict[UUID, dict[str, Any]] = {}

    def apply(self, domain_event: Any) -> None:
        campaign_id = domain_event.originator_id
        if isinstance(domain_event, Campaign.Planned):  # type: ignore[attr-defined]
            self.campaigns[campaign_id] = {
                "id": str(campaign_id), "name": domain_event.name,
                "team_id": domain_event.team_id,
                "goal_ids": [str(g) for g in domain_event.goal_ids or []],
                "launch_date": domain_event.launch_date, "status": "active",
                "updated_at": domain_event.timestamp,
                "tasks": {task.task_id: self._task(task) for task in domain_event.tasks},
            }
            return
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            return
        campaign["updated_at"] = domain_event.timestamp
        if isinstance(domain_event, Campaign.Rescheduled):  # type: ignore[attr-defined]
            campaign["launch_date"] = domain_event.launch_date
            for task in domain_event.updated:
                campaign["tasks"][task.task_id].update(self._task(task), status=campaign[
                    "tasks"][task.task_id]["status"])
        elif isinstance(domain_event, Campaign.Migrated):  # type: ignore[attr-defined]
            for task_id in domain_event.removed:
                campaign["tasks"].pop(task_id, None)
            for task in [*domain_event.added, *domain_event.updated]:
                status = campaign["tasks"].get(task.task_id, {}).get("status", "planned")
                campaign["tasks"][task.task_id] = {**self._task(task), "status": status}
        elif isinstance(domain_event, Campaign.TaskProgressed):  # type: ignore[attr-defined]
            if domain_event.task_id in campaign["tasks"]:
                campaign["tasks"][domain_event.task_id]["status"] = domain_event.status
        elif isinstance(domain_event, Campaign.GoalsLinked):  # type: ignore[attr-defined]
            campaign["goal_ids"] += [str(g) for g in domain_event.goal_ids]
        elif isinstance(domain_event, Campaign.Cancelled):  # type: ignore[attr-defined]
            campaign["status"] = "cancelled"
        elif isinstance(domain_event, Campaign.Completed):  # type: ignore[attr-defined]
            campaign["status"] = "completed"

    @staticmethod
    def _task(task: Any) -> dict[str, Any]:
        return {
            "task_id": str(task.task_id), "key": task.key, "title": task.title,
            "role": task.role, "assignee_id": task.assignee_id, "queue": task.queue,
            "start_date": task.start_date or task.due_date, "due_date": task.due_date,
            "phase": task.phase, "status": "planned",
        }

    def entries(self, first: dt.date, last: dt.date, *, team_id: str | None = None,
                goal_id: UUID | None = None, member_id: str | None = None,
                ) -> list[dict[str, Any]]:
        """Launches and tasks overlapping [first, last]; cancelled campaigns left out."""
        self.catch_up()
        rows: list[dict[str, Any]] = []
        for campaign in self.campaigns.values():
            if campaign["status"] == "cancelled":
                continue
            if team_id is not None and campaign["team_id"] != team_id:
                continue
            if goal_id is not None and str(goal_id) not in campaign["goal_ids"]:
                continue
            about = {"campaign_id": campaign["id"], "campaign": campaign["name"],
                     "team_id": campaign["team_id"], "goal_ids": campaign["goal_ids"],
                     "updated_at": campaign["updated_at"]}
            if member_id is None and first <= campaign["launch_date"] <= last:
                rows.append({"kind": "launch", "uid": f"launch-{campaign['id']}",
                             "title": f"Launch: {campaign['name']}",
                             "start_date": campaign["launch_date"],
                             "due_date": campaign["launch_date"], **about})
            for task in campaign["tasks"].values():
                if member_id is not None and task["assignee_id"] != member_id:
                    continue
                if task["start_date"] <= last and first <= task["due_date"]:
                    rows.append({"kind": "task", "uid": f"task-{task['task_id']}",
                                 **task, **about})
        return sorted(rows, key=lambda row: (row["start_date"], row["due_date"], row["uid"]))
