"""Planning's access policy: who may take each action, on what scope (``shared/policy``).

Checked in the use cases (``application.py``); every route names its action.
"""

from __future__ import annotations

from shared.policy import Policy, Role, Scope

ADMIN, PLANNER, MANAGER = Role.ADMIN, Role.PLANNER, Role.TEAM_MANAGER
CONTRIBUTOR, AUDITOR, INTEGRATION = Role.CONTRIBUTOR, Role.AUDITOR, Role.INTEGRATION
OWN, TEAM, ALL = Scope.OWN, Scope.TEAM, Scope.ALL

PLANNERS = {ADMIN: ALL, PLANNER: ALL}
PLANNERS_AND_MANAGERS = {**PLANNERS, MANAGER: TEAM}
EVERY_READER = {ADMIN: ALL, PLANNER: ALL, MANAGER: ALL, CONTRIBUTOR: ALL, AUDITOR: ALL}

POLICY = Policy.table("planning", {
    "playbook.read": ("list, view, export and diff playbooks", EVERY_READER),
    "playbook.define": ("define or import a playbook", PLANNERS),
    "playbook.revise": ("publish a new version", PLANNERS),
    "campaign.read": ("view campaigns (contributors: those of their teams or that "
                      "assign them work)", {**EVERY_READER, MANAGER: TEAM, CONTRIBUTOR: TEAM}),
    "campaign.plan": ("plan a campaign (managers: for their team)", PLANNERS_AND_MANAGERS),
    "campaign.change": ("reschedule, migrate, cancel, complete, link goals",
                        PLANNERS_AND_MANAGERS),
    "routine.read": ("view recurring routines", EVERY_READER),
    "routine.define": ("define or stop a routine (managers: for their team)",
                       PLANNERS_AND_MANAGERS),
    "routine.run": ("plan the occurrences that are due now", PLANNERS),
    "calendar.read": ("query the calendar (contributors: their teams and their own work)",
                      {**EVERY_READER, MANAGER: TEAM, CONTRIBUTOR: TEAM}),
    "calendar.feed": ("read a team's or a member's iCalendar feed",
                      {**EVERY_READER, MANAGER: TEAM, CONTRIBUTOR: TEAM}),
    "calendar_feed.manage": ("create, list, rotate and revoke secret feed addresses",
                             {ADMIN: ALL, CONTRIBUTOR: OWN}),
    "goal.read": ("view goals and KPIs", {**EVERY_READER, INTEGRATION: ALL}),
    "goal.define": ("define a goal", PLANNERS),
    "goal.measure": ("record a KPI measurement", {**PLANNERS, INTEGRATION: ALL}),
    "team.read": ("view teams and their closed days", EVERY_READER),
    "team.register": ("register or change a team", PLANNERS),
    "member.read": ("view the directory (absence reasons: see absence.read_reason)",
                    EVERY_READER),
    "member.register": ("register or change a member (managers: their team, their "
                        "reports)", PLANNERS_AND_MANAGERS),
    "member.grant_access": ("give or take the admin, planner, auditor or integration role",
                            {ADMIN: ALL}),
    "absence.record": ("record or cancel an absence", {**PLANNERS_AND_MANAGERS,
                                                       CONTRIBUTOR: OWN}),
    "absence.read_reason": ("see why someone is away (others see 'away')",
                            {ADMIN: ALL, PLANNER: ALL, AUDITOR: ALL, MANAGER: TEAM,
                             CONTRIBUTOR: OWN}),
    "api_token.issue": ("issue an API token (shown once)", {ADMIN: ALL}),
    "api_token.read": ("list API tokens (never their secrets)", {ADMIN: ALL, AUDITOR: ALL}),
    "api_token.revoke": ("revoke an API token", {ADMIN: ALL}),
})
