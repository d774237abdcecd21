"""The web app's backend-for-frontend in this process, for tests: settings, a demo
tokens file from the harness's members, and an HTTP client that keeps its cookies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from services.web.app import create_app
from services.web.settings import WebSettings
from tests.harness import MEMBERS

CSRF = {"X-Requested-With": "marketflow"}


def tokens_file(folder: Path) -> Path:
    """The harness's members as ``MARKETFLOW_TOKENS_FILE`` holds them."""
    path = folder / "demo-tokens.json"
    path.write_text(json.dumps({
        token: {"member_id": m.member_id, "name": m.name,
                "roles": sorted(role.value for role in m.roles)}
        for token, m in MEMBERS.items()}))
    return path


def web_settings(folder: Path, **overrides: Any) -> WebSettings:
    settings = WebSettings(session_keys=(Fernet.generate_key().decode(),),
                           cookie_secure=False, tokens_file=tokens_file(folder),
                           dist=folder / "dist")
    return replace(settings, **overrides)


@asynccontextmanager
async def web_client(settings: WebSettings, *,
                     transports: dict[str, httpx.AsyncBaseTransport] | None = None,
                     transport: httpx.AsyncBaseTransport | None = None,
                     base_url: str = "http://web") -> AsyncIterator[httpx.AsyncClient]:
    """The BFF's app (lifespan run) behind a cookie-keeping client."""
    app = create_app(settings, transports=transports, transport=transport)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def sign_in(client: httpx.AsyncClient, member_id: str) -> None:
    response = await client.post("/auth/demo-login", json={"member_id": member_id},
                                 headers=CSRF)
    assert response.status_code == 204, response.text
