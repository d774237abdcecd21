"""OIDC tokens from a real OpenID Connect provider, verified the way the services will.

The provider is ``oidc-provider-mock`` (PyPI), a Flask app on authlib that serves
discovery (``/.well-known/openid-configuration``), its JWKS (``/jwks``) and the
authorization-code flow, running in this process on a thread with
``run_server_in_thread``. Tokens are obtained as a browser and a client application
would: the claims of a user are set with ``PUT /users/<sub>``, the authorization form is
posted with that ``sub`` (``POST /oauth2/authorize?client_id=…&response_type=code…``),
and the code from the redirect is exchanged at ``/oauth2/token``. No JWT is made here.

What the mock issues (version 0.3.4):
- ``access_token``: opaque (authlib's random 42-character bearer token, only good for
  its ``/userinfo``), so it cannot be validated offline: the verifier refuses it as "not
  a signed JWT". The JWT it issues is the ``id_token``, and that is what these tests
  verify, standing in for a JWT access token (Keycloak, Entra ID and Okta issue those).
- ``id_token``: RS256, header ``{"typ": "JWT", "alg": "RS256"}`` with no ``kid`` (its
  JWKS holds exactly one key, which has one: OIDC Core §10.1 allows leaving it out then);
  claims ``iss`` (``http://localhost:<port>``, from the request's Host), ``aud``
  (``[client_id]``), ``iat``, ``exp`` (``iat`` + ``access_token_max_age``),
  ``auth_time``, ``nonce``, ``at_hash``, ``sub``, the user's non-standard claims always,
  and standard ones (``name``, ``preferred_username``, ``email``) by scope.
- every ``run_server_in_thread`` makes a fresh RSA key, so a second instance is a
  provider with other keys; ``access_token_max_age`` may be negative, which issues a
  token that is already expired.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.oidc import InvalidToken, OidcIdentity, OidcSettings, OidcVerifier
from tests.oidc_provider import CLIENT_ID, running_provider, sign_in

pytestmark = [
    pytest.mark.integration,
    # authlib, under the mock, warns about its own deprecated APIs on every token issued.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib"),
]

@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with running_provider() as issuer:
        yield issuer


def verifier_for(issuer: str, **settings: Any) -> OidcVerifier:
    """Configured as an operator would: the issuer and audience; keys via discovery."""
    return OidcVerifier(OidcSettings(issuer=issuer, audiences=(CLIENT_ID,), **settings))


# The claims three real providers put in their access tokens, and how Marketflow is
# configured to read them (docs/oidc.md).
PROVIDER_SHAPES: dict[str, tuple[dict[str, Any], dict[str, Any], str, frozenset[str]]] = {
    "keycloak": (
        {"preferred_username": "anna.virtanen", "name": "Anna Virtanen",
         "realm_access": {"roles": ["planner", "offline_access", "uma_authorization"]}},
        {"member_claim": "preferred_username", "roles_claim": "realm_access.roles"},
        "anna.virtanen", frozenset({"planner"}),
    ),
    "entra-id": (
        {"oid": "5f1a7c2e-0b9d-4e8a-9c3f-2d6b8e1a4f70", "name": "Anna Virtanen",
         "preferred_username": "anna@contoso.example", "roles": ["admin", "auditor"]},
        {"member_claim": "oid", "roles_claim": "roles"},
        "5f1a7c2e-0b9d-4e8a-9c3f-2d6b8e1a4f70", frozenset({"admin", "auditor"}),
    ),
    "okta": (
        {"name": "Anna Virtanen", "groups": ["Everyone", "integration"]},
        {"roles_claim": "groups"},  # member: sub, Okta's login
        "anna@acme.example", frozenset({"integration"}),
    ),
}


@pytest.mark.parametrize("shape", PROVIDER_SHAPES)
def test_a_token_from_the_provider_names_the_member(provider: str, shape: str) -> None:
    claims, settings, member_id, roles = PROVIDER_SHAPES[shape]
    tokens = sign_in(provider, "anna@acme.example", claims)
    verifier = verifier_for(provider, **settings)

    identity = verifier.verify(tokens["id_token"])

    assert isinstance(identity, OidcIdentity)
    assert (identity.member_id, identity.name, identity.roles) == (
        member_id, "Anna Virtanen", roles)
    assert identity.claims["iss"] == provider
    lifetime = identity.expires_at - datetime.now(UTC)
    assert timedelta(minutes=55) < lifetime <= timedelta(hours=1)
    # The mock's access token is opaque: nothing a service could verify offline.
    with pytest.raises(InvalidToken, match="not a signed JWT"):
        verifier.verify(tokens["access_token"])


def test_keys_come_from_discovery_once(provider: str, caplog: pytest.LogCaptureFixture) -> None:
    first = sign_in(provider, "anna", {})["id_token"]
    second = sign_in(provider, "ben", {})["id_token"]
    verifier = verifier_for(provider)
    with caplog.at_level(logging.INFO, logger="werkzeug"):  # the mock's request log
        assert verifier.verify(first).member_id == "anna"
        for _ in range(20):
            assert verifier.verify(second).member_id == "ben"
    asked = [record.getMessage().split('"')[1] for record in caplog.records
             if record.name == "werkzeug" and '"' in record.getMessage()]
    assert asked == ["GET /.well-known/openid-configuration HTTP/1.1", "GET /jwks HTTP/1.1"]


def test_a_token_from_another_provider_is_refused(provider: str) -> None:
    verifier = verifier_for(provider)
    with running_provider() as impostor:
        foreign = sign_in(impostor, "anna", {})["id_token"]
        assert verifier_for(impostor).verify(foreign).member_id == "anna"
    with pytest.raises(InvalidToken, match="signature does not verify"):
        verifier.verify(foreign)


def test_a_token_for_another_client_is_refused(provider: str) -> None:
    other = sign_in(provider, "anna", {}, client_id="some-other-app")["id_token"]
    with pytest.raises(InvalidToken, match=r"meant for \['some-other-app'\], not for 'marketflow'"):
        verifier_for(provider).verify(other)


def test_an_expired_token_is_refused() -> None:
    with running_provider(access_token_max_age=timedelta(minutes=-5)) as issuer:
        expired = sign_in(issuer, "anna", {})["id_token"]
        with pytest.raises(InvalidToken, match="token expired at"):
            verifier_for(issuer).verify(expired)


def test_clock_skew_is_forgiven_within_the_leeway_only() -> None:
    with running_provider(access_token_max_age=timedelta(seconds=-10)) as issuer:
        just_expired = sign_in(issuer, "anna", {})["id_token"]
        assert verifier_for(issuer, leeway_seconds=30).verify(just_expired).member_id == "anna"
        with pytest.raises(InvalidToken, match="token expired at"):
            verifier_for(issuer, leeway_seconds=0).verify(just_expired)


def test_a_member_claim_the_provider_does_not_send_is_refused(provider: str) -> None:
    token = sign_in(provider, "anna", {"name": "Anna"}, scope="openid")["id_token"]
    with pytest.raises(InvalidToken, match="no 'preferred_username' claim"):
        verifier_for(provider, member_claim="preferred_username").verify(token)
