"""The web app's backend-for-frontend on its own: sign-in, the session cookie, the
cross-site request guard, what the proxy passes each way (against a recording stand-in
for a service; tests/integration/test_web.py forwards to the real ones) and the
single-page app's files."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from services.web.session import SESSION_COOKIE, Sealer
from services.web.settings import WebSettings
from tests.web_support import CSRF, sign_in, web_client, web_settings

Seen = list[httpx.Request]


def recording_service(seen: Seen) -> httpx.MockTransport:
    """Answers like a service would: headers, a problem, a streamed body."""

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        await request.aread()
        if request.url.path == "/refuse":
            return httpx.Response(409, json={"type": "x", "title": "Conflict", "status": 409,
                                             "detail": "no"},
                                  headers={"Content-Type": "application/problem+json"})
        return httpx.Response(201, content=b'{"ok": true}', headers={
            "Content-Type": "application/json", "ETag": '"v3"',
            "Location": "/campaigns/c-1",
            "Link": '<http://planning.internal:8001/campaigns?cursor=abc>; rel="next"',
            "X-Next-Cursor": "abc", "Set-Cookie": "leak=1", "Server": "uvicorn"})

    return httpx.MockTransport(handle)


@pytest.fixture
def settings(tmp_path: Path) -> WebSettings:
    return web_settings(tmp_path, service_urls={
        "planning": "http://planning.internal:8001", "execution": "http://127.0.0.1:8002",
        "notification": "http://127.0.0.1:8003", "reporting": "http://127.0.0.1:8004"})


async def test_the_sign_in_options_and_the_demo_members(settings: WebSettings) -> None:
    async with web_client(settings) as web:
        assert (await web.get("/auth/config")).json() == {"demo": True, "oidc": False}
        members = (await web.get("/auth/demo-members")).json()
        assert {"member_id": "anna", "name": "Anna Planner",
                "roles": ["admin", "planner"]} in members
        assert all(set(m) == {"member_id", "name", "roles"} for m in members)
        assert "token" not in json.dumps(members)
    async with web_client(WebSettings(session_keys=settings.session_keys)) as web:
        assert (await web.get("/auth/config")).json() == {"demo": False, "oidc": False}
        assert (await web.get("/auth/demo-members")).status_code == 404
        refused = await web.post("/auth/demo-login", json={"member_id": "anna"}, headers=CSRF)
        assert refused.status_code == 404


async def test_sign_in_me_and_sign_out(settings: WebSettings) -> None:
    async with web_client(settings) as web:
        anonymous = await web.get("/auth/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        response = await web.post("/auth/demo-login", json={"member_id": "ben"}, headers=CSRF)
        assert response.status_code == 204
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "Max-Age=28800" in cookie and "Secure" not in cookie
        assert "token-ben" not in cookie  # sealed, not readable
        assert (await web.get("/auth/me")).json() == {
            "member_id": "ben", "name": "Ben Writer", "roles": []}
        unknown = await web.post("/auth/demo-login", json={"member_id": "zed"}, headers=CSRF)
        assert unknown.status_code == 404
        out = await web.post("/auth/logout", headers=CSRF)
        assert out.status_code == 204
        assert SESSION_COOKIE in out.headers["set-cookie"]
        assert "Max-Age=0" in out.headers["set-cookie"]
        assert (await web.get("/auth/me")).status_code == 401


async def test_over_https_the_cookie_is_secure_and_host_only(settings: WebSettings) -> None:
    secure = WebSettings(session_keys=settings.session_keys, tokens_file=settings.tokens_file)
    async with web_client(secure, base_url="https://web") as web:
        response = await web.post("/auth/demo-login", json={"member_id": "ben"}, headers=CSRF)
        assert response.headers["set-cookie"].startswith("__Host-mf_session=")
        assert "Secure" in response.headers["set-cookie"]
        assert (await web.get("/auth/me")).json()["member_id"] == "ben"


async def test_unsafe_calls_without_the_custom_header_are_refused(
        settings: WebSettings) -> None:
    seen: Seen = []
    async with web_client(settings, transports={"planning": recording_service(seen)}) as web:
        refused = await web.post("/auth/demo-login", json={"member_id": "anna"})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert "X-Requested-With" in refused.json()["detail"]
        await sign_in(web, "anna")
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = await web.request(method, "/api/planning/campaigns", json={},
                                         headers={"X-Requested-With": "XMLHttpRequest"})
            assert response.status_code == 403, method
        assert (await web.post("/auth/logout")).status_code == 403
        assert seen == []  # nothing reached the service
        assert (await web.get("/api/planning/campaigns")).status_code == 201  # safe: allowed


async def test_the_proxy_passes_the_call_and_the_answer(settings: WebSettings) -> None:
    seen: Seen = []
    async with web_client(settings, transports={"planning": recording_service(seen)}) as web:
        await sign_in(web, "anna")
        response = await web.post(
            "/api/planning/members/a%40b/x?limit=2&q=caf%C3%A9", content=b'{"name": "A"}',
            headers={**CSRF, "Content-Type": "application/json", "If-Match": '"v2"',
                     "Authorization": "Bearer forged"})
        assert response.status_code == 201
        assert response.content == b'{"ok": true}'
        assert response.headers["etag"] == '"v3"'
        assert response.headers["location"] == "/api/planning/campaigns/c-1"
        assert response.headers["link"] == '</api/planning/campaigns?cursor=abc>; rel="next"'
        assert response.headers["x-next-cursor"] == "abc"
        assert "leak" not in response.headers.get("set-cookie", "")
        [call] = seen
        assert call.method == "POST"
        assert call.url.raw_path == b"/members/a%40b/x?limit=2&q=caf%C3%A9"
        assert call.headers["authorization"] == "Bearer token-anna"
        assert call.headers["if-match"] == '"v2"'
        assert call.headers["content-type"] == "application/json"
        assert call.content == b'{"name": "A"}'
        assert "cookie" not in call.headers and "x-requested-with" not in call.headers

        problem = await web.delete("/api/planning/refuse", headers=CSRF)
        assert problem.status_code == 409
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.json()["detail"] == "no"
        assert (await web.get("/api/nowhere/x")).status_code == 404


async def test_without_a_session_nothing_is_forwarded(settings: WebSettings) -> None:
    seen: Seen = []
    async with web_client(settings, transports={"planning": recording_service(seen)}) as web:
        response = await web.get("/api/planning/campaigns")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert seen == []


def _flip(value: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(value))
    raw[40] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("tamper", ["flip", "foreign-key", "garbage", "expired"])
async def test_a_tampered_or_stale_cookie_is_no_session(settings: WebSettings,
                                                       tamper: str) -> None:
    seen: Seen = []
    async with web_client(settings, transports={"planning": recording_service(seen)}) as web:
        await sign_in(web, "anna")
        value = web.cookies[SESSION_COOKIE]
        forged: dict[str, Any] = {"v": 1, "m": "anna", "n": "A", "r": ["admin"],
                                  "c": "token-anna", "x": 1e12}
        altered = {
            "flip": _flip(value),
            "foreign-key": Sealer([Fernet.generate_key().decode()]).seal(forged),
            "garbage": "not-a-session",
            "expired": Sealer(settings.session_keys).seal({**forged, "x": 1.0}),
        }[tamper]
        web.cookies.clear()
        web.cookies.set(SESSION_COOKIE, altered, domain="web.local")
        response = await web.get("/api/planning/campaigns")
        assert response.status_code == 401
        assert "Max-Age=0" in response.headers["set-cookie"]  # the bad cookie is cleared
        assert (await web.get("/auth/me")).status_code == 401
        assert seen == []


async def test_a_key_rotation_keeps_sessions(settings: WebSettings) -> None:
    async with web_client(settings) as web:
        await sign_in(web, "anna")
        value = web.cookies[SESSION_COOKIE]
    rotated = WebSettings(session_keys=(Fernet.generate_key().decode(), *settings.session_keys),
                          cookie_secure=False, tokens_file=settings.tokens_file)
    async with web_client(rotated) as web:
        web.cookies.set(SESSION_COOKIE, value, domain="web.local")
        assert (await web.get("/auth/me")).json()["member_id"] == "anna"


async def test_the_single_page_app_is_served_with_its_routes(
        settings: WebSettings, tmp_path: Path) -> None:
    async with web_client(settings) as web:
        missing = await web.get("/")
        assert missing.status_code == 503
        assert missing.headers["content-type"] == "application/problem+json"
        assert "make install" in missing.json()["detail"]
    (tmp_path / "dist" / "assets").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><title>Marketflow</title>")
    (tmp_path / "dist" / "assets" / "app-3f9a.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside")
    async with web_client(settings) as web:
        for route in ("/", "/board/c-1", "/calendar/2027"):
            page = await web.get(route)
            assert page.status_code == 200 and "<title>Marketflow" in page.text, route
            assert page.headers["cache-control"] == "no-cache"
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        asset = await web.get("/assets/app-3f9a.js")
        assert asset.text == "console.log(1)"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert (await web.get("/assets/app-old.js")).status_code == 404
        assert (await web.get("/%2e%2e/secret.txt")).status_code == 404
        assert (await web.get("/auth/nothing")).status_code == 404


def test_the_settings_come_from_the_environment(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = WebSettings.from_env({
        "MARKETFLOW_WEB_SESSION_KEY": key, "MARKETFLOW_WEB_PORT": "9000",
        "MARKETFLOW_EXECUTION_PORT": "9102", "MARKETFLOW_REPORTING_URL": "http://rep:80/",
        "MARKETFLOW_WEB_COOKIE_SECURE": "false"})
    assert settings.port == 9000 and not settings.cookie_secure and not settings.demo
    assert settings.service_urls["execution"] == "http://127.0.0.1:9102"
    assert settings.service_urls["reporting"] == "http://rep:80"
    with pytest.raises(ValueError, match="MARKETFLOW_WEB_SESSION_KEY is required"):
        WebSettings.from_env({})
    with pytest.raises(ValueError, match="not a Fernet key"):
        WebSettings.from_env({"MARKETFLOW_WEB_SESSION_KEY": "short"})
    with pytest.raises(ValueError, match="MARKETFLOW_WEB_OIDC_CLIENT_ID"):
        WebSettings.from_env({"MARKETFLOW_WEB_SESSION_KEY": key,
                              "MARKETFLOW_OIDC_ISSUER": "https://id.example",
                              "MARKETFLOW_OIDC_AUDIENCE": "marketflow"})
