"""OIDC token validation, in-process: a tiny HTTP server on 127.0.0.1 plays the provider's
discovery and JWKS endpoints, and tokens are signed here with keys made by
``cryptography``. The real provider (``oidc-provider-mock``) is met in
``tests/integration/test_oidc_provider.py``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from services.planning.domain.team import ID_PATTERN
from shared.oidc import (
    KNOWN_ROLES,
    MEMBER_ID_PATTERN,
    InvalidToken,
    OidcIdentity,
    OidcProviderError,
    OidcSettings,
    OidcVerifier,
    claim_at,
)

AUDIENCE = "marketflow-api"


@dataclass
class SigningKey:
    kid: str
    private: Any
    alg: str

    def jwk(self, *, with_alg: bool = True) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        data: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        data.update(kid=self.kid, use="sig")
        if with_alg:
            data["alg"] = self.alg
        return data

    def public_pem(self) -> bytes:
        return bytes(self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def _rsa(kid: str) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")


RSA_KEY = _rsa("rsa-1")
RSA_OTHER = _rsa("rsa-other")  # not published
RSA_ROTATED = _rsa("rsa-2")
EC_KEY = SigningKey("ec-1", ec.generate_private_key(ec.SECP256R1()), "ES256")


@dataclass
class Provider:
    """Discovery and JWKS over HTTP, with what was asked counted."""

    base: str = ""
    keys: list[dict[str, Any]] = field(default_factory=list)
    issuer_override: str | None = None
    requests: dict[str, int] = field(default_factory=dict)
    down: bool = False

    @property
    def issuer(self) -> str:
        return self.base

    def settings(self, **overrides: Any) -> OidcSettings:
        values: dict[str, Any] = {"issuer": self.issuer, "audiences": (AUDIENCE,)}
        values.update(overrides)
        return OidcSettings(**values)

    def token(self, key: SigningKey = RSA_KEY, *, headers: dict[str, Any] | None = None,
              drop: tuple[str, ...] = (), **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer, "aud": AUDIENCE, "sub": "anna", "iat": now, "exp": now + 300,
            "name": "Anna Virtanen",
        }
        payload.update(claims)
        for name in drop:
            payload.pop(name)
        return jwt.encode(payload, key.private, algorithm=key.alg,
                          headers={"kid": key.kid, **(headers or {})})


_current = Provider()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        state = _current
        state.requests[self.path] = state.requests.get(self.path, 0) + 1
        if state.down:
            self.send_error(503)
            return
        if self.path == "/.well-known/openid-configuration":
            body: dict[str, Any] = {"issuer": state.issuer_override or state.issuer,
                                    "jwks_uri": f"{state.base}/keys"}
        elif self.path == "/keys":
            body = {"keys": state.keys}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def provider_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def provider(provider_base: str) -> Provider:
    """A fresh provider state (keys, counts) behind the module's server."""
    global _current
    _current = Provider(base=provider_base, keys=[RSA_KEY.jwk(), EC_KEY.jwk()])
    return _current


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_made(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    """A token PyJWT would refuse to make: unsigned, or HMAC'd with a public key."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    if secret is None:
        return signing_input + "."
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _refused(verifier: OidcVerifier, token: str, reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason) as caught:
        verifier.verify(token)
    assert caught.value.reason == str(caught.value)


# -- the happy path --------------------------------------------------------------------


def test_a_valid_token_names_the_member(provider: Provider) -> None:
    verifier = OidcVerifier(provider.settings())
    token = provider.token(exp=2_000_000_000)
    identity = verifier.verify(token)
    assert identity == OidcIdentity(
        member_id="anna", name="Anna Virtanen", roles=frozenset(),
        expires_at=datetime.fromtimestamp(2_000_000_000, UTC), claims={})
    assert identity.claims["iss"] == provider.issuer
    # Discovery and keys were fetched once, then served from the caches.
    for _ in range(20):
        verifier.verify(token)
    assert provider.requests == {"/.well-known/openid-configuration": 1, "/keys": 1}


def test_es256_and_a_configured_member_claim(provider: Provider) -> None:
    verifier = OidcVerifier(provider.settings(member_claim="preferred_username"))
    identity = verifier.verify(provider.token(EC_KEY, sub="f3a1-guid",
                                              preferred_username="anna@example.com",
                                              name=None))
    assert identity.member_id == "anna@example.com"
    assert identity.name == "anna@example.com"  # no name claim: the member id


def test_one_of_several_audiences_and_a_list_aud(provider: Provider) -> None:
    verifier = OidcVerifier(provider.settings(audiences=("api://marketflow", AUDIENCE)))
    assert verifier.verify(provider.token(aud=["account", AUDIENCE])).member_id == "anna"


def test_configured_jwks_url_skips_discovery(provider: Provider) -> None:
    verifier = OidcVerifier(provider.settings(jwks_url=f"{provider.base}/keys"))
    verifier.verify(provider.token())
    assert provider.requests == {"/keys": 1}


def test_clock_skew_within_the_leeway_is_forgiven(provider: Provider) -> None:
    now = int(time.time())
    token = provider.token(iat=now - 600, exp=now - 10)
    assert OidcVerifier(provider.settings(leeway_seconds=30)).verify(token).member_id == "anna"
    _refused(OidcVerifier(provider.settings(leeway_seconds=0)), token, "token expired at")


async def test_warm_up_fetches_before_the_first_request(provider: Provider) -> None:
    verifier = OidcVerifier(provider.settings())
    await verifier.warm_up_async()
    assert provider.requests == {"/.well-known/openid-configuration": 1, "/keys": 1}
    verifier.verify(provider.token())
    assert provider.requests["/keys"] == 1


# -- every reason a token is refused ---------------------------------------------------


def test_bad_signature(provider: Provider) -> None:
    forged = provider.token(SigningKey(RSA_KEY.kid, RSA_OTHER.private, "RS256"))
    _refused(OidcVerifier(provider.settings()), forged, "signature does not verify")
    header, _payload, signature = provider.token().split(".")
    tampered = provider.token(sub="admin").split(".")[1]
    _refused(OidcVerifier(provider.settings()), f"{header}.{tampered}.{signature}",
             "signature does not verify")


def test_unknown_kid(provider: Provider) -> None:
    _refused(OidcVerifier(provider.settings()), provider.token(RSA_OTHER),
             "signed with key 'rsa-other', which the provider does not publish")


def test_no_kid(provider: Provider) -> None:
    """Without a kid the provider's only key is used; with several, a kid is required."""
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": AUDIENCE, "sub": "anna", "iat": now,
              "exp": now + 300}
    token = jwt.encode(claims, RSA_KEY.private, algorithm="RS256")
    _refused(OidcVerifier(provider.settings()), token, "names no signing key .* publishes 2")
    provider.keys = [RSA_KEY.jwk()]
    assert OidcVerifier(provider.settings()).verify(token).member_id == "anna"
    forged = jwt.encode(claims, RSA_OTHER.private, algorithm="RS256")
    _refused(OidcVerifier(provider.settings()), forged, "signature does not verify")
    _refused(OidcVerifier(provider.settings()), provider.token(headers={"kid": ""}),
             "is not a key id")
    for kid in (7, ["rsa-1"]):
        _refused(OidcVerifier(provider.settings()),
                 _hand_made({"alg": "RS256", "kid": kid}, claims, None),
                 "Key ID header parameter must be a string")


def test_wrong_issuer(provider: Provider) -> None:
    _refused(OidcVerifier(provider.settings()), provider.token(iss="https://evil.example"),
             "issued by 'https://evil.example', not by the configured provider")


def test_wrong_audience(provider: Provider) -> None:
    _refused(OidcVerifier(provider.settings()), provider.token(aud="another-api"),
             "meant for 'another-api', not for 'marketflow-api'")


def test_expired(provider: Provider) -> None:
    now = int(time.time())
    _refused(OidcVerifier(provider.settings()), provider.token(iat=now - 3600, exp=now - 60),
             "token expired at")


def test_not_yet_valid(provider: Provider) -> None:
    now = int(time.time())
    verifier = OidcVerifier(provider.settings())
    _refused(verifier, provider.token(nbf=now + 600), r"not valid yet.*\(nbf\)")
    _refused(verifier, provider.token(iat=now + 600, exp=now + 900), r"not valid yet.*\(iat\)")


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud"])
def test_required_claims(provider: Provider, claim: str) -> None:
    _refused(OidcVerifier(provider.settings()), provider.token(drop=(claim,)),
             f"lacks the required claim '{claim}'")


def test_alg_none(provider: Provider) -> None:
    now = int(time.time())
    payload = {"iss": provider.issuer, "aud": AUDIENCE, "sub": "anna", "iat": now,
               "exp": now + 300}
    for alg in ("none", "None", "NONE"):
        token = _hand_made({"alg": alg, "kid": RSA_KEY.kid, "typ": "JWT"}, payload, None)
        _refused(OidcVerifier(provider.settings()), token, "token is not signed")
    token = _hand_made({"kid": RSA_KEY.kid}, payload, None)  # no alg at all
    _refused(OidcVerifier(provider.settings()), token, "token is not signed")


def test_hs256_with_the_public_key_as_secret(provider: Provider) -> None:
    """The classic key confusion: the attacker HMACs with the provider's public key."""
    now = int(time.time())
    payload = {"iss": provider.issuer, "aud": AUDIENCE, "sub": "admin", "iat": now,
               "exp": now + 300}
    for secret in (RSA_KEY.public_pem(), json.dumps(RSA_KEY.jwk()).encode()):
        token = _hand_made({"alg": "HS256", "kid": RSA_KEY.kid, "typ": "JWT"}, payload, secret)
        _refused(OidcVerifier(provider.settings()), token, "shared-secret algorithm 'HS256'")


def test_an_algorithm_not_configured(provider: Provider) -> None:
    _refused(OidcVerifier(provider.settings(algorithms=("RS256",))), provider.token(EC_KEY),
             r"algorithm 'ES256' is not accepted \(accepted: RS256\)")


def test_an_algorithm_the_key_is_not_for(provider: Provider) -> None:
    """An allowed alg in the header does not let a token pick another key's family."""
    token = provider.token(SigningKey(RSA_KEY.kid, EC_KEY.private, "ES256"))
    _refused(OidcVerifier(provider.settings()), token, "does not match the key's algorithm")


def test_not_a_jwt(provider: Provider) -> None:
    verifier = OidcVerifier(provider.settings())
    _refused(verifier, "s3cret-api-token", "not a signed JWT")
    _refused(verifier, "", "token is empty")
    _refused(verifier, "a" * 20_000, "longer than")
    assert provider.requests == {}  # nothing fetched for garbage


def test_missing_member_claim(provider: Provider) -> None:
    verifier = OidcVerifier(provider.settings(member_claim="preferred_username"))
    _refused(verifier, provider.token(), "no 'preferred_username' claim to name the member")
    _refused(OidcVerifier(provider.settings()), provider.token(drop=("sub",)),
             "no 'sub' claim")


@pytest.mark.parametrize("value", ["anna virtanen", "-anna", "a" * 65, 42, ["anna"], "",
                                   "anna\n", "ánna", True])
def test_member_claim_not_a_member_id(provider: Provider, value: object) -> None:
    verifier = OidcVerifier(provider.settings(member_claim="preferred_username"))
    _refused(verifier, provider.token(preferred_username=value), "is not a valid member id")


def test_a_sub_that_is_not_a_string(provider: Provider) -> None:
    _refused(OidcVerifier(provider.settings()), provider.token(sub=42),
             "malformed: Subject must be a string")


# -- roles ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "claims", "roles"), [
    # Keycloak: realm roles
    ("realm_access.roles", {"realm_access": {"roles": ["planner", "offline_access"]}},
     {"planner"}),
    # Entra ID: app roles
    ("roles", {"roles": ["admin", "auditor", "Task.Read"]}, {"admin", "auditor"}),
    # Okta: groups
    ("groups", {"groups": ["Everyone", "integration"]}, {"integration"}),
    # a space-separated string
    ("scope", {"scope": "openid planner auditor"}, {"planner", "auditor"}),
    # a claim named with dots (Auth0's namespaced claims)
    ("https://marketflow.example/roles", {"https://marketflow.example/roles": ["admin"]},
     {"admin"}),
    # absent: no roles (Keycloak leaves realm_access out for a user without any)
    ("realm_access.roles", {}, set()),
    ("realm_access.roles", {"realm_access": {}}, set()),
])
def test_roles_from_the_configured_claim(provider: Provider, path: str,
                                         claims: dict[str, Any], roles: set[str]) -> None:
    verifier = OidcVerifier(provider.settings(roles_claim=path))
    assert verifier.verify(provider.token(**claims)).roles == roles


def test_no_roles_claim_configured_means_no_roles(provider: Provider) -> None:
    assert OidcVerifier(provider.settings()).verify(provider.token(roles=["admin"])).roles == set()


@pytest.mark.parametrize("value", [42, ["admin", 1], {"admin": True}])
def test_a_malformed_roles_claim_is_refused(provider: Provider, value: object) -> None:
    _refused(OidcVerifier(provider.settings(roles_claim="roles")), provider.token(roles=value),
             "must be a list of role names")


def test_claim_paths() -> None:
    claims = {"a": {"b": {"c": 1}}, "x.y": 2, "x": {"y": 3}}
    assert claim_at(claims, "a.b.c") == (True, 1)
    assert claim_at(claims, "x.y") == (True, 2)  # the literal name wins
    assert claim_at(claims, "a.b.d") == (False, None)
    assert claim_at(claims, "a.b.c.d") == (False, None)
    assert {"admin", "planner", "auditor", "integration"} == KNOWN_ROLES


# -- keys: rotation, floods, outages ----------------------------------------------------


def test_a_rotated_key_is_fetched_once_it_is_published(provider: Provider) -> None:
    verifier = OidcVerifier(provider.settings(), unknown_kid_cooldown_seconds=0)
    verifier.verify(provider.token())
    provider.keys.append(RSA_ROTATED.jwk())
    assert verifier.verify(provider.token(RSA_ROTATED)).member_id == "anna"
    assert provider.requests["/keys"] == 2


def test_a_flood_of_unknown_kids_does_not_hammer_the_provider(provider: Provider) -> None:
    verifier = OidcVerifier(provider.settings(), unknown_kid_cooldown_seconds=0.5)
    verifier.verify(provider.token())
    for n in range(50):
        _refused(verifier, provider.token(SigningKey(f"random-{n}", RSA_OTHER.private, "RS256")),
                 "does not publish")
    assert provider.requests["/keys"] == 1  # all within the cooldown of the first fetch
    time.sleep(0.6)
    for n in range(50):
        _refused(verifier, provider.token(SigningKey(f"again-{n}", RSA_OTHER.private, "RS256")),
                 "does not publish")
    assert provider.requests["/keys"] == 2  # one look after the cooldown, then quiet again


def test_discovery_is_looked_up_again_after_its_ttl(provider: Provider) -> None:
    now = [0.0]
    verifier = OidcVerifier(provider.settings(), discovery_ttl_seconds=3600,
                            clock=lambda: now[0])
    verifier.verify(provider.token())
    now[0] = 3599
    verifier.verify(provider.token())
    assert provider.requests["/.well-known/openid-configuration"] == 1
    now[0] = 3600
    verifier.verify(provider.token())
    assert provider.requests["/.well-known/openid-configuration"] == 2
    # The provider is away: the known JWKS is kept, and discovery is not retried at once.
    provider.down = True
    now[0] = 7200
    verifier.verify(provider.token())
    verifier.verify(provider.token())
    assert provider.requests["/.well-known/openid-configuration"] == 3


def test_an_unreachable_provider_is_not_the_callers_fault(provider: Provider) -> None:
    provider.down = True
    verifier = OidcVerifier(provider.settings())
    with pytest.raises(OidcProviderError, match="answered 503"):
        verifier.verify(provider.token())
    with pytest.raises(OidcProviderError):
        verifier.warm_up()
    jwks_only = OidcVerifier(provider.settings(jwks_url=f"{provider.base}/keys"))
    with pytest.raises(OidcProviderError, match="JWKS"):
        jwks_only.verify(provider.token())


def test_discovery_must_name_the_configured_issuer(provider: Provider) -> None:
    provider.issuer_override = provider.base + "/"
    with pytest.raises(OidcProviderError, match="must equal the provider's issuer exactly"):
        OidcVerifier(provider.settings()).verify(provider.token())


def test_a_published_key_without_alg_verifies_its_family_default(provider: Provider) -> None:
    """Entra ID publishes RSA keys without ``alg``: they verify RS256."""
    provider.keys = [RSA_KEY.jwk(with_alg=False)]
    assert OidcVerifier(provider.settings()).verify(provider.token()).member_id == "anna"


def test_a_weak_provider_key_is_refused(provider: Provider) -> None:
    weak = SigningKey("weak", rsa.generate_private_key(public_exponent=65537, key_size=1024),
                      "RS256")
    provider.keys = [weak.jwk()]
    with pytest.warns(jwt.InsecureKeyLengthWarning):
        token = provider.token(weak)
    _refused(OidcVerifier(provider.settings()), token, "key 'weak' is refused")


# -- settings ---------------------------------------------------------------------------


def test_not_configured() -> None:
    assert OidcSettings.from_env({}) is None
    assert OidcSettings.from_env({"MARKETFLOW_OIDC_ISSUER": "  "}) is None


def test_settings_from_env_with_defaults() -> None:
    settings = OidcSettings.from_env({
        "MARKETFLOW_OIDC_ISSUER": "https://kc.example/realms/acme",
        "MARKETFLOW_OIDC_AUDIENCE": "marketflow",
    })
    assert settings == OidcSettings(issuer="https://kc.example/realms/acme",
                                    audiences=("marketflow",), algorithms=("RS256", "ES256"),
                                    member_claim="sub", roles_claim=None, jwks_url=None,
                                    leeway_seconds=30.0, allow_http=False)
    assert settings.discovery_url == (
        "https://kc.example/realms/acme/.well-known/openid-configuration")


def test_settings_from_env_in_full() -> None:
    settings = OidcSettings.from_env({
        "MARKETFLOW_OIDC_ISSUER": "https://tenant.example.com/",
        "MARKETFLOW_OIDC_AUDIENCE": "api://marketflow, 5d1c-client-id",
        "MARKETFLOW_OIDC_ALGORITHMS": "RS256, PS256",
        "MARKETFLOW_OIDC_MEMBER_CLAIM": "oid",
        "MARKETFLOW_OIDC_ROLES_CLAIM": "roles",
        "MARKETFLOW_OIDC_JWKS_URL": "https://keys.example.com/jwks",
        "MARKETFLOW_OIDC_LEEWAY_SECONDS": "5",
    })
    assert settings is not None
    assert settings.audiences == ("api://marketflow", "5d1c-client-id")
    assert settings.algorithms == ("RS256", "PS256")
    assert (settings.member_claim, settings.roles_claim) == ("oid", "roles")
    assert settings.jwks_url == "https://keys.example.com/jwks"
    assert settings.leeway_seconds == 5
    assert settings.discovery_url == "https://tenant.example.com/.well-known/openid-configuration"


ISSUER = {"MARKETFLOW_OIDC_ISSUER": "https://kc.example/realms/acme"}
WITH_AUDIENCE = {**ISSUER, "MARKETFLOW_OIDC_AUDIENCE": "marketflow"}


@pytest.mark.parametrize(("environ", "message"), [
    (ISSUER, "MARKETFLOW_OIDC_AUDIENCE is required"),
    ({"MARKETFLOW_OIDC_AUDIENCE": "marketflow"}, "MARKETFLOW_OIDC_ISSUER is not"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ALGORITHMS": "none"}, "must not allow 'none'"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ALGORITHMS": "RS256,HS256"},
     "never be used as a shared HMAC secret"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ALGORITHMS": "hs512"}, "shared HMAC secret"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ALGORITHMS": "RSA256"}, "unknown algorithm 'RSA256'"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ALGORITHMS": " , "}, None),  # blank: the default
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ISSUER": "http://kc.example/realms/acme"},
     "must use https"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ISSUER": "kc.example"}, "must be an https URL"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ISSUER": "https://kc.example/?realm=acme"},
     "query or fragment"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_JWKS_URL": "http://keys.example/jwks"},
     "MARKETFLOW_OIDC_JWKS_URL must use https"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_JWKS_URL": "file:///etc/passwd"}, "https URL"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ROLES_CLAIM": "realm_access..roles"}, "dotted path"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_LEEWAY_SECONDS": "-1"}, "between 0 and 300"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_LEEWAY_SECONDS": "3600"}, "between 0 and 300"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_LEEWAY_SECONDS": "nan"}, "between 0 and 300"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_LEEWAY_SECONDS": "soon"}, "number of seconds"),
    ({**WITH_AUDIENCE, "MARKETFLOW_OIDC_ALLOW_HTTP": "maybe"}, "true or false"),
])
def test_settings_refuse_nonsense(environ: dict[str, str], message: str | None) -> None:
    if message is None:
        settings = OidcSettings.from_env(environ)
        assert settings is not None and settings.algorithms == ("RS256", "ES256")
        return
    with pytest.raises(ValueError, match=message):
        OidcSettings.from_env(environ)


def test_plain_http_only_to_this_machine_or_when_allowed() -> None:
    for issuer in ("http://localhost:9400", "http://127.0.0.1:8080/realms/x", "http://[::1]:80"):
        assert OidcSettings(issuer=issuer, audiences=("a",)).issuer == issuer
    settings = OidcSettings.from_env({**WITH_AUDIENCE,
                                      "MARKETFLOW_OIDC_ISSUER": "http://keycloak:8080/realms/a",
                                      "MARKETFLOW_OIDC_ALLOW_HTTP": "true"})
    assert settings is not None and settings.allow_http


def test_member_ids_are_the_directorys() -> None:
    assert MEMBER_ID_PATTERN == ID_PATTERN
