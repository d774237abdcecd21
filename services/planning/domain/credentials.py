"""Credentials planning issues: API tokens for machines and scripts, and secret calendar
feed addresses for calendar clients. Only hashes are kept; the secret is shown once.

No ``from __future__ import annotations`` here: the event decorator builds pydantic
event classes from these signatures and needs the real types.
"""

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.domain import Aggregate, Conflict, EventMeta, InvalidCommand, event

MAX_TOKEN_DAYS = 366
"""API tokens expire within a year: a forgotten token does not open the API forever."""


class ApiToken(Aggregate):
    @event("Issued")
    def __init__(self, id: UUID, token_hash: str, principal_id: str, service_account: bool,
                 roles: list[str], label: str, expires_at: dt.datetime | None,
                 meta: EventMeta) -> None:
        self.token_hash = token_hash
        self.principal_id = principal_id
        self.service_account = service_account
        self.roles = list(roles)
        self.label = label
        self.expires_at = expires_at
        self.issued_by = meta.actor
        self.revoked_at: dt.datetime | None = None
        self.revoked_by: str | None = None

    def revoke(self, meta: EventMeta) -> None:
        if self.revoked_at is not None:
            raise Conflict(f"API token {self.id} was already revoked by {self.revoked_by}")
        self._revoked(token_hash=self.token_hash, meta=meta)

    @event("Revoked")
    def _revoked(self, token_hash: str, meta: EventMeta) -> None:
        self.revoked_at = self.modified_on
        self.revoked_by = meta.actor


def check_expiry(expires_at: dt.datetime | None, now: dt.datetime) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise InvalidCommand("expires_at: give a time with its offset, e.g. "
                             "2027-01-01T00:00:00Z")
    if expires_at <= now:
        raise InvalidCommand("expires_at: must be in the future")
    if expires_at > now + dt.timedelta(days=MAX_TOKEN_DAYS):
        raise InvalidCommand(f"expires_at: at most {MAX_TOKEN_DAYS} days ahead")


class FeedTarget(BaseModel):
    """Which calendar a feed address opens: one team's or one member's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["team", "member"]
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")

    @property
    def path(self) -> str:
        return f"/calendar/{self.kind}s/{self.id}.ics"


class CalendarFeed(Aggregate):
    """One member's secret address for one feed: revocable, rotatable, and good for that
    feed only (not an API token)."""

    @event("Issued")
    def __init__(self, id: UUID, member_id: str, target: FeedTarget, secret_hash: str,
                 meta: EventMeta) -> None:
        self.member_id = member_id
        self.target = target
        self.secret_hash = secret_hash
        self.revoked = False

    def rotate(self, secret_hash: str, meta: EventMeta) -> None:
        if self.revoked:
            raise Conflict(f"calendar feed {self.id} was revoked: create a new one")
        self._rotated(member_id=self.member_id, previous_hash=self.secret_hash,
                      secret_hash=secret_hash, meta=meta)

    @event("Rotated")
    def _rotated(self, member_id: str, previous_hash: str, secret_hash: str,
                 meta: EventMeta) -> None:
        self.secret_hash = secret_hash

    def revoke(self, meta: EventMeta) -> None:
        if self.revoked:
            raise Conflict(f"calendar feed {self.id} was already revoked")
        self._revoked(member_id=self.member_id, secret_hash=self.secret_hash, meta=meta)

    @event("Revoked")
    def _revoked(self, member_id: str, secret_hash: str, meta: EventMeta) -> None:
        self.revoked = True
