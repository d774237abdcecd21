"""The session: who signed in and the credential the BFF forwards for them, sealed in a
cookie (Fernet: AES-128-CBC + HMAC-SHA256, with its own timestamp) so any replica holding
the key can open it and none needs a shared store. The browser can neither read the
credential (the cookie is encrypted and httpOnly) nor alter it (a changed byte fails the
HMAC and reads as no session).

A sealed session is a little over 4/3 of its JSON; browsers keep cookies up to 4096
bytes, so a provider token above about 2.7 KB does not fit (``SessionTooLarge``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SESSION_COOKIE = "mf_session"
# The __Host- prefix makes browsers refuse the cookie unless it is Secure, Path=/ and
# without Domain: a sibling subdomain cannot plant or overwrite it.
SECURE_SESSION_COOKIE = "__Host-mf_session"
LOGIN_COOKIE = "mf_oidc_login"
MAX_COOKIE_BYTES = 4000


class SessionTooLarge(Exception):
    """The credential does not fit in a cookie."""


@dataclass(frozen=True)
class Session:
    member_id: str
    name: str
    roles: tuple[str, ...]
    credential: str
    expires_at: float
    """Seconds since the epoch."""

    def public(self) -> dict[str, object]:
        """What the browser may know (never the credential)."""
        return {"member_id": self.member_id, "name": self.name, "roles": list(self.roles)}


class Sealer:
    """Seals and opens cookie values with the configured keys (the first seals)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, payload: dict[str, object]) -> str:
        return self._fernet.encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode()

    def open(self, value: str | None, max_age_seconds: float) -> dict[str, object] | None:
        """The payload, or None when absent, altered, sealed with an unknown key or older
        than ``max_age_seconds``."""
        if not value or len(value) > MAX_COOKIE_BYTES:
            return None
        try:
            raw = self._fernet.decrypt(value.encode(), ttl=max(1, int(max_age_seconds)))
            payload = json.loads(raw)
        except (InvalidToken, ValueError):
            return None
        return payload if isinstance(payload, dict) else None

    def seal_session(self, session: Session) -> str:
        value = self.seal({"v": 1, "m": session.member_id, "n": session.name,
                           "r": list(session.roles), "c": session.credential,
                           "x": session.expires_at})
        if len(value) > MAX_COOKIE_BYTES:
            raise SessionTooLarge(f"the sealed session is {len(value)} bytes, more than a "
                                  f"cookie holds ({MAX_COOKIE_BYTES})")
        return value

    def open_session(self, value: str | None, max_age_seconds: float) -> Session | None:
        payload = self.open(value, max_age_seconds)
        if payload is None or payload.get("v") != 1:
            return None
        try:
            session = Session(member_id=str(payload["m"]), name=str(payload["n"]),
                              roles=tuple(str(r) for r in payload["r"]),  # type: ignore[attr-defined]
                              credential=str(payload["c"]),
                              expires_at=float(payload["x"]))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            return None
        return session if session.expires_at > time.time() else None
