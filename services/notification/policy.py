"""Notification's access policy: who may take each action, on what scope (``shared/policy``).

A notification is its recipient's own. Every person lists and reads their own and marks
them read; admins and auditors may read any one by id (the list is always the caller's
own: no one browses another member's inbox); nobody marks another's notification read
(it would say they saw it), and auditors change nothing. How a member wants to hear
(their preferences) is their own: they read and set them; auditors read theirs only.
Webhook subscriptions: a member manages their own, a team's manager the team's;
admins any; auditors read them all.

Checked in the use cases (``application.py``); every route names its action.
"""

from __future__ import annotations

from shared.policy import Policy, Role, Scope

ADMIN, PLANNER, MANAGER = Role.ADMIN, Role.PLANNER, Role.TEAM_MANAGER
CONTRIBUTOR, AUDITOR = Role.CONTRIBUTOR, Role.AUDITOR
OWN, TEAM, ALL = Scope.OWN, Scope.TEAM, Scope.ALL

PEOPLE = (ADMIN, PLANNER, MANAGER, CONTRIBUTOR, AUDITOR)
"""Whoever signs in as a person (not a service account) may have notifications. (Not the
approver role: its scope is the tasks an approval chain names, and every approver is a
contributor.)"""

POLICY = Policy.table("notification", {
    "notification.list": ("list one's own notifications, newest first",
                          {role: OWN for role in PEOPLE}),
    "notification.read": ("read one notification (admins and auditors: anyone's)",
                          {**{role: OWN for role in PEOPLE}, ADMIN: ALL, AUDITOR: ALL}),
    "notification.mark_read": ("mark one's own notification read",
                               {role: OWN for role in PEOPLE if role is not AUDITOR}),
    "notification.unread_count": ("count one's own unread notifications",
                                  {role: OWN for role in PEOPLE}),
    "notification.mark_all_read": ("mark all one's own unread notifications read",
                                   {role: OWN for role in PEOPLE if role is not AUDITOR}),
    "notification.preferences.read": ("read one's own notification preferences",
                                      {role: OWN for role in PEOPLE}),
    "notification.preferences.write": ("set one's own notification preferences (channels, "
                                       "quiet hours, time zone, digest)",
                                       {role: OWN for role in PEOPLE if role is not AUDITOR}),
    "webhook.list": ("list a member's webhook subscriptions (their own; admins and "
                     "auditors: anyone's)",
                     {**{role: OWN for role in PEOPLE}, ADMIN: ALL, AUDITOR: ALL}),
    "webhook.manage": ("subscribe, delete, rotate the secret of and test a member's own "
                       "webhook",
                       {**{role: OWN for role in PEOPLE if role is not AUDITOR}, ADMIN: ALL}),
    "team_webhook.list": ("list a team's webhook subscriptions (its manager)",
                          {MANAGER: TEAM, ADMIN: ALL, AUDITOR: ALL}),
    "team_webhook.manage": ("subscribe, delete, rotate the secret of and test a team's "
                            "webhook (its manager)",
                            {MANAGER: TEAM, ADMIN: ALL}),
})
