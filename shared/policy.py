"""Who may do what: the roles, the scopes and the policy table every service declares.

Each service declares one ``Policy`` (``services/<service>/policy.py``): for every action
its API offers, which roles may take it and on what scope. The use cases check it (one
layer, every endpoint goes through it); the HTTP routes name their action in the OpenAPI
document (``x-marketflow-action``), so a generated test can try every operation as every
role and compare the answer with the table, and the README renders the same table.

Scopes, from narrow to wide:
- ``own``: the caller's own things (their task, their notification, their absence; for
  approvers, a task whose approval chain names a role they hold);
- ``team``: things of a team the caller belongs to (contributors) or manages (team
  managers), and for managers, the members who report to them;
- ``all``: everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from shared.domain import EventMeta, Forbidden

__all__ = ["ACCESS_ROLES", "Caller", "Denied", "Policy", "Resource", "Role", "Scope"]


class Denied(Forbidden):
    """The policy refuses: a 403 naming the action and the resource (logged and counted
    by the HTTP layer)."""

    def __init__(self, message: str, action: str, resource: str) -> None:
        super().__init__(message)
        self.action = action
        self.resource = resource


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    TEAM_MANAGER = "team-manager"
    CONTRIBUTOR = "contributor"
    APPROVER = "approver"
    AUDITOR = "auditor"
    INTEGRATION = "integration"


# Held because the directory or the identity provider says so (a member's ``roles`` in
# the directory, the token's roles claim, an API token's service account). The others
# follow from the work: every person contributes, a team's ``manager_id`` manages it, an
# approval chain names its approvers.
ACCESS_ROLES = frozenset({Role.ADMIN, Role.PLANNER, Role.AUDITOR, Role.INTEGRATION})
# Older directories named planners "manager"; still honoured.
ROLE_ALIASES = {"manager": Role.PLANNER}


class Scope(StrEnum):
    OWN = "own"
    TEAM = "team"
    ALL = "all"


_WIDTH = {Scope.OWN: 0, Scope.TEAM: 1, Scope.ALL: 2}


def access_roles(names: object) -> frozenset[Role]:
    """The access roles among ``names`` (work roles such as 'writer' are not)."""
    if not isinstance(names, list | tuple | set | frozenset):
        return frozenset()
    found: set[Role] = set()
    for name in names:
        if not isinstance(name, str):
            continue
        role = ROLE_ALIASES.get(name) or (Role(name) if name in ACCESS_ROLES else None)
        if role is not None:
            found.add(role)
    return frozenset(found)


@dataclass(frozen=True)
class Caller:
    """The authenticated member or service account behind a request, with what the
    directory says of them: the use cases decide with this."""

    member_id: str
    name: str = ""
    roles: frozenset[Role] = frozenset()
    teams: frozenset[str] = frozenset()
    managed_teams: frozenset[str] = frozenset()
    reports: frozenset[str] = frozenset()
    """Members whose ``manager_id`` is the caller."""
    service_account: bool = False

    @classmethod
    def person(cls, member_id: str, *roles: Role | str, teams: frozenset[str] = frozenset(),
               managed_teams: frozenset[str] = frozenset(),
               reports: frozenset[str] = frozenset()) -> Caller:
        """A member with the roles their work gives them (contributor, approver, and team
        manager when they manage a team) besides ``roles``."""
        held = {Role(role) for role in roles}
        if Role.AUDITOR not in held:  # an auditor reads everything and changes nothing
            held |= {Role.CONTRIBUTOR, Role.APPROVER}
        if managed_teams or reports:
            held.add(Role.TEAM_MANAGER)
        return cls(member_id=member_id, name=member_id, roles=frozenset(held), teams=teams,
                   managed_teams=managed_teams, reports=reports)

    @classmethod
    def system(cls, component: str) -> Caller:
        """The service itself (clocks, reactions): acts as an admin, attributed to it."""
        return cls(member_id=f"system:{component}", name=component,
                   roles=frozenset({Role.ADMIN}), service_account=True)

    def meta(self, reason: str | None = None) -> EventMeta:
        return EventMeta(actor=self.member_id, reason=reason)


@dataclass(frozen=True)
class Resource:
    """What an action touches, as the policy sees it."""

    owners: frozenset[str] = frozenset()
    """Members whose own it is: a task's assignee, a notification's recipient, the
    member an absence or a WIP limit is about."""
    teams: frozenset[str] = frozenset()
    """Teams it belongs to: a task's campaign team and queue teams, a member's teams."""
    approvers: frozenset[str] = frozenset()
    """Members the approval chain asks to decide on it."""
    description: str = ""

    @classmethod
    def of(cls, *, owners: object = (), teams: object = (), approvers: object = (),
           description: str = "") -> Resource:
        def ids(values: object) -> frozenset[str]:
            if isinstance(values, str):
                return frozenset({values})
            return frozenset(v for v in values if v) if values else frozenset()  # type: ignore[attr-defined]
        return cls(ids(owners), ids(teams), ids(approvers), description)


EVERYWHERE = Resource()


@dataclass(frozen=True)
class Rule:
    grants: Mapping[Role, Scope]
    summary: str


@dataclass(frozen=True)
class Policy:
    """One service's table: action -> role -> widest scope that role may act on."""

    service: str
    rules: Mapping[str, Rule] = field(default_factory=dict)

    @classmethod
    def table(cls, service: str,
              rules: Mapping[str, tuple[str, Mapping[Role, Scope]]]) -> Policy:
        return cls(service, {action: Rule(dict(grants), summary)
                             for action, (summary, grants) in rules.items()})

    def rule(self, action: str) -> Rule:
        try:
            return self.rules[action]
        except KeyError:
            # Fail closed: an action nobody declared is nobody's.
            raise Denied(f"{action}: not in {self.service}'s access policy", action,
                         "") from None

    def scope(self, action: str, caller: Caller) -> Scope | None:
        """The widest scope any of the caller's roles gives on ``action``; None: none."""
        grants = self.rule(action).grants
        scopes = [grants[role] for role in caller.roles if role in grants]
        return max(scopes, key=_WIDTH.__getitem__) if scopes else None

    def authorize_listing(self, action: str, caller: Caller) -> Scope:
        """A list: any grant lets the caller ask; the use case then keeps what the scope
        covers (their own, their teams', or all)."""
        scope = self.scope(action, caller)
        if scope is None:
            raise Denied(self.refusal(action, caller, EVERYWHERE), action, "")
        return scope

    def allows(self, action: str, caller: Caller, resource: Resource = EVERYWHERE) -> bool:
        grants = self.rule(action).grants
        return any(self._within(role, scope, caller, resource)
                   for role, scope in grants.items() if role in caller.roles)

    def authorize(self, action: str, caller: Caller, resource: Resource = EVERYWHERE) -> Scope:
        """The scope the caller acts with; Forbidden (403) naming the action and who may."""
        if not self.allows(action, caller, resource):
            raise Denied(self.refusal(action, caller, resource), action,
                         resource.description)
        scope = self.scope(action, caller)
        assert scope is not None
        return scope

    def refusal(self, action: str, caller: Caller, resource: Resource) -> str:
        grants = self.rule(action).grants
        who = ", ".join(f"{role} ({scope})" for role, scope in sorted(grants.items()))
        about = f" on {resource.description}" if resource.description else ""
        return (f"{caller.member_id} may not {action}{about}: allowed to "
                f"{who or 'nobody'}")

    @staticmethod
    def _within(role: Role, scope: Scope, caller: Caller, resource: Resource) -> bool:
        if scope is Scope.ALL:
            return True
        if role is Role.APPROVER:
            return caller.member_id in resource.approvers
        own = caller.member_id in resource.owners
        if scope is Scope.OWN:
            return own
        if role is Role.TEAM_MANAGER:
            return own or bool(caller.managed_teams & resource.teams) or bool(
                caller.reports & resource.owners)
        return own or bool(caller.teams & resource.teams)

    def markdown(self) -> str:
        """The table as the README shows it: one row per action, one column per role."""
        roles = list(Role)
        lines = [f"| {self.service} action | " + " | ".join(roles) + " |",
                 "|---|" + "---|" * len(roles)]
        for action in sorted(self.rules):
            rule = self.rules[action]
            cells = [str(rule.grants[role]) if role in rule.grants else "-" for role in roles]
            lines.append(f"| `{action}` ({rule.summary}) | " + " | ".join(cells) + " |")
        return "\n".join(lines)


ACTION_EXTENSION = "x-marketflow-action"


def action(name: str, **openapi_extra: object) -> dict[str, object]:
    """A route's ``openapi_extra``: the policy action it takes (see the generated
    authorization test), with whatever else the operation declares."""
    return {ACTION_EXTENSION: name, **openapi_extra}
