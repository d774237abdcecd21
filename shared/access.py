"""What every service knows of the people and machines calling it: members' access roles,
teams and managers, and the API tokens planning issued (their hashes only).

Planning owns the directory and the tokens. The other services keep their own copy, built
from planning's integration events (``member.registered``, ``team.registered``,
``api_token.issued``/``revoked``): the handlers below record them as this service's own
events, and ``AccessView`` folds them into persisted tables, like every read model. So a
revoked token stops working on every service as soon as its event arrives, without a
restart, and no service reads another's database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from eventsourcing.application import ProcessingEvent

from contracts import planning
from shared.application import Handlers, ServiceApplication
from shared.cloudevents import InboundEvent
from shared.domain import Aggregate, EventMeta, event
from shared.policy import Caller, Role, access_roles
from shared.projections import Projection, Sql, Table

ACCESS = uuid5(NAMESPACE_URL, "urn:marketflow:access")


def token_hash(token: str) -> str:
    """How a token is stored and published: SHA-256 (the token is 256 random bits, so a
    salt or a slow hash adds nothing; the hash alone cannot be used to call the API)."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- the other services' copy, as events of their own ----------------------------------------


class MemberAccess(Aggregate):
    @event("Recorded")
    def __init__(self, id: UUID, member_id: str, name: str, roles: list[str],
                 team_ids: list[str], manager_id: str | None, active: bool,
                 meta: EventMeta) -> None:
        self.member_id = member_id
        self.state = (name, list(roles), list(team_ids), manager_id, active)

    def record(self, name: str, roles: list[str], team_ids: list[str],
               manager_id: str | None, active: bool, meta: EventMeta) -> None:
        if (name, list(roles), list(team_ids), manager_id, active) != self.state:
            self._changed(member_id=self.member_id, name=name, roles=roles,
                          team_ids=team_ids, manager_id=manager_id, active=active, meta=meta)

    @event("Changed")
    def _changed(self, member_id: str, name: str, roles: list[str], team_ids: list[str],
                 manager_id: str | None, active: bool, meta: EventMeta) -> None:
        self.state = (name, list(roles), list(team_ids), manager_id, active)


class TeamAccess(Aggregate):
    @event("Recorded")
    def __init__(self, id: UUID, team_id: str, manager_id: str | None,
                 meta: EventMeta) -> None:
        self.team_id = team_id
        self.manager_id = manager_id

    def record(self, manager_id: str | None, meta: EventMeta) -> None:
        if manager_id != self.manager_id:
            self._changed(team_id=self.team_id, manager_id=manager_id, meta=meta)

    @event("Changed")
    def _changed(self, team_id: str, manager_id: str | None, meta: EventMeta) -> None:
        self.manager_id = manager_id


class CredentialAccess(Aggregate):
    @event("Issued")
    def __init__(self, id: UUID, token_id: UUID, token_hash: str, principal_id: str,
                 service_account: bool, roles: list[str], expires_at: dt.datetime | None,
                 meta: EventMeta) -> None:
        self.token_id = token_id
        self.revoked = False

    def revoke(self, meta: EventMeta) -> None:
        if not self.revoked:
            self._revoked(token_id=self.token_id, meta=meta)

    @event("Revoked")
    def _revoked(self, token_id: UUID, meta: EventMeta) -> None:
        self.revoked = True


def _pending_or_stored(app: ServiceApplication, aggregate_id: UUID,
                       kind: type[Any]) -> Any | None:
    return app.load(aggregate_id, kind) if app.exists(aggregate_id) else None


def on_member_registered(app: ServiceApplication, inbound: InboundEvent,
                         processing_event: ProcessingEvent[UUID]) -> None:
    member = inbound.event
    assert isinstance(member, planning.MemberRegistered)
    meta = app.meta_caused_by(inbound)
    aggregate_id = uuid5(ACCESS, f"member:{member.member_id}")
    known = _pending_or_stored(app, aggregate_id, MemberAccess)
    if known is None:
        known = MemberAccess(id=aggregate_id, member_id=member.member_id, name=member.name,
                             roles=list(member.roles), team_ids=list(member.team_ids),
                             manager_id=member.manager_id, active=member.active, meta=meta)
    else:
        known.record(member.name, list(member.roles), list(member.team_ids),
                     member.manager_id, member.active, meta)
    processing_event.collect_events(known)


def on_team_registered(app: ServiceApplication, inbound: InboundEvent,
                       processing_event: ProcessingEvent[UUID]) -> None:
    team = inbound.event
    assert isinstance(team, planning.TeamRegistered)
    meta = app.meta_caused_by(inbound)
    aggregate_id = uuid5(ACCESS, f"team:{team.team_id}")
    known = _pending_or_stored(app, aggregate_id, TeamAccess)
    if known is None:
        known = TeamAccess(id=aggregate_id, team_id=team.team_id, manager_id=team.manager_id,
                           meta=meta)
    else:
        known.record(team.manager_id, meta)
    processing_event.collect_events(known)


def on_token_issued(app: ServiceApplication, inbound: InboundEvent,
                    processing_event: ProcessingEvent[UUID]) -> None:
    issued = inbound.event
    assert isinstance(issued, planning.ApiTokenIssued)
    aggregate_id = uuid5(ACCESS, f"token:{issued.token_id}")
    if app.exists(aggregate_id):
        return
    processing_event.collect_events(CredentialAccess(
        id=aggregate_id, token_id=issued.token_id, token_hash=issued.token_hash,
        principal_id=issued.principal_id, service_account=issued.service_account,
        roles=list(issued.roles), expires_at=issued.expires_at,
        meta=app.meta_caused_by(inbound)))


def on_token_revoked(app: ServiceApplication, inbound: InboundEvent,
                     processing_event: ProcessingEvent[UUID]) -> None:
    revoked = inbound.event
    assert isinstance(revoked, planning.ApiTokenRevoked)
    known = _pending_or_stored(app, uuid5(ACCESS, f"token:{revoked.token_id}"),
                               CredentialAccess)
    if known is None:
        # Revoked before its issue arrived (or issued before this service existed):
        # recorded as a revoked credential, so the issue that may follow changes nothing.
        known = CredentialAccess(
            id=uuid5(ACCESS, f"token:{revoked.token_id}"), token_id=revoked.token_id,
            token_hash=revoked.token_hash, principal_id="", service_account=False, roles=[],
            expires_at=None, meta=app.meta_caused_by(inbound))
    known.revoke(app.meta_caused_by(inbound))
    processing_event.collect_events(known)


ACCESS_HANDLERS: Handlers = {
    planning.MemberRegistered: on_member_registered,
    planning.TeamRegistered: on_team_registered,
    planning.ApiTokenIssued: on_token_issued,
    planning.ApiTokenRevoked: on_token_revoked,
}


def with_access_handlers(handlers: Handlers) -> Handlers:
    """A consuming service's handlers, plus recording what access needs: both run for an
    event both handle (in the same transaction)."""
    combined: dict[Any, Any] = dict(handlers)
    for kind, access_handler in ACCESS_HANDLERS.items():
        own = combined.get(kind)
        if own is None:
            combined[kind] = access_handler
        else:
            def both(app: Any, inbound: InboundEvent, processing_event: Any,
                     first: Any = own, second: Any = access_handler) -> None:
                first(app, inbound, processing_event)
                second(app, inbound, processing_event)
            combined[kind] = both
    return combined


# --- the read model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    token_id: str
    principal_id: str
    service_account: bool
    roles: frozenset[Role]
    expires_at: dt.datetime | None
    revoked: bool


@dataclass(frozen=True)
class MemberFacts:
    member_id: str
    name: str
    roles: frozenset[Role]
    teams: frozenset[str]
    managed_teams: frozenset[str]
    reports: frozenset[str]
    active: bool


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class AccessView(Projection):
    """Members' access roles and teams, who manages which team, and API token hashes."""

    name = "access"
    version = 1
    # Outside planning, folded from planning's events (a revoked token is refused once
    # its event is applied here; another replica's follower picks it up within 0.5 s).
    fed_by_other_services = True
    tables: ClassVar[tuple[Table, ...]] = (
        Table("access_members", (("member_id", "text"), ("name", "text"), ("roles", "json"),
                                 ("team_ids", "json"), ("manager_id", "text"),
                                 ("active", "int")),
              ("member_id",), indexes=(("manager_id",),)),
        Table("access_teams", (("team_id", "text"), ("manager_id", "text")), ("team_id",),
              indexes=(("manager_id",),)),
        Table("access_credentials", (("token_hash", "text"), ("token_id", "text"),
                                     ("principal_id", "text"), ("service_account", "int"),
                                     ("roles", "json"), ("expires_at", "text"),
                                     ("revoked", "int")),
              ("token_hash",), indexes=(("token_id",),)),
    )

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Other events grant nothing."""

    @apply.register(MemberAccess.Recorded)  # type: ignore[attr-defined]
    @apply.register(MemberAccess.Changed)  # type: ignore[attr-defined]
    def _member_access(self, event: Any, sql: Sql) -> None:
        self.put_member(sql, event.member_id, event.name, event.roles, event.team_ids,
                        event.manager_id, event.active)

    @apply.register(TeamAccess.Recorded)  # type: ignore[attr-defined]
    @apply.register(TeamAccess.Changed)  # type: ignore[attr-defined]
    def _team_access(self, event: Any, sql: Sql) -> None:
        self.put_team(sql, event.team_id, event.manager_id)

    @apply.register(CredentialAccess.Issued)  # type: ignore[attr-defined]
    def _issued(self, event: Any, sql: Sql) -> None:
        self.put_credential(sql, event.token_hash, str(event.token_id), event.principal_id,
                            event.service_account, event.roles, event.expires_at)

    @apply.register(CredentialAccess.Revoked)  # type: ignore[attr-defined]
    def _revoked(self, event: Any, sql: Sql) -> None:
        self.revoke_credential(sql, str(event.token_id))

    # --- writes shared with planning's own fold -----------------------------------------------

    def put_member(self, sql: Sql, member_id: str, name: str, roles: list[str],
                   team_ids: list[str], manager_id: str | None, active: bool) -> None:
        sql.execute(
            f"INSERT INTO {self.table('access_members')} (member_id, name, roles, team_ids, "
            "manager_id, active) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (member_id) DO UPDATE "
            "SET name = excluded.name, roles = excluded.roles, team_ids = excluded.team_ids, "
            "manager_id = excluded.manager_id, active = excluded.active",
            (member_id, name, dumps(sorted(roles)), dumps(sorted(team_ids)), manager_id,
             int(bool(active))))

    def put_team(self, sql: Sql, team_id: str, manager_id: str | None) -> None:
        sql.execute(f"INSERT INTO {self.table('access_teams')} (team_id, manager_id) "
                    "VALUES (?, ?) ON CONFLICT (team_id) DO UPDATE "
                    "SET manager_id = excluded.manager_id", (team_id, manager_id))

    def put_credential(self, sql: Sql, hashed: str, token_id: str, principal_id: str,
                       service_account: bool, roles: list[str],
                       expires_at: dt.datetime | None) -> None:
        sql.execute(
            f"INSERT INTO {self.table('access_credentials')} (token_hash, token_id, "
            "principal_id, service_account, roles, expires_at, revoked) "
            "VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (token_hash) DO NOTHING",
            (hashed, token_id, principal_id, int(service_account), dumps(sorted(roles)),
             expires_at.isoformat() if expires_at else None))

    def revoke_credential(self, sql: Sql, token_id: str) -> None:
        sql.execute(f"UPDATE {self.table('access_credentials')} SET revoked = 1 "
                    "WHERE token_id = ?", (token_id,))

    # --- queries ---------------------------------------------------------------------

    def credential(self, hashed: str) -> Credential | None:
        self.refresh()
        with self.store.transaction(commit=False) as sql:
            row = sql.one(f"SELECT * FROM {self.table('access_credentials')} "
                          "WHERE token_hash = ?", (hashed,))
        if row is None:
            return None
        expires = row["expires_at"]
        return Credential(
            token_id=row["token_id"], principal_id=row["principal_id"],
            service_account=bool(row["service_account"]),
            roles=access_roles(orjson.loads(row["roles"])),
            expires_at=dt.datetime.fromisoformat(expires) if expires else None,
            revoked=bool(row["revoked"]))

    def member(self, member_id: str) -> MemberFacts | None:
        self.refresh()
        with self.store.transaction(commit=False) as sql:
            row = sql.one(f"SELECT * FROM {self.table('access_members')} WHERE member_id = ?",
                          (member_id,))
            managed = sql.rows(f"SELECT team_id FROM {self.table('access_teams')} "
                               "WHERE manager_id = ?", (member_id,))
            reports = sql.rows(f"SELECT member_id FROM {self.table('access_members')} "
                               "WHERE manager_id = ? AND active = 1", (member_id,))
        if row is None:
            return None
        return MemberFacts(
            member_id=member_id, name=row["name"],
            roles=access_roles(orjson.loads(row["roles"])),
            teams=frozenset(orjson.loads(row["team_ids"])),
            managed_teams=frozenset(r["team_id"] for r in managed),
            reports=frozenset(r["member_id"] for r in reports),
            active=bool(row["active"]))

    def caller(self, member_id: str, name: str, token_roles: frozenset[Role],
               service_account: bool) -> Caller:
        if service_account:
            return Caller(member_id=member_id, name=name, roles=token_roles,
                          service_account=True)
        return caller_of(member_id, name, token_roles, self.member(member_id))


def caller_of(member_id: str, name: str, token_roles: frozenset[Role],
              facts: MemberFacts | None) -> Caller:
    """A person as the directory knows them: roles from the credential and from the
    directory, their teams, the teams they manage and who reports to them."""
    if facts is None:
        return Caller.person(member_id, *token_roles)
    caller = Caller.person(member_id, *(token_roles | facts.roles), teams=facts.teams,
                           managed_teams=facts.managed_teams, reports=facts.reports)
    return Caller(member_id=caller.member_id, name=facts.name or name, roles=caller.roles,
                  teams=caller.teams, managed_teams=caller.managed_teams,
                  reports=caller.reports)
