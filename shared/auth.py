"""Bearer-token authentication: every command is attributed to the member behind it.

Tokens come from a JSON file (``MARKETFLOW_TOKENS_FILE``) mapping token -> member:
``{"<token>": {"member_id": "anna", "name": "Anna Virtanen"}}``. ``make run`` writes
one with fresh demo tokens; production points it at the identity provider's export.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request, status


@dataclass(frozen=True)
class Member:
    member_id: str
    name: str


class TokenRegistry:
    def __init__(self, members_by_token: dict[str, Member]) -> None:
        self._members_by_token = members_by_token

    @classmethod
    def from_file(cls, path: Path | None) -> TokenRegistry:
        if path is None:
            return cls({})
        raw = json.loads(path.read_text())
        return cls({
            token: Member(member_id=entry["member_id"], name=entry.get("name", entry["member_id"]))
            for token, entry in raw.items()
        })

    def member_for(self, token: str) -> Member | None:
        for known, member in self._members_by_token.items():
            # Constant-time comparison: token checks must not leak prefixes by timing.
            if hmac.compare_digest(known.encode(), token.encode()):
                return member
        return None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def current_member(request: Request) -> Member:
    """FastAPI dependency: the authenticated member, or 401."""
    header = request.headers.get("authorization")
    if not header:
        raise _unauthorized("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Authorization header must be 'Bearer <token>'")
    registry: TokenRegistry = request.app.state.tokens
    member = registry.member_for(token.strip())
    if member is None:
        raise _unauthorized("unknown or revoked token")
    request.state.member_id = member.member_id  # who a denial is logged against
    return member
