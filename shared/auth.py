"""Who is calling: every request is attributed to a member or a service account.

Three kinds of bearer credentials, tried in this order:
- **OpenID Connect access tokens** (JWTs) for people, when an issuer is configured
  (``MARKETFLOW_OIDC_*``): signature against the provider's JWKS, issuer, audience, expiry
  and algorithm checked; the member id and (optionally) roles come from configured claims.
- **API tokens** for machines and scripts, issued by an admin on planning
  (``POST /api-tokens``): looked up by their SHA-256 in the service's access read model, so
  revocation and expiry hold on every service within seconds, without a restart.
- **Static tokens** from ``MARKETFLOW_TOKENS_FILE`` (``make run``'s demo members):
  ``{"<token>": {"member_id": "anna", "name": "Anna", "roles": ["admin"]}}``. Production
  leaves it unset.

The caller's roles are the credential's (token claim, token file, service account) plus
the directory's (``shared/access.py``); the use cases decide with them (``shared/policy.py``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fastapi import HTTPException, Request, status

from shared.access import AccessView, caller_of, token_hash
from shared.oidc import InvalidToken, OidcIdentity, OidcProviderError
from shared.policy import Caller, Role, access_roles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Member:
    """An entry of the static token file."""

    member_id: str
    name: str
    roles: frozenset[Role] = frozenset()
    service_account: bool = False


@dataclass(frozen=True)
class Identity:
    """What a credential proves, before the directory is asked."""

    member_id: str
    name: str
    roles: frozenset[Role]
    service_account: bool = False


class TokenVerifier(Protocol):
    """An OpenID Connect access-token verifier (``shared/oidc.OidcVerifier``)."""

    def verify(self, token: str) -> OidcIdentity: ...


class InvalidCredential(Exception):
    """Why a bearer credential opens nothing; shown in the 401."""


class TokenRegistry:
    def __init__(self, members_by_token: dict[str, Member]) -> None:
        self._members_by_token = members_by_token

    @classmethod
    def from_file(cls, path: Path | None) -> TokenRegistry:
        if path is None:
            return cls({})
        raw = json.loads(path.read_text())
        return cls({
            token: Member(member_id=entry["member_id"], name=entry.get("name", entry["member_id"]),
                          roles=access_roles(entry.get("roles", [])),
                          service_account=bool(entry.get("service_account", False)))
            for token, entry in raw.items()
        })

    def credentials(self) -> list[tuple[str, Member]]:
        """Every (token, member) of the file: the web app's demo sign-in lists and uses them."""
        return list(self._members_by_token.items())

    def member_for(self, token: str) -> Member | None:
        found = None
        for known, member in self._members_by_token.items():
            # Constant-time comparison: token checks must not leak prefixes by timing.
            if hmac.compare_digest(known.encode(), token.encode()):
                found = member
        return found


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


class Authenticator:
    """Turns a bearer credential into the caller the use cases see."""

    def __init__(self, static: TokenRegistry, access: AccessView | None = None,
                 oidc: TokenVerifier | None = None) -> None:
        self.static = static
        self.access = access
        self.oidc = oidc

    def identify(self, token: str) -> Identity:
        member = self.static.member_for(token)
        if member is not None:
            return Identity(member.member_id, member.name, member.roles,
                            service_account=member.service_account)
        if looks_like_jwt(token):
            if self.oidc is None:
                raise InvalidCredential("a JWT was sent but no OpenID Connect issuer is "
                                        "configured (MARKETFLOW_OIDC_ISSUER)")
            try:
                verified = self.oidc.verify(token)
            except InvalidToken as refused:
                raise InvalidCredential(refused.reason) from None
            return Identity(verified.member_id, verified.name, access_roles(list(verified.roles)))
        return self._api_token(token)

    def _api_token(self, token: str) -> Identity:
        credential = self.access.credential(token_hash(token)) if self.access else None
        if credential is None:
            raise InvalidCredential("unknown token")
        if credential.revoked:
            raise InvalidCredential("this API token was revoked")
        if credential.expires_at is not None and credential.expires_at <= dt.datetime.now(dt.UTC):
            raise InvalidCredential(f"this API token expired at "
                                    f"{credential.expires_at.isoformat()}")
        return Identity(credential.principal_id, credential.principal_id, credential.roles,
                        service_account=credential.service_account)

    def caller(self, token: str) -> Caller:
        identity = self.identify(token)
        if identity.service_account:
            return Caller(identity.member_id, identity.name, identity.roles,
                          service_account=True)
        facts = self.access.member(identity.member_id) if self.access else None
        if facts is not None and not facts.active:
            raise InvalidCredential(f"{identity.member_id} is no longer active in the "
                                    "team directory")
        return caller_of(identity.member_id, identity.name, identity.roles, facts)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


def current_caller(request: Request) -> Caller:
    """FastAPI dependency: the authenticated caller, or 401."""
    authenticator: Authenticator = request.app.state.authenticator
    try:
        caller = authenticator.caller(bearer_token(request))
    except InvalidCredential as refused:
        raise unauthorized(f"not authenticated: {refused}") from None
    except OidcProviderError as unreachable:
        # The provider's keys cannot be fetched: the caller is not at fault.
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"cannot check the sign-in now: {unreachable}") from None
    request.state.member_id = caller.member_id  # who a denial is logged against
    return caller
