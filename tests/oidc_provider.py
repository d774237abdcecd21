"""A real OpenID Connect provider for tests: ``oidc-provider-mock`` (PyPI) in this
process, and its authorization-code flow driven over HTTP (see
``tests/integration/test_oidc_provider.py`` for what it issues)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

CLIENT_ID = "marketflow"
REDIRECT_URI = "http://localhost/callback"


@contextmanager
def running_provider(**options: Any) -> Iterator[str]:
    """An oidc-provider-mock server on a free port; yields its issuer URL."""
    with warnings.catch_warnings(record=True):
        # authlib warns about its own deprecated modules that the mock imports (and sets
        # its warnings to "always", so only recording them away keeps them quiet).
        import oidc_provider_mock
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with oidc_provider_mock.run_server_in_thread(**options) as server:
        yield f"http://localhost:{server.server_port}"


def sign_in(issuer: str, sub: str, claims: dict[str, Any], *, client_id: str = CLIENT_ID,
            scope: str = "openid profile email") -> dict[str, Any]:
    """The authorization-code flow, driven over HTTP: the provider's token response."""
    with httpx.Client(base_url=issuer, timeout=10) as http:
        assert http.put(f"/users/{quote(sub, safe='')}", json=claims).status_code == 204
        authorized = http.post("/oauth2/authorize", params={
            "client_id": client_id, "redirect_uri": REDIRECT_URI, "response_type": "code",
            "scope": scope, "state": "xyz", "nonce": "n-0S6_WzA2Mj",
        }, data={"sub": sub})
        assert authorized.status_code == 302, authorized.text
        redirect = urlsplit(authorized.headers["location"])
        assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == REDIRECT_URI
        query = parse_qs(redirect.query)
        assert query["state"] == ["xyz"]
        answer = http.post("/oauth2/token", data={
            "grant_type": "authorization_code", "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
        }, auth=(client_id, "any-secret"))
        assert answer.status_code == 200, answer.text
        tokens: dict[str, Any] = answer.json()
        return tokens


