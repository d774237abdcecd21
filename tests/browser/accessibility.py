"""An accessibility scan of a page with axe-core (the npm package's ``axe.min.js``, from
the front end's node_modules when it has it, else ``tests/browser``'s, installed by
``make test`` with ``npm ci``)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from tests.browser.known_bugs import KnownAppBug
from tests.infrastructure import ROOT

AXE_SOURCES = (
    ROOT / "services/web/frontend/node_modules/axe-core/axe.min.js",
    ROOT / "tests/browser/node_modules/axe-core/axe.min.js",
)
BLOCKING = ("serious", "critical")


def axe_script() -> Path:
    for source in AXE_SOURCES:
        if source.is_file():
            return source
    raise AssertionError("axe-core is not installed: run `make test`, or `npm ci` in "
                         "tests/browser (its version is locked in package-lock.json)")


async def axe_violations(page: Page, *, impacts: tuple[str, ...] = BLOCKING
                         ) -> list[dict[str, Any]]:
    """The page's WCAG 2.x A/AA violations of the given impacts (serious and critical by
    default), each with the selectors of the offending nodes."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not a <script> tag: the web app's
        # Content-Security-Policy (rightly) refuses inline scripts.
        await page.evaluate(axe_script().read_text() + "\n;undefined")
    results: dict[str, Any] = await page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
        resultTypes: ['violations'],
    })""")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [", ".join(node["target"]) for node in v["nodes"]]}
            for v in results["violations"] if v["impact"] in impacts]


async def assert_accessible(page: Page, *, known: dict[str, str] | None = None) -> None:
    """No serious or critical violation; ``known`` maps the rule ids of known app bugs
    to their description: those are only warned about (``KnownAppBug``). Not checked
    strictly as ``known_bug`` does: axe reports some rules (label-content-name-mismatch)
    as undecided on some runs."""
    violations = await axe_violations(page)
    for rule, description in (known or {}).items():
        if [v for v in violations if v["id"] == rule]:
            warnings.warn(KnownAppBug(description), stacklevel=2)
    violations = [v for v in violations if v["id"] not in (known or {})]
    assert not violations, "accessibility violations (axe-core):\n" + "\n".join(
        f"{v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in violations)
