"""Execution's domain: tasks and their approval chains, the team directory as execution
sees it, and absences. Pure: no I/O.

``Task`` is re-exported here so that events stored under the old module path
(``services.execution.domain:Task.Opened``) still resolve.
"""

from services.execution.domain.approval import ApprovalStep, Submission
from services.execution.domain.directory import Absence, TeamMember, member_aggregate_id
from services.execution.domain.sla import AT_RISK_DAYS, sla_status
from services.execution.domain.task import OPEN_STATES, TERMINAL_STATES, Task, TaskState

__all__ = [
    "AT_RISK_DAYS",
    "OPEN_STATES",
    "TERMINAL_STATES",
    "Absence",
    "ApprovalStep",
    "Submission",
    "Task",
    "TaskState",
    "TeamMember",
    "member_aggregate_id",
    "sla_status",
]
