"""Reporting's access policy: who may take each action, on what scope (``shared/policy``).

Reports are about campaigns. Admins, planners and auditors read every report; a team
manager reads those of their teams' campaigns and of campaigns their reports take part
in; a contributor reads those of campaigns they take part in (named in the plan, assigned
a task, asked to approve one) or that belong to one of their teams. A task's history goes
with its campaign. The archive's totals (what the whole system did) are for admins,
planners and auditors. Reporting offers no writes: auditors change nothing here either.

Checked in the use cases (``application.py``); every route names its action.
"""

from __future__ import annotations

from shared.policy import Policy, Role, Scope

ADMIN, PLANNER, MANAGER = Role.ADMIN, Role.PLANNER, Role.TEAM_MANAGER
CONTRIBUTOR, AUDITOR = Role.CONTRIBUTOR, Role.AUDITOR
TEAM, ALL = Scope.TEAM, Scope.ALL

EVERYTHING = {ADMIN: ALL, PLANNER: ALL, AUDITOR: ALL}
CAMPAIGN_READERS = {**EVERYTHING, MANAGER: TEAM, CONTRIBUTOR: TEAM}

POLICY = Policy.table("reporting", {
    "report.progress.read": ("a campaign's progress, now or as of a past time "
                             "(contributors: campaigns they take part in or of their "
                             "teams)", CAMPAIGN_READERS),
    "report.campaign_history.read": ("everything that happened to a campaign and its "
                                     "tasks (contributors: as for progress)",
                                     CAMPAIGN_READERS),
    "report.task_history.read": ("everything that happened to a task (contributors: "
                                 "tasks of campaigns they take part in or of their teams)",
                                 CAMPAIGN_READERS),
    "report.archive.read": ("the archive's totals by event type", EVERYTHING),
    "report.export": ("export the archive (JSON Lines, CSV, OCEL 2.0), filtered by "
                      "period, subject or actor", EVERYTHING),
    # Tamper evidence (``transparency.py``): for those who read the whole archive.
    "audit.tree_head.read": ("the archive's signed Merkle tree head and the key that "
                             "signs it", EVERYTHING),
    "audit.proof.read": ("inclusion proofs of archived events and consistency proofs "
                         "between tree heads", EVERYTHING),
    # Delivery reports (``reports_delivery.py``): readers of everything read any; others
    # name a campaign of theirs, a team of theirs or themselves (``ReportFilter``).
    "report.on_time.read": ("on-time delivery, lateness, overdue and at-risk tasks",
                            CAMPAIGN_READERS),
    "report.flow.read": ("cycle and lead times, time in each state, weekly throughput",
                         CAMPAIGN_READERS),
    "report.campaign_state.read": ("a campaign and each of its tasks as they stood at an "
                                   "instant (contributors: as for its history)",
                                   CAMPAIGN_READERS),
})
