"""OpenID Connect bearer tokens: who a person is, from a JWT their provider signed.

People sign in at an OpenID Connect provider (Keycloak, Microsoft Entra ID, Okta, ...)
and call the services with the JWT access token it issued. ``OidcVerifier.verify`` checks
that token against the provider's published keys and returns an ``OidcIdentity``:

- the provider's keys come from its JWKS (``MARKETFLOW_OIDC_JWKS_URL``, or the
  ``jwks_uri`` of ``<issuer>/.well-known/openid-configuration``, fetched once and cached
  for ``discovery_ttl_seconds``); PyJWT's ``PyJWKClient`` caches the key set, fetches it
  again when a token names a key it does not hold (a rotation), at most once per
  ``unknown_kid_cooldown_seconds``: a flood of tokens with made-up ``kid``\\ s costs the
  provider one request per cooldown, not one per token;
- the header's ``alg`` must be one of ``MARKETFLOW_OIDC_ALGORITHMS`` (asymmetric only:
  ``none`` and HS* are refused in the settings, so a token "signed" with the provider's
  public key as an HMAC secret never verifies) and match the key's own algorithm;
- required claims: ``exp``, ``iat``, ``iss`` (exactly the configured issuer), ``aud``
  (one of the configured audiences); ``nbf`` is checked when present; all times with
  ``MARKETFLOW_OIDC_LEEWAY_SECONDS`` of clock skew;
- the member id is the ``MARKETFLOW_OIDC_MEMBER_CLAIM`` claim (default ``sub``) and must
  be a valid Marketflow member id; the roles, when ``MARKETFLOW_OIDC_ROLES_CLAIM`` is set,
  come from that claim (a dotted path such as ``realm_access.roles``), a list of strings
  or a space-separated string, keeping only the roles Marketflow knows.

A token that fails any check raises ``InvalidToken`` with a reason fit for a 401's
detail. A provider that cannot be reached (or answers nonsense) raises
``OidcProviderError``: that is the service's problem, not the caller's (a 503).

``verify`` is synchronous and usually costs microseconds; it touches the network only
on the first call, when the discovery document's TTL or the key set's lifespan has run
out, and on a key rotation. Call it from a sync FastAPI dependency (run in the thread
pool) and ``await verifier.warm_up_async()`` at start-up so the first request does not
pay for the fetches.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt import PyJWK, PyJWKClient

log = logging.getLogger(__name__)

# The roles Marketflow's access policy knows; any other role in a token is ignored.
KNOWN_ROLES = frozenset({"admin", "planner", "auditor", "integration"})

# A member id as the team directory accepts it (``services/planning/domain/team.py``'s
# ID_PATTERN and its 64-character limit; a test keeps the two equal).
MEMBER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"
MEMBER_ID_MAX_LENGTH = 64
_MEMBER_ID = re.compile(MEMBER_ID_PATTERN)

# Public-key signature algorithms a provider may sign with. HS* (a shared secret) and
# ``none`` (no signature) are refused outright, not merely left out.
ASYMMETRIC_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)
DEFAULT_ALGORITHMS = ("RS256", "ES256")
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud")
# Larger than any real access token (Entra ID's with many groups stay under 8 KiB): a
# bigger one is refused before any parsing.
MAX_TOKEN_CHARS = 16_384
MAX_LEEWAY_SECONDS = 300.0

ENV_ISSUER = "MARKETFLOW_OIDC_ISSUER"
ENV_AUDIENCE = "MARKETFLOW_OIDC_AUDIENCE"
ENV_ALGORITHMS = "MARKETFLOW_OIDC_ALGORITHMS"
ENV_MEMBER_CLAIM = "MARKETFLOW_OIDC_MEMBER_CLAIM"
ENV_ROLES_CLAIM = "MARKETFLOW_OIDC_ROLES_CLAIM"
ENV_JWKS_URL = "MARKETFLOW_OIDC_JWKS_URL"
ENV_LEEWAY = "MARKETFLOW_OIDC_LEEWAY_SECONDS"
ENV_ALLOW_HTTP = "MARKETFLOW_OIDC_ALLOW_HTTP"
_ENV_VARS = (ENV_ISSUER, ENV_AUDIENCE, ENV_ALGORITHMS, ENV_MEMBER_CLAIM, ENV_ROLES_CLAIM,
             ENV_JWKS_URL, ENV_LEEWAY, ENV_ALLOW_HTTP)


class InvalidToken(Exception):
    """The bearer token is not one this service accepts; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OidcProviderError(Exception):
    """The provider's discovery document or keys could not be had: not the caller's fault."""


@dataclass(frozen=True)
class OidcSettings:
    """How to trust the OpenID Connect provider; validated on construction."""

    issuer: str
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    member_claim: str = "sub"
    roles_claim: str | None = None
    jwks_url: str | None = None
    leeway_seconds: float = 30.0
    # Plain http to a host other than this machine lets anyone on the path swap the
    # provider's keys for theirs; only for closed networks where that cannot happen.
    allow_http: bool = False

    def __post_init__(self) -> None:
        _check_url(self.issuer, ENV_ISSUER, self.allow_http)
        if urlsplit(self.issuer).query or urlsplit(self.issuer).fragment:
            raise ValueError(f"{ENV_ISSUER} must not have a query or fragment: {self.issuer!r}")
        if not self.audiences or any(not a.strip() for a in self.audiences):
            raise ValueError(f"{ENV_AUDIENCE} is required when {ENV_ISSUER} is set: the "
                             "audience (aud) the provider puts in tokens meant for Marketflow")
        _check_algorithms(self.algorithms)
        if not self.member_claim.strip():
            raise ValueError(f"{ENV_MEMBER_CLAIM} must name a claim, e.g. 'sub'")
        if self.roles_claim is not None and any(not p for p in self.roles_claim.split(".")):
            raise ValueError(f"{ENV_ROLES_CLAIM} must be a claim name or a dotted path such "
                             f"as 'realm_access.roles', not {self.roles_claim!r}")
        if self.jwks_url is not None:
            _check_url(self.jwks_url, ENV_JWKS_URL, self.allow_http)
        if not (math.isfinite(self.leeway_seconds)
                and 0 <= self.leeway_seconds <= MAX_LEEWAY_SECONDS):
            raise ValueError(f"{ENV_LEEWAY} must be between 0 and {MAX_LEEWAY_SECONDS:g} "
                             f"seconds, not {self.leeway_seconds!r}")

    @property
    def discovery_url(self) -> str:
        """OpenID Connect Discovery 1.0 §4: the issuer, without a trailing slash, + path."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OidcSettings | None:
        """The settings, or None when ``MARKETFLOW_OIDC_ISSUER`` and every other
        ``MARKETFLOW_OIDC_*`` variable are unset (OIDC off). Raises ValueError, naming
        the variable, for anything set wrong, including a half configuration."""
        env = {name: environ[name].strip() for name in _ENV_VARS if environ.get(name, "").strip()}
        issuer = env.get(ENV_ISSUER)
        if issuer is None:
            if env:
                raise ValueError(f"{', '.join(sorted(env))} set but {ENV_ISSUER} is not: set "
                                 "the provider's issuer URL to enable OpenID Connect, or unset "
                                 "the others")
            return None
        algorithms = tuple(a.strip() for a in env.get(ENV_ALGORITHMS, "").split(",") if a.strip())
        leeway_text = env.get(ENV_LEEWAY, str(cls.leeway_seconds))
        try:
            leeway = float(leeway_text)
        except ValueError:
            raise ValueError(f"{ENV_LEEWAY} must be a number of seconds, "
                             f"not {leeway_text!r}") from None
        allow_http = env.get(ENV_ALLOW_HTTP, "false").lower()
        if allow_http not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{ENV_ALLOW_HTTP} must be true or false, not {allow_http!r}")
        return cls(
            issuer=issuer,
            audiences=tuple(a.strip() for a in env.get(ENV_AUDIENCE, "").split(",") if a.strip()),
            algorithms=algorithms or DEFAULT_ALGORITHMS,
            member_claim=env.get(ENV_MEMBER_CLAIM, cls.member_claim),
            roles_claim=env.get(ENV_ROLES_CLAIM),
            jwks_url=env.get(ENV_JWKS_URL),
            leeway_seconds=leeway,
            allow_http=allow_http in ("true", "1", "yes"),
        )


def _check_url(url: str, variable: str, allow_http: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{variable} must be an https URL, not {url!r}")
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise ValueError(
            f"{variable} must use https ({url!r}): keys fetched over plain http can be "
            f"swapped by anyone on the path; set {ENV_ALLOW_HTTP}=true only on a closed network"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_algorithms(algorithms: tuple[str, ...]) -> None:
    if not algorithms:
        raise ValueError(f"{ENV_ALGORITHMS} must name at least one algorithm")
    for alg in algorithms:
        if alg.lower() == "none":
            raise ValueError(f"{ENV_ALGORITHMS} must not allow 'none': an unsigned token "
                             "proves nothing")
        if alg.upper().startswith("HS"):
            raise ValueError(
                f"{ENV_ALGORITHMS} must not allow {alg!r}: an OpenID Connect provider signs "
                "with a private key and publishes the public one, and a public key must never "
                "be used as a shared HMAC secret (anyone holding it could mint tokens)")
        if alg not in ASYMMETRIC_ALGORITHMS:
            raise ValueError(f"{ENV_ALGORITHMS}: unknown algorithm {alg!r}; expected some of "
                             f"{', '.join(ASYMMETRIC_ALGORITHMS)}")


@dataclass(frozen=True)
class OidcIdentity:
    """A person, as a verified token names them."""

    member_id: str
    name: str
    # Only roles Marketflow knows (KNOWN_ROLES); the rest stay in ``claims``.
    roles: frozenset[str]
    expires_at: datetime
    claims: Mapping[str, Any] = field(repr=False, compare=False)


class OidcVerifier:
    """Validates bearer tokens against one provider. Thread-safe; keep one per process."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        http_timeout_seconds: float = 5.0,
        discovery_ttl_seconds: float = 3600.0,
        jwks_lifespan_seconds: float = 300.0,
        unknown_kid_cooldown_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._timeout = http_timeout_seconds
        self._discovery_ttl = discovery_ttl_seconds
        self._jwks_lifespan = jwks_lifespan_seconds
        self._cooldown = unknown_kid_cooldown_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._jwks: PyJWKClient | None = None
        # When the discovered jwks_uri is to be looked up again (never, when configured).
        self._discovery_due = math.inf
        if settings.jwks_url is not None:
            self._jwks = self._jwks_client(settings.jwks_url)

    # -- keys -------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Fetch the discovery document and the key set now (OidcProviderError if not)."""
        try:
            self._key_client().get_jwk_set()
        except (jwt.PyJWKClientError, jwt.PyJWKSetError) as error:
            raise OidcProviderError(f"JWKS of {self.settings.issuer}: {error}") from error

    async def warm_up_async(self) -> None:
        await asyncio.to_thread(self.warm_up)

    def _jwks_client(self, url: str) -> PyJWKClient:
        return PyJWKClient(
            url,
            cache_jwk_set=True,
            lifespan=self._jwks_lifespan,
            timeout=self._timeout,
            cooldown_duration=self._cooldown,
            headers={"User-Agent": "marketflow-oidc", "Accept": "application/json"},
        )

    def _key_client(self) -> PyJWKClient:
        with self._lock:
            if self._jwks is not None and self._clock() < self._discovery_due:
                return self._jwks
            try:
                url = self._discover_jwks_url()
            except OidcProviderError:
                if self._jwks is None:
                    raise
                # Keep the known key set; look again in a minute, not on every request.
                log.warning("OIDC discovery failed; keeping the known JWKS URL",
                            exc_info=True)
                self._discovery_due = self._clock() + min(60.0, self._discovery_ttl)
                return self._jwks
            if self._jwks is None or self._jwks.uri != url:
                self._jwks = self._jwks_client(url)
            self._discovery_due = self._clock() + self._discovery_ttl
            return self._jwks

    def _discover_jwks_url(self) -> str:
        url = self.settings.discovery_url
        try:
            response = httpx.get(url, timeout=self._timeout, follow_redirects=False,
                                 headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise OidcProviderError(f"OIDC discovery {url}: {error}") from error
        if response.status_code != 200:
            raise OidcProviderError(f"OIDC discovery {url} answered {response.status_code}")
        try:
            document = response.json()
        except ValueError as error:
            raise OidcProviderError(f"OIDC discovery {url} did not answer JSON") from error
        if not isinstance(document, dict):
            raise OidcProviderError(f"OIDC discovery {url} did not answer a JSON object")
        if document.get("issuer") != self.settings.issuer:
            raise OidcProviderError(
                f"OIDC discovery {url} names the issuer {document.get('issuer')!r}, not "
                f"{self.settings.issuer!r}: {ENV_ISSUER} must equal the provider's issuer "
                "exactly (trailing slash included)")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise OidcProviderError(f"OIDC discovery {url} has no jwks_uri")
        try:
            _check_url(jwks_uri, "the discovered jwks_uri", self.settings.allow_http)
        except ValueError as error:
            raise OidcProviderError(str(error)) from error
        log.info("OIDC discovery", extra={"issuer": self.settings.issuer, "jwks_uri": jwks_uri})
        return jwks_uri

    def _signing_key(self, kid: str | None) -> PyJWK:
        client = self._key_client()
        try:
            if kid is None:
                return self._the_only_key(client)
            return client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as error:
            raise OidcProviderError(f"JWKS {client.uri}: {error}") from error
        except jwt.PyJWKClientError as error:
            if "Unable to find a signing key" in str(error):
                raise InvalidToken(f"token is signed with key {_short(kid)}, which the "
                                   "provider does not publish") from None
            raise OidcProviderError(f"JWKS {client.uri}: {error}") from error
        except jwt.PyJWKSetError as error:
            raise OidcProviderError(f"JWKS {client.uri}: {error}") from error

    @staticmethod
    def _the_only_key(client: PyJWKClient) -> PyJWK:
        """OpenID Connect Core 1.0 §10.1: a token may leave out ``kid`` while the provider
        publishes a single signing key (oidc-provider-mock's ID tokens do)."""
        keys = [key for key in client.get_jwk_set().keys if key.public_key_use in ("sig", None)]
        if len(keys) != 1:
            raise InvalidToken(f"token names no signing key (kid) and the provider publishes "
                               f"{len(keys)}: a kid is required when there is more than one")
        return keys[0]

    # -- tokens -----------------------------------------------------------------------

    def verify(self, token: str) -> OidcIdentity:
        """The identity a valid token names; InvalidToken (with the reason) otherwise."""
        settings = self.settings
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("token is empty" if not token else
                               f"token is longer than {MAX_TOKEN_CHARS} characters")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken(f"token is not a signed JWT: {error}") from None
        alg = header.get("alg")
        if alg not in settings.algorithms:
            raise InvalidToken(_algorithm_refusal(alg, settings.algorithms))
        kid = header.get("kid")
        if kid is not None and (not isinstance(kid, str) or not kid):
            raise InvalidToken(f"token header's kid {_short(kid)} is not a key id")
        key = self._signing_key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(settings.algorithms),
                audience=list(settings.audiences),
                issuer=settings.issuer,
                leeway=settings.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS), "verify_signature": True,
                         "enforce_minimum_key_length": True},
            )
        except jwt.InvalidSignatureError:
            raise InvalidToken(f"token signature does not verify with the provider's key "
                               f"{_short(kid)}") from None
        except jwt.ExpiredSignatureError:
            raise InvalidToken(f"token expired{_at(token, 'exp')}") from None
        except jwt.ImmatureSignatureError as error:
            raise InvalidToken(f"token is not valid yet: {error}") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken(f"token was issued by {_unverified(token, 'iss')}, not by the "
                               f"configured provider {settings.issuer!r}") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"token is meant for {_unverified(token, 'aud')}, not for "
                               f"{' or '.join(map(repr, settings.audiences))}") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"token lacks the required claim {error.claim!r}") from None
        except jwt.InvalidAlgorithmError as error:
            raise InvalidToken(f"token algorithm refused: {error}") from None
        except jwt.InvalidKeyError as error:
            raise InvalidToken(f"the provider's key {_short(kid)} is refused: {error}") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"token is malformed: {error}") from None
        return self._identity(claims)

    def _identity(self, claims: dict[str, Any]) -> OidcIdentity:
        settings = self.settings
        found, member_id = claim_at(claims, settings.member_claim)
        if not found or member_id is None:
            raise InvalidToken(f"token has no {settings.member_claim!r} claim to name the "
                               f"member ({ENV_MEMBER_CLAIM})")
        if not (isinstance(member_id, str) and len(member_id) <= MEMBER_ID_MAX_LENGTH
                and _MEMBER_ID.fullmatch(member_id)):
            raise InvalidToken(
                f"claim {settings.member_claim!r} ({_short(member_id)}) is not a valid member "
                f"id: 1 to {MEMBER_ID_MAX_LENGTH} letters, digits, '.', '_', '@' or '-', "
                "starting with a letter or digit")
        name = claims.get("name")
        if not isinstance(name, str) or not name.strip():
            name = member_id
        return OidcIdentity(
            member_id=member_id,
            name=name.strip()[:200],
            roles=self._roles(claims),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            claims=claims,
        )

    def _roles(self, claims: dict[str, Any]) -> frozenset[str]:
        path = self.settings.roles_claim
        if path is None:
            return frozenset()
        found, value = claim_at(claims, path)
        if not found or value is None:
            return frozenset()  # e.g. Keycloak leaves realm_access out for a user without roles
        if isinstance(value, str):
            names = value.split()
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            names = value
        else:
            raise InvalidToken(f"claim {path!r} must be a list of role names or a "
                               "space-separated string")
        return frozenset(names) & KNOWN_ROLES


def claim_at(claims: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """A claim by name or dotted path: ``realm_access.roles`` is
    ``claims["realm_access"]["roles"]``. A claim whose own name holds the dots (Auth0's
    ``https://example.com/roles``) is found first. Returns (found, value)."""
    if path in claims:
        return True, claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _algorithm_refusal(alg: object, allowed: tuple[str, ...]) -> str:
    accepted = f"accepted: {', '.join(allowed)}"
    if not isinstance(alg, str) or alg.lower() == "none":
        return f"token is not signed (alg {_short(alg)}); {accepted}"
    if alg.upper().startswith("HS"):
        return (f"token is signed with the shared-secret algorithm {_short(alg)}; the provider "
                f"signs with its private key ({accepted})")
    return f"token algorithm {_short(alg)} is not accepted ({accepted})"


def _unverified(token: str, claim: str) -> str:
    """A claim of a token whose signature did verify but whose claims did not pass."""
    try:
        value = jwt.decode(token, options={"verify_signature": False}).get(claim)
    except jwt.PyJWTError:
        return "?"
    return _short(value)


def _at(token: str, claim: str) -> str:
    try:
        value: Any = jwt.decode(token, options={"verify_signature": False}).get(claim)
        return f" at {datetime.fromtimestamp(int(value), UTC).isoformat()}"
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError, OSError):
        return ""


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
