"""Browser tests: Debian's Chromium, driven by Playwright, against the web app's BFF on a
real port in front of the four real services (in this process, on the real Kafka).

- ``web_stack``: the four services (``tests/harness.py``) and the BFF served by uvicorn in
  this event loop on a free port, forwarding to the services in process; the demo members
  are the harness's. The BFF serves the built single-page app when ``make install`` has
  built it, a bare placeholder page otherwise. ``module_web_stack``: the same, shared by a
  module's tests (seed once, look many times; ``demo.py`` seeds make run's demo data).
- ``browser`` (one per session): Chromium from ``/usr/bin/chromium`` (``apt-get install
  chromium``; never a Playwright browser download). Missing, it fails the test with how
  to install it: a browser test that skips is a browser test that never runs.
- ``page`` (``open_page``): a fresh context and page on the BFF; it records console
  errors, uncaught exceptions, failed requests and error answers (``PageWatch``), and
  saves a screenshot in ``var/test-output/screenshots/`` when the test ends.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, ConsoleMessage, Page, Request, Response, async_playwright

from services.web.app import create_app
from services.web.settings import DEFAULT_DIST
from shared.config import SERVICES
from tests.benchmarks.context import free_port
from tests.harness import Environment, RunningService, start_service
from tests.infrastructure import ROOT, delete_topics
from tests.web_support import web_settings

CHROMIUM = Path(os.environ.get("MARKETFLOW_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "var" / "test-output" / "screenshots"
PLACEHOLDER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marketflow</title>
<link rel="icon" href="data:,"></head>
<body><main><h1>Marketflow</h1><p>The single-page app is not built here.</p></main></body>
</html>"""

pytestmark = pytest.mark.integration


@dataclass
class WebStack:
    url: str
    services: dict[str, RunningService]


@asynccontextmanager
async def serve_web_stack(env: Environment, folder: Path) -> AsyncIterator[WebStack]:
    """The four services on ``env`` and the BFF on a free port, stopped afterwards."""
    services: dict[str, RunningService] = {}
    try:
        for name in SERVICES:
            services[name] = await start_service(env, name)
        dist = DEFAULT_DIST
        if not (dist / "index.html").is_file():
            dist = folder / "dist"
            dist.mkdir(exist_ok=True)
            (dist / "index.html").write_text(PLACEHOLDER_PAGE)
        settings = web_settings(folder, dist=dist)
        app = create_app(settings, transports={n: s.transport for n, s in services.items()})
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_config=None, access_log=False))
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                assert not serving.done(), "the web BFF did not start"
                await asyncio.sleep(0.05)
            yield WebStack(f"http://127.0.0.1:{port}", services)
        finally:
            server.should_exit = True
            await serving
    finally:
        for service in services.values():
            await service.stop()


@pytest.fixture
async def web_stack(sqlite_env: Environment, tmp_path: Path) -> AsyncIterator[WebStack]:
    async with serve_web_stack(sqlite_env, tmp_path) as stack:
        yield stack


@pytest.fixture(scope="module")
async def module_env(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
                     ) -> AsyncIterator[Environment]:
    """A fresh namespace and SQLite stores shared by one module's tests (a module that
    seeds once and looks many times)."""
    folder = tmp_path_factory.mktemp("browser")
    environment = Environment(kafka_bootstrap=kafka_bootstrap,
                              namespace=f"t{uuid.uuid4().hex[:12]}", store="sqlite",
                              sqlite_dir=folder / "stores", postgres_url="")
    yield environment
    await delete_topics(kafka_bootstrap, environment.namespace)


@pytest.fixture(scope="module")
async def module_web_stack(module_env: Environment, tmp_path_factory: pytest.TempPathFactory
                           ) -> AsyncIterator[WebStack]:
    """``web_stack``, once per module."""
    async with serve_web_stack(module_env, tmp_path_factory.mktemp("web")) as stack:
        yield stack


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: install it with "
                    "`apt-get install -y --no-install-recommends chromium` (Debian's; no "
                    "Playwright browser download), or set MARKETFLOW_CHROMIUM to its path",
                    pytrace=False)
    async with async_playwright() as playwright:
        # As root (CI) Chromium's sandbox cannot start; the pages are our own.
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class PageWatch:
    """What went wrong on a page, as a developer's console would show it."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} at {where}" if where else message.text)

    def on_page_error(self, error: Exception) -> None:
        self.console_errors.append(f"uncaught: {error}")

    def on_request_failed(self, request: Request) -> None:
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.error_responses.append(
                f"{response.request.method} {response.url}: {response.status}")

    def assert_clean(self, *, allowed: tuple[str, ...] = ()) -> None:
        """No console errors, no failed requests, no error answers, except those matching
        an ``allowed`` pattern (e.g. the 401 of ``/auth/me`` before signing in)."""
        problems = [p for p in self.console_errors + self.failed_requests
                    + self.error_responses if not any(re.search(a, p) for a in allowed)]
        assert not problems, "the page had problems:\n" + "\n".join(problems)


@asynccontextmanager
async def open_page(browser: Browser, base_url: str, name: str, **context_options: Any
                    ) -> AsyncIterator[Page]:
    """A fresh context and page on ``base_url`` watched by a ``PageWatch``; its
    screenshot is saved as ``name`` when it closes."""
    context = await browser.new_context(base_url=base_url, **context_options)
    # Auto-waiting locators wait this long at most: a view that takes longer is broken.
    context.set_default_timeout(10_000)
    opened = await context.new_page()
    watch = PageWatch()
    opened.on("console", watch.on_console)
    opened.on("pageerror", watch.on_page_error)
    opened.on("requestfailed", watch.on_request_failed)
    opened.on("response", watch.on_response)
    opened.watch = watch  # type: ignore[attr-defined]
    try:
        yield opened
    finally:
        await screenshot(opened, re.sub(r"[^A-Za-z0-9_.-]+", "_", name))
        await context.close()


@pytest.fixture
async def page(browser: Browser, web_stack: WebStack,
               request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    async with open_page(browser, web_stack.url, request.node.name) as opened:
        yield opened


def watch_of(page: Page) -> PageWatch:
    watch: PageWatch = page.watch  # type: ignore[attr-defined]
    return watch


async def screenshot(page: Page, name: str) -> Path:
    """The page as it looks now, for a reviewer: ``var/test-output/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if not page.is_closed():
        await page.screenshot(path=str(path), full_page=True)
    return path
