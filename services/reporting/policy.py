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
OWN, TEAM, ALL = Scope.OWN, Scope.TEAM, Scope.ALL

EVERYTHING = {ADMIN: ALL, PLANNER: ALL, AUDITOR: ALL}
CAMPAIGN_READERS = {**EVERYTHING, MANAGER: TEAM, CONTRIBUTOR: TEAM}
# A member's trail (``audit_reads.py``): theirs, their manager's (their reports, their
# managed teams' members), and admins' and auditors'. Planners plan work, they do not
# watch people: they read their own like everyone.
MEMBER_TRAIL = {ADMIN: ALL, AUDITOR: ALL, MANAGER: TEAM, CONTRIBUTOR: OWN}
# Playbooks and goals belong to no team or member: who plans (managers plan their teams'
# campaigns from them) and who audits read who changed them, when and why; contributors
# read the definitions themselves in planning.
DEFINITION_TRAIL = {**EVERYTHING, MANAGER: ALL}

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
    # Who did what (``audit_reads.py``); absence reasons show as 'away' except to the
    # member who is away.
    "audit.activity.read": ("everything a member did or had done for them, across "
                            "services (managers: their reports and teams' members; "
                            "members: their own)", MEMBER_TRAIL),
    "audit.member_history.read": ("everything that happened to a member's directory "
                                  "record and absences (as for activity)", MEMBER_TRAIL),
    "audit.playbook_history.read": ("everything that happened to a playbook",
                                    DEFINITION_TRAIL),
    "audit.goal_history.read": ("everything that happened to a goal and its KPI",
                                DEFINITION_TRAIL),
    # The people reports (``reports_people.py``): contributors name what they may read.
    "report.approvals.read": ("approval turnaround, revision rounds, first-time approvals "
                              "and absence hand-overs (contributors: a campaign they take "
                              "part in, a team of theirs or themselves)", CAMPAIGN_READERS),
    "report.workload.read": ("members' open tasks, coming weeks' effort against capacity "
                             "and queue depths (contributors: themselves, or a campaign "
                             "they take part in)",
                             {**EVERYTHING, MANAGER: TEAM, CONTRIBUTOR: OWN}),
    "report.goals.read": ("goals' KPI attainment and their campaigns' progress "
                          "(contributors: as for approvals)", CAMPAIGN_READERS),
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
