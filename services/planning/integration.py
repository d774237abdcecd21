"""What planning publishes: its domain events translated to the contracts."""

from __future__ import annotations

from typing import Any

from contracts import planning as contract
from services.planning.domain import (
    Campaign,
    Goal,
    Member,
    PlannedTask,
    Playbook,
    PlaybookSpec,
    Team,
)
from services.planning.domain.credentials import ApiToken
from services.planning.domain.scheduling import backward_slots
from shared.outbox import translate_by_type


def _playbook(event: Any) -> contract.PlaybookDefined:
    spec: PlaybookSpec = event.spec
    slots = backward_slots([task.scheduling() for task in spec.tasks])
    return contract.PlaybookDefined(
        playbook_id=event.originator_id,
        name=spec.name,
        # Defined and Revised are the only events of a playbook: version = revision.
        version=event.originator_version,
        description=spec.description,
        roles=spec.all_roles,
        tasks=[
            contract.PlaybookTaskTemplate(
                key=task.key, title=task.title, role=task.role,
                offset_days=slots[task.key].end, phase=phase.key,
                description=task.description, deliverable=task.deliverable,
                duration_days=task.duration_days, depends_on=task.depends_on,
                anchored=task.date_rule.kind == "anchor",
                approval_roles=[step.role for step in task.approval_chain],
                consulted_roles=task.consulted, informed_roles=task.informed,
                complete_on_approval=task.complete_on_approval,
                reminder_days=task.reminder_days,
            )
            for phase in spec.phases for task in phase.tasks
        ],
    )


def planned_task(task: PlannedTask) -> contract.PlannedTask:
    return contract.PlannedTask.model_validate(task.model_dump())


def _campaign_planned(event: Any) -> contract.CampaignPlanned:
    return contract.CampaignPlanned(
        campaign_id=event.originator_id,
        name=event.name,
        playbook_id=event.playbook_id,
        playbook_version=event.playbook_version,
        launch_date=event.launch_date,
        tasks=[planned_task(task) for task in event.tasks],
        team_id=event.team_id,
        start_date=event.start_date,
        critical_path=event.critical_path or [],
        unfit_tasks=[unfit.key for unfit in event.unfit or []],
        goal_ids=event.goal_ids or [],
        routine_id=event.routine_id,
    )


def _rescheduled(event: Any) -> contract.CampaignTasksRevised:
    return contract.CampaignTasksRevised(
        campaign_id=event.originator_id,
        reason=f"launch moved to {event.launch_date.isoformat()}",
        updated=[planned_task(task) for task in event.updated],
        launch_date=event.launch_date,
    )


def _migrated(event: Any) -> contract.CampaignTasksRevised:
    return contract.CampaignTasksRevised(
        campaign_id=event.originator_id,
        reason=f"moved to playbook version {event.playbook_version}",
        added=[planned_task(task) for task in event.added],
        updated=[planned_task(task) for task in event.updated],
        removed=event.removed,
        playbook_version=event.playbook_version,
    )


def _cancelled(event: Any) -> contract.CampaignCancelled:
    return contract.CampaignCancelled(campaign_id=event.originator_id, reason=event.reason)


def _completed(event: Any) -> contract.CampaignCompleted:
    return contract.CampaignCompleted(campaign_id=event.originator_id)


def _team(event: Any) -> contract.TeamRegistered:
    profile = event.profile
    return contract.TeamRegistered(
        team_id=event.team_id, name=profile.name, country=profile.country,
        subdivision=profile.subdivision, closed_days=profile.closed_days, queues=profile.queues,
        manager_id=profile.manager_id,
    )


def _member(event: Any) -> contract.MemberRegistered:
    profile = event.profile
    return contract.MemberRegistered(
        member_id=event.member_id, **profile.model_dump(),
    )


def _absence_recorded(event: Any) -> contract.AbsenceRecorded:
    absence = event.absence
    return contract.AbsenceRecorded(member_id=event.member_id, **absence.model_dump())


def _absence_cancelled(event: Any) -> contract.AbsenceCancelled:
    return contract.AbsenceCancelled(absence_id=event.absence_id, member_id=event.member_id)


def _goal_defined(event: Any) -> contract.GoalDefined:
    goal = event.definition
    return contract.GoalDefined(
        goal_id=event.originator_id, name=goal.name, kind=goal.kind,
        custom_kind=goal.custom_kind, weight=goal.weight, kpi_name=goal.kpi.name,
        kpi_unit=goal.kpi.unit, kpi_target=goal.kpi.target,
        period_start=goal.kpi.period_start, period_end=goal.kpi.period_end,
        kpi_aggregation=goal.kpi.aggregation,
    )


def _measured(event: Any) -> contract.KpiMeasured:
    measurement = event.measurement
    return contract.KpiMeasured(goal_id=event.originator_id, value=measurement.value,
                                measured_on=measurement.measured_on, source=measurement.source)


def _goals_linked(event: Any) -> contract.CampaignGoalsLinked:
    return contract.CampaignGoalsLinked(campaign_id=event.originator_id,
                                        goal_ids=event.goal_ids)


def _token_issued(event: Any) -> contract.ApiTokenIssued:
    return contract.ApiTokenIssued(
        token_id=event.originator_id, token_hash=event.token_hash,
        principal_id=event.principal_id, service_account=event.service_account,
        roles=list(event.roles), expires_at=event.expires_at)


def _token_revoked(event: Any) -> contract.ApiTokenRevoked:
    return contract.ApiTokenRevoked(token_id=event.originator_id, token_hash=event.token_hash)


translate = translate_by_type({
    Playbook.Defined: _playbook,  # type: ignore[attr-defined]
    Playbook.Revised: _playbook,  # type: ignore[attr-defined]
    Campaign.Planned: _campaign_planned,  # type: ignore[attr-defined]
    Campaign.Rescheduled: _rescheduled,  # type: ignore[attr-defined]
    Campaign.Migrated: _migrated,  # type: ignore[attr-defined]
    Campaign.Cancelled: _cancelled,  # type: ignore[attr-defined]
    Campaign.Completed: _completed,  # type: ignore[attr-defined]
    Campaign.GoalsLinked: _goals_linked,  # type: ignore[attr-defined]
    Goal.Defined: _goal_defined,  # type: ignore[attr-defined]
    Goal.Measured: _measured,  # type: ignore[attr-defined]
    Team.Registered: _team,  # type: ignore[attr-defined]
    Team.Changed: _team,  # type: ignore[attr-defined]
    Member.Registered: _member,  # type: ignore[attr-defined]
    Member.Changed: _member,  # type: ignore[attr-defined]
    Member.AbsenceRecorded: _absence_recorded,  # type: ignore[attr-defined]
    Member.AbsenceCancelled: _absence_cancelled,  # type: ignore[attr-defined]
    ApiToken.Issued: _token_issued,  # type: ignore[attr-defined]
    ApiToken.Revoked: _token_revoked,  # type: ignore[attr-defined]
    # Calendar feed addresses are planning's alone: not published.
})
