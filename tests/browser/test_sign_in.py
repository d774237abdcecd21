"""In a real browser: a demo member signs in through the BFF and the page, same origin,
reaches who it is and a service's API through the session cookie, which its scripts can
neither read nor need. (The click-through flow of the views comes with the SPA.)"""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Page

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import WebStack, screenshot, watch_of
from tests.harness import LAUNCH_PLAYBOOK

pytestmark = pytest.mark.integration

FETCH_JSON = """async ([path, init]) => {
    const response = await fetch(path, init);
    return {status: response.status, type: response.headers.get('content-type'),
            location: response.headers.get('location'), body: await response.json()};
}"""


async def test_a_demo_member_signs_in_and_the_page_calls_the_apis(
        page: Page, web_stack: WebStack) -> None:
    await page.goto("/")
    before = await page.evaluate(FETCH_JSON, ["/auth/me", {}])
    assert before["status"] == 401 and before["type"] == "application/problem+json"

    # Signing in as the SPA does: JSON, with the custom header; the cookie lands in the
    # browser (the API request context shares the page's cookies).
    refused = await page.request.post("/auth/demo-login", data={"member_id": "anna"})
    assert refused.status == 403  # no X-Requested-With: a cross-site form could do this
    signed_in = await page.request.post("/auth/demo-login", data={"member_id": "anna"},
                                        headers={"X-Requested-With": "marketflow"})
    assert signed_in.status == 204

    me = await page.evaluate(FETCH_JSON, ["/auth/me", {}])
    assert me["body"] == {"member_id": "anna", "name": "Anna Planner",
                          "roles": ["admin", "planner"]}
    assert "mf_session" not in await page.evaluate("document.cookie")  # httpOnly

    created = await page.evaluate(FETCH_JSON, ["/api/planning/playbooks", {
        "method": "POST", "body": json.dumps(LAUNCH_PLAYBOOK),
        "headers": {"Content-Type": "application/json", "X-Requested-With": "marketflow"}}])
    assert created["status"] == 201, created
    assert created["location"] == f"/api/planning/playbooks/{created['body']['id']}"
    listed = await page.evaluate(FETCH_JSON, ["/api/planning/playbooks", {}])
    assert [p["id"] for p in listed["body"]] == [created["body"]["id"]]

    await assert_accessible(page)
    await screenshot(page, "signed-in-home")
    # The one expected error: who am I, before signing in.
    watch_of(page).assert_clean(allowed=(r"/auth/me: 401$",
                                         r"401 \(Unauthorized\) at .*/auth/me$"))
