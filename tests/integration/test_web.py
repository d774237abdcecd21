"""The web app's backend-for-frontend in front of the real services (in this process,
on the real Kafka), and its OpenID Connect sign-in against a real provider
(``oidc-provider-mock``): authorization code + PKCE, end to end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from services.web.oidc_client import PendingLogin
from services.web.session import LOGIN_COOKIE, Sealer
from services.web.settings import OidcClientSettings, WebSettings
from shared.oidc import OidcSettings
from tests.harness import LAUNCH_PLAYBOOK, Environment, RunningService, start_service
from tests.oidc_provider import CLIENT_ID, running_provider
from tests.web_support import CSRF, sign_in, web_client, web_settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib"),
]


@pytest.fixture
async def planning(sqlite_env: Environment) -> AsyncIterator[RunningService]:
    service = await start_service(sqlite_env, "planning")
    try:
        yield service
    finally:
        await service.stop()


async def test_the_proxy_reaches_planning_as_the_signed_in_member(
        planning: RunningService, tmp_path: Path) -> None:
    settings = web_settings(tmp_path)
    async with web_client(settings, transports={"planning": planning.transport}) as web:
        assert (await web.get("/api/planning/playbooks")).status_code == 401
        await sign_in(web, "anna")
        assert (await web.get("/auth/me")).json()["member_id"] == "anna"
        created = []
        for name in ("First", "Second"):
            response = await web.post("/api/planning/playbooks", headers=CSRF,
                                      json={**LAUNCH_PLAYBOOK, "name": name})
            assert response.status_code == 201, response.text
            assert response.headers["location"].startswith("/api/planning/playbooks/")
            created.append(response.json())
        # The query reaches the service; the next page's address is the BFF's.
        page = await web.get("/api/planning/playbooks", params={"limit": 1})
        assert page.status_code == 200 and len(page.json()) == 1
        cursor = page.headers["x-next-cursor"]
        assert page.headers["link"].startswith("</api/planning/playbooks?")
        following = await web.get(page.headers["link"][1:].split(">")[0])
        assert following.status_code == 200
        assert {p["id"] for p in page.json() + following.json()} == {p["id"] for p in created}
        assert cursor
        one = await web.get(f"/api/planning/playbooks/{created[0]['id']}")
        assert one.status_code == 200 and one.json()["name"] == "First"

        # Ben's own credential goes with his calls: the service refuses him what it
        # grants Anna, and its problem details arrive unchanged.
        await sign_in(web, "ben")
        refused = await web.post("/api/planning/playbooks", headers=CSRF, json=LAUNCH_PLAYBOOK)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        direct = await planning.http.post("/playbooks", json=LAUNCH_PLAYBOOK,
                                          headers={"Authorization": "Bearer token-ben"})
        assert refused.json()["detail"] == direct.json()["detail"]
        invalid = await web.post("/api/planning/playbooks", content=b"{",
                                 headers={**CSRF, "Content-Type": "application/json"})
        assert invalid.status_code in (400, 422)
        assert invalid.headers["content-type"] == "application/problem+json"


async def test_an_unreachable_service_is_a_502_problem(tmp_path: Path) -> None:
    settings = web_settings(tmp_path, service_urls={
        "planning": "http://127.0.0.1:1", "execution": "http://127.0.0.1:1",
        "notification": "http://127.0.0.1:1", "reporting": "http://127.0.0.1:1"})
    async with web_client(settings) as web:
        await sign_in(web, "anna")
        response = await web.get("/api/reporting/campaigns")
        assert response.status_code == 502
        assert response.json()["detail"] == "the reporting service cannot be reached"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with running_provider() as issuer:
        yield issuer


def oidc_settings(issuer: str, tmp_path: Path) -> WebSettings:
    client = OidcClientSettings(
        provider=OidcSettings(issuer=issuer, audiences=(CLIENT_ID,), roles_claim="roles"),
        client_id=CLIENT_ID, client_secret="any-secret",
        redirect_uri="http://web/auth/callback",
        # The mock's access tokens are opaque: its ID token stands in for a JWT one.
        forward_token="id_token")
    return replace(web_settings(tmp_path), oidc=client, tokens_file=None)


async def test_sign_in_at_the_provider_with_pkce(provider: str, tmp_path: Path) -> None:
    settings = oidc_settings(provider, tmp_path)
    async with httpx.AsyncClient(base_url=provider) as idp, web_client(settings) as web:
        assert (await web.get("/auth/config")).json() == {"demo": False, "oidc": True}
        claims = {"name": "Anna Virtanen", "roles": ["planner", "offline_access"]}
        assert (await idp.put("/users/anna.v", json=claims)).status_code == 204

        start = await web.get("/auth/login", params={"return_to": "/board/c-1"})
        assert start.status_code == 302
        target = urlsplit(start.headers["location"])
        query = {k: v[0] for k, v in parse_qs(target.query).items()}
        assert f"{target.scheme}://{target.netloc}" == provider
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == "http://web/auth/callback"
        assert query["code_challenge_method"] == "S256"
        # The challenge is the S256 of the verifier the sealed login cookie keeps.
        sealed = web.cookies[LOGIN_COOKIE].strip('"')
        pending = PendingLogin.from_payload(Sealer(settings.session_keys).open(sealed, 600))
        assert pending is not None and pending.code_challenge == query["code_challenge"]
        assert pending.state == query["state"] and pending.return_to == "/board/c-1"

        # The person signs in at the provider, which sends the browser back with a code.
        authorized = await idp.post(target.path, params=query, data={"sub": "anna.v"})
        assert authorized.status_code == 302, authorized.text
        back = urlsplit(authorized.headers["location"])
        assert back.path == "/auth/callback"

        # A forged state is refused (and signs no one in).
        forged = await web.get("/auth/callback", params={
            **{k: v[0] for k, v in parse_qs(back.query).items()}, "state": "forged"})
        assert forged.status_code == 401
        assert (await web.get("/auth/me")).status_code == 401

        done = await web.get(f"/auth/callback?{back.query}")
        assert done.status_code == 302, done.text
        assert done.headers["location"] == "/board/c-1"
        assert (await web.get("/auth/me")).json() == {
            "member_id": "anna.v", "name": "Anna Virtanen", "roles": ["planner"]}
        # The code was used once: replaying the answer signs no one in again.
        web.cookies.clear()
        assert (await web.get(f"/auth/callback?{back.query}")).status_code == 401


async def test_a_login_is_not_redirected_off_site(provider: str, tmp_path: Path) -> None:
    settings = oidc_settings(provider, tmp_path)
    async with web_client(settings) as web:
        for elsewhere in ("https://evil.example/", "//evil.example/x", "board", "/\\evil"):
            await web.get("/auth/login", params={"return_to": elsewhere})
            sealed = web.cookies[LOGIN_COOKIE].strip('"')
            pending = PendingLogin.from_payload(
                Sealer(settings.session_keys).open(sealed, 600))
            assert pending is not None and pending.return_to == "/", elsewhere


def test_the_demo_tokens_file_is_what_make_run_writes(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"mf_anna_x": {"member_id": "anna", "name": "Anna",
                                              "roles": ["admin", "planner"]}}))
    settings = WebSettings.from_env({"MARKETFLOW_WEB_SESSION_KEY": Fernet.generate_key().decode(),
                                     "MARKETFLOW_TOKENS_FILE": str(path)})
    assert settings.demo and settings.tokens_file == path
