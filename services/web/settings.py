"""The web app's settings, from the environment; validated on construction.

- ``MARKETFLOW_WEB_HOST`` (else ``MARKETFLOW_HTTP_HOST``) / ``MARKETFLOW_WEB_PORT``: where
  it listens (127.0.0.1:8000).
- ``MARKETFLOW_WEB_SESSION_KEY`` (required): the Fernet key(s) sealing the session cookie,
  ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``;
  several, comma-separated, while rotating (the first seals, all open). Every replica holds
  the same keys, so no session store is shared.
- ``MARKETFLOW_WEB_SESSION_HOURS``: how long a sign-in lasts at most (8; an OIDC session
  ends earlier when the provider's token does).
- ``MARKETFLOW_WEB_COOKIE_SECURE``: ``true`` (default; the cookie is only sent over https)
  or ``false`` for plain http on this machine (``make run``).
- ``MARKETFLOW_<SERVICE>_URL``: each API's base URL (``http://127.0.0.1:<its port>``, the
  port from ``MARKETFLOW_<SERVICE>_PORT`` as the services read it).
- ``MARKETFLOW_TOKENS_FILE``: the demo members' tokens; when set, the demo sign-in is on.
- ``MARKETFLOW_OIDC_*`` (``shared/oidc.py``) plus ``MARKETFLOW_WEB_OIDC_CLIENT_ID``,
  ``MARKETFLOW_WEB_OIDC_CLIENT_SECRET`` (confidential clients; PKCE is used either way),
  ``MARKETFLOW_WEB_OIDC_REDIRECT_URI`` (``https://<host>/auth/callback``, registered at the
  provider), ``MARKETFLOW_WEB_OIDC_SCOPES`` (``openid profile email``) and
  ``MARKETFLOW_WEB_OIDC_FORWARD_TOKEN`` (``access_token``, or ``id_token`` for providers
  whose access tokens are opaque): the sign-in by authorization code + PKCE.
- ``MARKETFLOW_WEB_DIST``: the built single-page app (``services/web/frontend/dist``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from shared.config import DEFAULT_PORTS, SERVICES
from shared.oidc import OidcSettings

DEFAULT_PORT = 8000
DEFAULT_DIST = Path(__file__).resolve().parent / "frontend" / "dist"
ENV_SESSION_KEY = "MARKETFLOW_WEB_SESSION_KEY"
ENV_CLIENT_ID = "MARKETFLOW_WEB_OIDC_CLIENT_ID"
ENV_REDIRECT_URI = "MARKETFLOW_WEB_OIDC_REDIRECT_URI"
FORWARDABLE_TOKENS = ("access_token", "id_token")


@dataclass(frozen=True)
class OidcClientSettings:
    """The web app as an OpenID Connect client of the provider the services trust."""

    provider: OidcSettings
    client_id: str
    redirect_uri: str
    client_secret: str | None = field(default=None, repr=False)
    scopes: str = "openid profile email"
    forward_token: str = "access_token"

    def __post_init__(self) -> None:
        if not self.client_id.strip():
            raise ValueError(f"{ENV_CLIENT_ID} is required when MARKETFLOW_OIDC_ISSUER is "
                             "set: the client id the web app is registered with")
        parts = urlsplit(self.redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc \
                or not parts.path.endswith("/auth/callback"):
            raise ValueError(f"{ENV_REDIRECT_URI} must be the web app's absolute "
                             f"https://<host>/auth/callback, not {self.redirect_uri!r}")
        if "openid" not in self.scopes.split():
            raise ValueError("MARKETFLOW_WEB_OIDC_SCOPES must include 'openid'")
        if self.forward_token not in FORWARDABLE_TOKENS:
            raise ValueError(f"MARKETFLOW_WEB_OIDC_FORWARD_TOKEN must be one of "
                             f"{', '.join(FORWARDABLE_TOKENS)}, not {self.forward_token!r}")


@dataclass(frozen=True)
class WebSettings:
    session_keys: tuple[str, ...] = field(repr=False)
    service_urls: Mapping[str, str] = field(
        default_factory=lambda: {s: f"http://127.0.0.1:{p}" for s, p in DEFAULT_PORTS.items()})
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    session_hours: float = 8.0
    cookie_secure: bool = True
    tokens_file: Path | None = None
    oidc: OidcClientSettings | None = None
    dist: Path = DEFAULT_DIST
    proxy_timeout_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not self.session_keys:
            raise ValueError(f"{ENV_SESSION_KEY} is required: a Fernet key sealing the "
                             "session cookie (make run generates one into var/)")
        for key in self.session_keys:
            try:
                Fernet(key)
            except ValueError:
                raise ValueError(f"{ENV_SESSION_KEY} holds something that is not a Fernet "
                                 "key (32 url-safe base64-encoded bytes)") from None
        if set(self.service_urls) != set(SERVICES):
            raise ValueError(f"service URLs are needed for exactly {SERVICES}")
        for service, url in self.service_urls.items():
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"MARKETFLOW_{service.upper()}_URL must be an http(s) URL, "
                                 f"not {url!r}")
        if not (math.isfinite(self.session_hours) and 0 < self.session_hours <= 24 * 30):
            raise ValueError("MARKETFLOW_WEB_SESSION_HOURS must be between 0 and 720")
        if not 0 < self.port < 65536:
            raise ValueError(f"MARKETFLOW_WEB_PORT must be a port number, not {self.port}")

    @property
    def demo(self) -> bool:
        return self.tokens_file is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> WebSettings:
        env = {name: value.strip() for name, value in environ.items() if value.strip()}
        urls = {}
        for service in SERVICES:
            port = env.get(f"MARKETFLOW_{service.upper()}_PORT", str(DEFAULT_PORTS[service]))
            urls[service] = env.get(f"MARKETFLOW_{service.upper()}_URL",
                                    f"http://127.0.0.1:{port}").rstrip("/")
        secure = env.get("MARKETFLOW_WEB_COOKIE_SECURE", "true").lower()
        if secure not in ("true", "false"):
            raise ValueError(f"MARKETFLOW_WEB_COOKIE_SECURE must be true or false, not {secure!r}")
        provider = OidcSettings.from_env(environ)
        oidc = None
        if provider is not None:
            oidc = OidcClientSettings(
                provider=provider,
                client_id=env.get(ENV_CLIENT_ID, ""),
                redirect_uri=env.get(ENV_REDIRECT_URI, ""),
                client_secret=env.get("MARKETFLOW_WEB_OIDC_CLIENT_SECRET"),
                scopes=env.get("MARKETFLOW_WEB_OIDC_SCOPES", "openid profile email"),
                forward_token=env.get("MARKETFLOW_WEB_OIDC_FORWARD_TOKEN", "access_token"),
            )
        tokens = env.get("MARKETFLOW_TOKENS_FILE")
        return cls(
            session_keys=tuple(k.strip() for k in env.get(ENV_SESSION_KEY, "").split(",")
                               if k.strip()),
            service_urls=urls,
            # The image sets MARKETFLOW_HTTP_HOST=0.0.0.0 for every workload.
            host=env.get("MARKETFLOW_WEB_HOST", env.get("MARKETFLOW_HTTP_HOST", "127.0.0.1")),
            port=_number(env, "MARKETFLOW_WEB_PORT", DEFAULT_PORT, int),
            session_hours=_number(env, "MARKETFLOW_WEB_SESSION_HOURS", 8.0, float),
            cookie_secure=secure == "true",
            tokens_file=Path(tokens) if tokens else None,
            oidc=oidc,
            dist=Path(env.get("MARKETFLOW_WEB_DIST", str(DEFAULT_DIST))),
        )


N = TypeVar("N", int, float)


def _number(env: Mapping[str, str], name: str, default: N, kind: type[N]) -> N:
    try:
        return kind(env[name]) if name in env else default
    except ValueError:
        raise ValueError(f"{name} must be a number, not {env[name]!r}") from None
