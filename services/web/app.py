"""The backend-for-frontend's HTTP app: sign-in (``/auth``), the four APIs behind the
member's session (``/api/<service>/…``) and the built single-page app (everything else).

Same origin for all three, so the browser needs no CORS and holds no token: the session
cookie is sealed and httpOnly, and the BFF adds ``Authorization: Bearer <credential>``
when it forwards a call.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.types import ASGIApp, Receive, Scope, Send

from services.web.oidc_client import LOGIN_SECONDS, OidcClient, PendingLogin, SignInRefused
from services.web.session import (
    LOGIN_COOKIE,
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    Sealer,
    Session,
    SessionTooLarge,
)
from services.web.settings import WebSettings
from shared.auth import TokenRegistry
from shared.config import SERVICES
from shared.oidc import OidcProviderError
from shared.problems import FORBIDDEN, problem_response

log = logging.getLogger(__name__)

CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "marketflow"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What the browser's call carries to the API, and what the API's answer carries back;
# everything else (cookies, hop-by-hop headers, the browser's own Authorization) stays.
REQUEST_HEADERS = ("content-type", "accept", "if-match", "if-none-match", "traceparent",
                   "tracestate", "content-length")
RESPONSE_HEADERS = ("content-type", "etag", "location", "link", "x-next-cursor",
                    "content-disposition", "cache-control", "retry-after", "last-modified",
                    "www-authenticate", "vary")
HASHED_ASSETS = "assets/"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# The single-page app loads only its own scripts; styles may be inline (widget libraries
# set them); nothing frames it.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
               "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")


class DemoLogin(BaseModel):
    member_id: str = Field(min_length=1, max_length=64)


class CsrfGuard:
    """Unsafe methods to ``/api`` and ``/auth`` must carry ``X-Requested-With: marketflow``.

    Why: the session is a cookie, and a browser attaches cookies to requests another site
    makes it send. SameSite=Lax keeps the cookie off most cross-site POSTs, but not off
    those from a sibling subdomain (same *site*), nor in every browser. A custom header is
    what a cross-origin page cannot add without a CORS preflight, which this app never
    answers with permission (it has no CORS), and an HTML form cannot add at all; the
    single-page app, same origin, sends it on every call. Safe methods change nothing, so
    they need no proof (and a top-level navigation to ``/auth/login`` must work).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS \
                and str(scope["path"]).startswith(("/api/", "/auth/")):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope.get("headers", [])}
            if headers.get(CSRF_HEADER, "").strip().lower() != CSRF_VALUE:
                response = problem_response(
                    403, f"{scope['method']} needs the header 'X-Requested-With: "
                    f"{CSRF_VALUE}' (cross-site request protection)", scope=scope,
                    kind=FORBIDDEN)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: WebSettings, *, transport: httpx.AsyncBaseTransport | None = None,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    """``transports`` (tests): an in-process transport per service instead of the network;
    ``transport``: one for the OpenID Connect provider."""
    sealer = Sealer(settings.session_keys)
    registry = TokenRegistry.from_file(settings.tokens_file)
    demo_members = _demo_members(settings.tokens_file)
    session_cookie = SECURE_SESSION_COOKIE if settings.cookie_secure else SESSION_COOKIE
    max_age = settings.session_hours * 3600

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.proxy_timeout_seconds, connect=5.0)
        clients = {
            service: httpx.AsyncClient(
                base_url=settings.service_urls[service], timeout=timeout,
                transport=(transports or {}).get(service), follow_redirects=False)
            for service in SERVICES}
        oidc_http = httpx.AsyncClient(timeout=10.0, transport=transport,
                                      follow_redirects=False)
        app.state.clients = clients
        app.state.oidc = (OidcClient(settings.oidc, oidc_http)
                          if settings.oidc is not None else None)
        try:
            yield
        finally:
            for client in clients.values():
                await client.aclose()
            await oidc_http.aclose()

    app = FastAPI(title="Marketflow web", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.add_middleware(CsrfGuard)

    def current(request: Request) -> Session | None:
        return sealer.open_session(request.cookies.get(session_cookie), max_age)

    def unauthenticated(request: Request, detail: str = "sign in first") -> Response:
        response = problem_response(401, detail, scope=request.scope)
        if session_cookie in request.cookies:
            _clear(response, session_cookie, settings.cookie_secure)
        return response

    def signed_in(session: Session, response: Response) -> Response:
        try:
            value = sealer.seal_session(session)
        except SessionTooLarge as error:
            return problem_response(502, f"the provider's token does not fit in a session "
                                    f"cookie: {error}")
        response.set_cookie(session_cookie, value,
                            max_age=max(1, round(session.expires_at - time.time())),
                            path="/", secure=settings.cookie_secure, httponly=True,
                            samesite="lax")
        return response

    # -- health ----------------------------------------------------------------------

    @app.get("/health/live", include_in_schema=False)
    @app.get("/health/ready", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    # -- sign-in ---------------------------------------------------------------------

    @app.get("/auth/config")
    async def auth_config() -> dict[str, bool]:
        return {"demo": settings.demo, "oidc": settings.oidc is not None}

    @app.get("/auth/demo-members", response_model=None)
    async def list_demo_members(request: Request) -> Response | list[dict[str, Any]]:
        if not settings.demo:
            return problem_response(404, "the demo sign-in is off", scope=request.scope)
        return demo_members

    @app.post("/auth/demo-login", status_code=204, response_model=None)
    async def demo_login(body: DemoLogin, request: Request) -> Response:
        if not settings.demo:
            return problem_response(404, "the demo sign-in is off", scope=request.scope)
        for token, member in registry.credentials():
            if member.member_id == body.member_id and not member.service_account:
                session = Session(member.member_id, member.name,
                                  tuple(sorted(role.value for role in member.roles)), token,
                                  time.time() + max_age)
                return signed_in(session, Response(status_code=204))
        return problem_response(404, f"no demo member {body.member_id!r}", scope=request.scope)

    @app.get("/auth/login", response_model=None)
    async def login(request: Request, return_to: str = "/") -> Response:
        oidc: OidcClient | None = request.app.state.oidc
        if oidc is None:
            return problem_response(404, "OpenID Connect sign-in is not configured",
                                    scope=request.scope)
        pending = PendingLogin.fresh(_local_path(return_to))
        try:
            target = await oidc.authorization_url(pending)
        except OidcProviderError as error:
            log.warning("OIDC sign-in cannot start: %s", error)
            return problem_response(503, "the sign-in provider cannot be reached",
                                    scope=request.scope)
        response = RedirectResponse(target, status_code=302)
        response.set_cookie(LOGIN_COOKIE, sealer.seal(pending.payload()), max_age=LOGIN_SECONDS,
                            path="/auth/", secure=settings.cookie_secure, httponly=True,
                            samesite="lax")
        return response

    @app.get("/auth/callback", response_model=None)
    async def callback(request: Request, code: str | None = None, state: str | None = None,
                       error: str | None = None) -> Response:
        oidc: OidcClient | None = request.app.state.oidc
        if oidc is None:
            return problem_response(404, "OpenID Connect sign-in is not configured",
                                    scope=request.scope)
        pending = PendingLogin.from_payload(
            sealer.open(request.cookies.get(LOGIN_COOKIE), LOGIN_SECONDS))
        if error is not None:
            return unauthenticated(request, f"the provider did not sign you in: {error[:100]}")
        if pending is None or code is None or state is None:
            return unauthenticated(request, "no sign-in is under way in this browser (or it "
                                   "took longer than 10 minutes); sign in again")
        try:
            credential, identity = await oidc.finish(pending, state, code)
        except SignInRefused as refused:
            return unauthenticated(request, refused.reason)
        except OidcProviderError as failure:
            log.warning("OIDC sign-in cannot finish: %s", failure)
            return problem_response(503, "the sign-in provider cannot be reached",
                                    scope=request.scope)
        expires = min(time.time() + max_age, identity.expires_at.timestamp())
        session = Session(identity.member_id, identity.name, tuple(sorted(identity.roles)),
                          credential, expires)
        response = signed_in(session, RedirectResponse(pending.return_to, status_code=302))
        response.delete_cookie(LOGIN_COOKIE, path="/auth/", secure=settings.cookie_secure,
                               httponly=True, samesite="lax")
        return response

    @app.get("/auth/me", response_model=None)
    async def me(request: Request) -> Response | dict[str, object]:
        session = current(request)
        if session is None:
            return unauthenticated(request)
        return session.public()

    @app.post("/auth/logout", status_code=204)
    async def logout() -> Response:
        response = Response(status_code=204)
        _clear(response, session_cookie, settings.cookie_secure)
        return response

    # -- the four APIs ---------------------------------------------------------------

    @app.api_route("/api/{service}/{path:path}",
                   methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
                   response_model=None)
    async def forward(service: str, path: str, request: Request) -> Response:
        if service not in SERVICES:
            return problem_response(404, f"no service {service!r}; one of "
                                    f"{', '.join(SERVICES)}", scope=request.scope)
        session = current(request)
        if session is None:
            return unauthenticated(request)
        client: httpx.AsyncClient = request.app.state.clients[service]
        # The path as the browser encoded it (a member id may hold '@').
        raw = request.scope.get("raw_path") or request.url.path.encode()
        upstream_path = raw.decode("latin-1").partition("?")[0][len(f"/api/{service}"):]
        headers = {name: request.headers[name] for name in REQUEST_HEADERS
                   if name in request.headers}
        headers["authorization"] = f"Bearer {session.credential}"
        has_body = request.method not in SAFE_METHODS
        outbound = client.build_request(
            request.method, httpx.URL(upstream_path or "/", query=request.url.query.encode()),
            headers=headers, content=request.stream() if has_body else None)
        try:
            answer = await client.send(outbound, stream=True)
        except httpx.TimeoutException:
            return problem_response(504, f"the {service} service did not answer in time",
                                    scope=request.scope)
        except httpx.HTTPError as error:
            log.warning("%s unreachable: %s", service, error)
            return problem_response(502, f"the {service} service cannot be reached",
                                    scope=request.scope)
        passed = {name: answer.headers[name] for name in RESPONSE_HEADERS
                  if name in answer.headers}
        base = settings.service_urls[service]
        for name in ("location", "link"):
            if name in passed:
                passed[name] = _public(passed[name], base, f"/api/{service}")
        # Decoded (httpx undoes a Content-Encoding, whose header is not passed on), so the
        # length may differ from the service's: it is streamed without one.
        return StreamingResponse(answer.aiter_bytes(), status_code=answer.status_code,
                                 headers=passed, background=BackgroundTask(answer.aclose))

    # -- the single-page app ---------------------------------------------------------

    dist = settings.dist

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], response_model=None)
    async def page(path: str, request: Request) -> Response:
        if path.startswith(("api/", "auth/", "health/")) or path in ("api", "auth"):
            return problem_response(404, "no such address", scope=request.scope)
        index = dist / "index.html"
        if not index.is_file():
            return problem_response(503, f"the web app is not built ({dist} is missing): "
                                    "run `make install`", scope=request.scope)
        asset = _inside(dist, path)
        if asset is not None and asset.name != "index.html":
            cache = ("public, max-age=31536000, immutable" if path.startswith(HASHED_ASSETS)
                     else "public, max-age=3600")
            return FileResponse(asset, headers={"Cache-Control": cache, **SECURITY_HEADERS})
        if asset is None and "." in path.rsplit("/", 1)[-1]:
            # A missing file (an old hashed asset): a 404, not the page.
            return problem_response(404, "no such file", scope=request.scope)
        return FileResponse(index, headers={"Cache-Control": "no-cache",
                                            "Content-Security-Policy": PAGE_POLICY,
                                            **SECURITY_HEADERS})

    return app


def _clear(response: Response, name: str, secure: bool) -> None:
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


def _local_path(return_to: str) -> str:
    """Only a path of this site (never ``//evil.example`` or ``https://…``): no open
    redirect after sign-in."""
    if not return_to.startswith("/") or return_to.startswith("//") or "\\" in return_to:
        return "/"
    return return_to


def _inside(root: Path, path: str) -> Path | None:
    """The file ``path`` names under ``root``, or None (never outside it)."""
    if not path:
        return None
    try:
        candidate = (root / path).resolve()
        candidate.relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    return candidate if candidate.is_file() else None


def _public(value: str, base: str, prefix: str) -> str:
    """A service's own address (absolute, or a path on it) as the browser reaches it; in a
    Link header, each ``<…>`` of it."""

    def one(address: str) -> str:
        if address.startswith(base + "/") or address.startswith(base + "?") or address == base:
            address = address[len(base):] or "/"
        return prefix + address if address.startswith("/") else address

    if "<" not in value:
        return one(value)
    return re.sub(r"<([^>]*)>", lambda found: f"<{one(found.group(1))}>", value)


def _demo_members(tokens_file: Path | None) -> list[dict[str, Any]]:
    if tokens_file is None:
        return []
    registry = TokenRegistry.from_file(tokens_file)
    members = {m.member_id: m for _, m in registry.credentials()
               if not m.service_account}
    return [{"member_id": m.member_id, "name": m.name,
             "roles": sorted(role.value for role in m.roles)}
            for m in sorted(members.values(), key=lambda m: m.member_id)]
