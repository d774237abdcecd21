"""Who may do what in execution: one rule per action its API offers (reads included).

The use cases check it (``services/execution/application.py``); every route names its
action (``x-marketflow-action``). What a resource's scope means here:
- a task: *own* is its assignee's; its *team* is the campaign's team and the teams owning
  its queue; its *approvers* are the members its approval chain (or its consulted roles)
  may ask: those the task resolved and those holding a chain role in the directory now;
- a queue: *own* for the holders of the role it is named after, its teams those owning
  it (or the team it is named after): who may claim from it;
- a campaign's board: *own* for members holding one of its tasks or asked to approve one
  now (an approver judges a deliverable in its campaign's context), its team the campaign's;
- a member (WIP limit, approvals inbox, absence): *own* is theirs, their teams, and for
  team managers the members reporting to them.

Who may act on which step of an approval chain, separation of duties, and "only the
assignee does the work" (start, submit, complete) are the domain's invariants, checked
after the policy by the ``Task`` aggregate.
"""

from __future__ import annotations

from shared.policy import Policy, Role, Scope

ADMIN, PLANNER, MANAGER = Role.ADMIN, Role.PLANNER, Role.TEAM_MANAGER
CONTRIBUTOR, APPROVER, AUDITOR = Role.CONTRIBUTOR, Role.APPROVER, Role.AUDITOR
OWN, TEAM, ALL = Scope.OWN, Scope.TEAM, Scope.ALL

# Reads: a contributor sees their own work and their teams'; an approver the tasks asking
# for their decision; a team manager their teams' and their reports'; planners, admins and
# auditors everything.
SEES_TASKS = {ADMIN: ALL, AUDITOR: ALL, PLANNER: ALL, MANAGER: TEAM, CONTRIBUTOR: TEAM,
              APPROVER: OWN}
# Managing work: planners everywhere, a team's manager on the team's work.
MANAGES = {ADMIN: ALL, PLANNER: ALL, MANAGER: TEAM}
# Doing the work: its assignee (and those who manage it, for interruptions).
# The work itself is the assignee's, the decision the approvers': an admin reassigns or
# cancels instead of acting in someone's name (the domain would refuse it anyway).
DOES = {CONTRIBUTOR: OWN}
INTERRUPTS = {**MANAGES, CONTRIBUTOR: OWN}
DECIDES = {APPROVER: OWN}
READS_ALL = {ADMIN: ALL, AUDITOR: ALL, PLANNER: ALL}

POLICY = Policy.table("execution", {
    # --- reads ---
    "task.read": ("a task, its history and comments; lists filtered to what the caller "
                  "may see", SEES_TASKS),
    "approval.inbox": ("a member's approvals inbox (one's own; a team manager's reports' "
                       "and team's)", {**READS_ALL, MANAGER: TEAM, CONTRIBUTOR: OWN}),
    "queue.read": ("a team queue's unclaimed tasks",
                   {**READS_ALL, MANAGER: TEAM, CONTRIBUTOR: TEAM}),
    "campaign.board": ("a campaign's board (its team, members holding one of its tasks, "
                       "and those asked to approve one now)",
                       {**READS_ALL, MANAGER: TEAM, CONTRIBUTOR: TEAM}),
    "absence.read": ("absences and what moved; the reason only with absence.read_reason",
                     {**READS_ALL, MANAGER: ALL, CONTRIBUTOR: ALL}),
    "absence.read_reason": ("why a member is away (others see 'away')",
                            {**READS_ALL, MANAGER: TEAM, CONTRIBUTOR: OWN}),
    # --- the work ---
    "task.start": ("start one's task", DOES),
    "task.submit": ("submit one's work for approval", DOES),
    "task.complete": ("complete one's task", DOES),
    "task.block": ("block a task, saying why", INTERRUPTS),
    "task.unblock": ("unblock a task", INTERRUPTS),
    "task.comment": ("comment on a task one may see",
                     {ADMIN: ALL, PLANNER: ALL, MANAGER: TEAM, CONTRIBUTOR: TEAM,
                      APPROVER: OWN}),
    "task.claim": ("claim a task from one's team's queue (or holding its role)",
                   {CONTRIBUTOR: TEAM}),
    "task.approve": ("approve the step of a submission one is an approver of", DECIDES),
    "task.request_changes": ("send a submission back, as an approver of its step",
                             DECIDES),
    # --- managing work ---
    "task.reassign": ("give a task to another member", MANAGES),
    "task.cancel": ("cancel a task", MANAGES),
    "member.set_wip_limit": ("set a member's work-in-progress limit", MANAGES),
})
