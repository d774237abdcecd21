"""Planning's domain, pure and without I/O: playbooks (``playbook``), the working-day
``calendar`` and ``scheduling``, ``campaign`` plans, recurring ``routine``s, ``goals`` and
KPIs, and the ``team`` directory."""

from services.planning.domain.campaign import (
    Campaign,
    PlannedTask,
    Staffing,
    UnfitTask,
    plan_campaign,
    planned_tasks,
    task_id_for,
)
from services.planning.domain.goals import Goal, GoalDefinition, Kpi, Measurement, define_goal
from services.planning.domain.playbook import (
    ApprovalStepTemplate,
    DateRule,
    Phase,
    Playbook,
    PlaybookDiff,
    PlaybookSpec,
    TaskTemplate,
    define_playbook,
    validate_spec,
)
from services.planning.domain.routine import Routine, RoutineDefinition, define_routine
from services.planning.domain.team import (
    Absence,
    Member,
    MemberProfile,
    Team,
    TeamProfile,
    member_aggregate_id,
    register_member,
    register_team,
    team_aggregate_id,
)

__all__ = [
    "Absence",
    "ApprovalStepTemplate",
    "Campaign",
    "DateRule",
    "Goal",
    "GoalDefinition",
    "Kpi",
    "Measurement",
    "Member",
    "MemberProfile",
    "Phase",
    "PlannedTask",
    "Playbook",
    "PlaybookDiff",
    "PlaybookSpec",
    "Routine",
    "RoutineDefinition",
    "Staffing",
    "TaskTemplate",
    "Team",
    "TeamProfile",
    "UnfitTask",
    "define_goal",
    "define_playbook",
    "define_routine",
    "member_aggregate_id",
    "plan_campaign",
    "planned_tasks",
    "register_member",
    "register_team",
    "task_id_for",
    "team_aggregate_id",
    "validate_spec",
]
