"""Signing in at the OpenID Connect provider: the authorization-code flow with PKCE
(RFC 7636, S256), the web app being the client.

``/auth/login`` sends the browser to the provider with a fresh ``state``, ``nonce`` and
PKCE challenge; their secrets (the state, the nonce and the code verifier) travel in a
short-lived sealed cookie, so any replica can finish the flow. ``/auth/callback`` checks
the state, exchanges the code (with the verifier) at the token endpoint, verifies the token
it will forward with the same ``OidcVerifier`` the services use (issuer, audience,
signature, expiry; the member id and roles from the configured claims) and, when that is
the ID token, its nonce.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from services.web.settings import OidcClientSettings
from shared.oidc import InvalidToken, OidcIdentity, OidcProviderError, OidcVerifier

LOGIN_SECONDS = 600
DISCOVERY_TTL_SECONDS = 3600.0


class SignInRefused(Exception):
    """The provider's answer does not sign anyone in; ``reason`` says why (a 401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PendingLogin:
    state: str
    nonce: str
    code_verifier: str
    return_to: str

    @classmethod
    def fresh(cls, return_to: str) -> PendingLogin:
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                   secrets.token_urlsafe(64), return_to)

    @property
    def code_challenge(self) -> str:
        digest = hashlib.sha256(self.code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def payload(self) -> dict[str, object]:
        return {"s": self.state, "n": self.nonce, "v": self.code_verifier, "r": self.return_to}

    @classmethod
    def from_payload(cls, payload: dict[str, object] | None) -> PendingLogin | None:
        if payload is None:
            return None
        values = [payload.get(key) for key in ("s", "n", "v", "r")]
        if not all(isinstance(value, str) for value in values):
            return None
        return cls(*values)  # type: ignore[arg-type]


class OidcClient:
    def __init__(self, settings: OidcClientSettings, http: httpx.AsyncClient,
                 verifier: OidcVerifier | None = None) -> None:
        self.settings = settings
        self._http = http
        self.verifier = verifier or OidcVerifier(settings.provider)
        self._discovery: dict[str, Any] | None = None
        self._discovered_at = 0.0

    async def _endpoints(self) -> dict[str, Any]:
        stale = time.monotonic() - self._discovered_at > DISCOVERY_TTL_SECONDS
        if self._discovery is None or stale:
            url = self.settings.provider.discovery_url
            try:
                response = await self._http.get(url, headers={"Accept": "application/json"})
                document = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError) as error:
                raise OidcProviderError(f"OIDC discovery {url}: {error}") from error
            if not isinstance(document, dict) or not all(
                    isinstance(document.get(key), str)
                    for key in ("authorization_endpoint", "token_endpoint")):
                raise OidcProviderError(f"OIDC discovery {url} has no authorization and "
                                        "token endpoints")
            if document.get("issuer") != self.settings.provider.issuer:
                raise OidcProviderError(f"OIDC discovery {url} names another issuer")
            self._discovery, self._discovered_at = document, time.monotonic()
        return self._discovery

    async def authorization_url(self, login: PendingLogin) -> str:
        endpoint = (await self._endpoints())["authorization_endpoint"]
        query = urlencode({
            "response_type": "code", "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_uri, "scope": self.settings.scopes,
            "state": login.state, "nonce": login.nonce,
            "code_challenge": login.code_challenge, "code_challenge_method": "S256",
        })
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    async def finish(self, login: PendingLogin, state: str, code: str
                     ) -> tuple[str, OidcIdentity]:
        """The credential to forward and whom it names, from the provider's answer."""
        if not hmac.compare_digest(state.encode(), login.state.encode()):
            raise SignInRefused("the sign-in answer's state is not the one this browser "
                                "started with; sign in again")
        endpoint = (await self._endpoints())["token_endpoint"]
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.settings.redirect_uri,
                "code_verifier": login.code_verifier}
        auth = None
        if self.settings.client_secret is not None:
            auth = httpx.BasicAuth(self.settings.client_id, self.settings.client_secret)
        else:
            form["client_id"] = self.settings.client_id  # a public client
        try:
            response = await self._http.post(
                endpoint, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT,
                headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise OidcProviderError(f"OIDC token endpoint {endpoint}: {error}") from error
        if response.status_code != 200:
            raise SignInRefused(f"the provider refused the code ({response.status_code}): "
                                f"{response.text[:200]}")
        try:
            tokens = response.json()
        except ValueError:
            raise OidcProviderError(f"OIDC token endpoint {endpoint} did not answer JSON") from None
        credential = tokens.get(self.settings.forward_token) if isinstance(tokens, dict) else None
        if not isinstance(credential, str):
            raise SignInRefused(f"the provider's answer has no {self.settings.forward_token}")
        try:
            identity = await asyncio.to_thread(self.verifier.verify, credential)
        except InvalidToken as refused:
            raise SignInRefused(refused.reason) from None
        if self.settings.forward_token == "id_token" \
                and identity.claims.get("nonce") != login.nonce:
            raise SignInRefused("the ID token's nonce is not the one this sign-in sent")
        return credential, identity
