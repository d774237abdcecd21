"""The whole flow of a campaign by clicks, in a real browser, as its people live it: the
planner plans it and finds it on the board; the writer starts the task and submits it;
the approver requests changes; the writer resubmits; the approver approves; the planner
sees the campaign at 100% in the reports and the full story in the audit trail.

Steps whose views are not built yet are done through the API by helpers marked "UI view
pending" (``import_playbook``, ``plan_campaign``, ``audit_story``); each is to become
clicks when its view lands, the rest of the flow unchanged."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from deploy.local.seed_demo import DEMO_TEAM
from tests.browser.conftest import WebStack, open_page, screenshot, watch_of
from tests.browser.demo import PLANNER, planning_client, seed_demo_directory, wait_for_board
from tests.browser.ui import (
    card,
    column,
    expect_card_in,
    keyboard_drag,
    move_card,
    nav,
    problem,
    settled,
    sign_in,
    sign_out,
)
from tests.harness import auth, eventually

pytestmark = pytest.mark.integration

WRITER = "ben"  # the demo directory's writer
APPROVER = "erin"  # a brand approver (not the writer: nobody approves their own work)
TASK = "Write the launch post"
PLAYBOOK_YAML = """\
name: {name}
description: One post, written and approved by brand before it goes out.
roles: [writer, brand]
phases:
  - key: writing
    title: Writing
    tasks:
      - key: post
        title: {task}
        role: writer
        deliverable: blog-post
        duration_days: 2
        approval_chain: [{{role: brand}}]
"""


# --- steps whose views are pending: through the API today ----------------------------


async def import_playbook(stack: WebStack, name: str) -> str:
    """UI view pending (playbooks: YAML import). Today: the same YAML POSTed through the
    BFF as the planner; tomorrow: Playbooks → Import → choose the file → Import."""
    def post() -> str:
        with planning_client(stack, PLANNER) as client:
            response = client.post("/playbooks/import",
                                   content=PLAYBOOK_YAML.format(name=name, task=TASK).encode(),
                                   headers={"content-type": "application/yaml"})
            assert response.status_code == 201, response.text
            playbook_id: str = response.json()["id"]
            return playbook_id
    return await asyncio.to_thread(post)


async def plan_campaign(stack: WebStack, playbook_id: str, name: str,
                        launch: dt.date) -> str:
    """UI view pending (playbooks: "plan a campaign" form). Today: the form's request
    through the BFF as the planner; tomorrow: Playbooks → the playbook → Plan a campaign
    → name, launch date, the writer → Plan. Returns once execution shows its task (the
    board reads execution, which hears of the campaign over Kafka)."""
    def post() -> str:
        with planning_client(stack, PLANNER) as client:
            response = client.post("/campaigns", json={
                "playbook_id": playbook_id, "name": name,
                "launch_date": launch.isoformat(), "assignments": {"writer": WRITER},
                # The demo team's: its members (the approvers) may read the board.
                "team_id": DEMO_TEAM})
            assert response.status_code == 201, response.text
            campaign_id: str = response.json()["id"]
            return campaign_id
    campaign_id = await asyncio.to_thread(post)
    await wait_for_board(stack, campaign_id, tasks=1)
    return campaign_id


async def audit_story(stack: WebStack, campaign_id: str) -> list[tuple[str, str]]:
    """UI view pending (audit timeline). Today: reporting's campaign history as the
    planner reads it through the API; tomorrow: Audit → the campaign → its timeline.
    (type, actor) of each event, oldest first."""
    response = await stack.services["reporting"].http.get(
        f"/campaigns/{campaign_id}/history", params={"limit": 500}, headers=auth(PLANNER))
    assert response.status_code == 200, response.text
    return [(event["type"], event["actor"]) for event in response.json()["events"]]


# --- by clicks -----------------------------------------------------------------------


async def open_campaign_from_calendar(page: Page, name: str, launch: dt.date) -> None:
    """Calendar → the launch's year → the campaign's launch → its board."""
    await nav(page, "Calendar")
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text(re.compile(r"^Year calendar \d{4}$"))
    if launch.year != dt.date.today().year:
        await page.get_by_role("button", name="Next year").click()
    await expect(heading).to_have_text(f"Year calendar {launch.year}")
    await page.get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", name="Campaign board")).to_be_visible()


async def open_from_my_work(page: Page, section: str, title: str) -> None:
    """My work → the task's link in ``section`` → the board with its detail open."""
    await nav(page, "My work")
    await page.get_by_role("region", name=section).get_by_role(
        "link", name=title, exact=True).click()
    await expect(page.get_by_role("complementary", name="Task detail")
                 .get_by_role("heading", name=title)).to_be_visible()


def detail(page: Page) -> Locator:
    return page.get_by_role("complementary", name="Task detail")


@pytest.fixture(scope="module")
async def flow_stack(module_web_stack: WebStack) -> AsyncIterator[WebStack]:
    """A fresh system with make run's demo directory (members, roles, team)."""
    await asyncio.to_thread(seed_demo_directory, module_web_stack)
    yield module_web_stack


async def test_a_campaign_from_plan_to_approval_by_clicks(browser: Browser,
                                                          flow_stack: WebStack) -> None:
    stack = flow_stack
    suffix = uuid.uuid4().hex[:6]
    campaign_name = f"Launch post {suffix}"
    launch = dt.date.today() + dt.timedelta(days=10)
    async with open_page(browser, stack.url, "flow-end") as page:
        await page.goto("/")

        # The planner: imports a playbook, plans a campaign, finds its task on the board.
        await sign_in(page, PLANNER)
        playbook_id = await import_playbook(stack, f"Launch post {suffix}")
        campaign_id = await plan_campaign(stack, playbook_id, campaign_name, launch)
        await open_campaign_from_calendar(page, campaign_name, launch)
        await expect_card_in(page, TASK, "ready")
        task_id = (await wait_for_board(stack, campaign_id))[TASK]["id"]
        await expect(card(page, TASK)).to_contain_text(WRITER)
        await screenshot(page, "flow-1-planned")
        await sign_out(page)

        # The writer: starts it (a keyboard drag) and submits it with a reference (menu).
        await sign_in(page, WRITER)
        await open_from_my_work(page, "My tasks by due date", TASK)
        await keyboard_drag(page, TASK, "in_progress")
        await expect_card_in(page, TASK, "in_progress")
        await move_card(page, TASK, "submitted", "https://docs.example/launch-post-v1")
        await expect_card_in(page, TASK, "submitted")
        await expect(detail(page)).to_contain_text("#1 https://docs.example/launch-post-v1 by ben")
        await expect(detail(page)).to_contain_text("Waiting for approvers")

        # An illegal move: the writer approving their own submission; the server refuses
        # and the board shows its problem details, the card where it was.
        await move_card(page, TASK, "approved")
        await expect(problem(page)).to_contain_text("Not allowed (403)")
        await expect(problem(page)).to_contain_text(
            f"ben may not task.approve on task {task_id}: allowed to approver (own)")
        await expect_card_in(page, TASK, "submitted")
        await screenshot(page, "flow-2-refused")
        await problem(page).get_by_role("button", name="Dismiss").click()
        await expect(problem(page)).to_have_count(0)
        await sign_out(page)

        # The approver: requests changes with a comment.
        await sign_in(page, APPROVER)
        approvals = page.get_by_role("region", name="Approvals waiting for me")
        await expect(approvals.get_by_role("link", name=TASK)).to_be_visible()
        await expect(approvals).to_contain_text("Step 1 of 1")
        await open_from_my_work(page, "Approvals waiting for me", TASK)
        await expect(detail(page).get_by_role("list", name="Approval chain")
                     ).to_contain_text("brand — 0/1 · current step")
        await move_card(page, TASK, "in_progress", "Lead with the customer's problem.")
        await expect_card_in(page, TASK, "in_progress")
        await expect(detail(page)).to_contain_text("Lead with the customer's problem.")
        await expect(detail(page)).to_contain_text("revision round 1")
        await sign_out(page)

        # The writer: resubmits.
        await sign_in(page, WRITER)
        await open_from_my_work(page, "My tasks by due date", TASK)
        await move_card(page, TASK, "submitted", "https://docs.example/launch-post-v2")
        await expect_card_in(page, TASK, "submitted")
        await sign_out(page)

        # The approver: approves; approval completes the task.
        await sign_in(page, APPROVER)
        await open_from_my_work(page, "Approvals waiting for me", TASK)
        await move_card(page, TASK, "approved")
        await expect_card_in(page, TASK, "done")
        await expect(column(page, "submitted").get_by_role("link", name=TASK)).to_have_count(0)
        await screenshot(page, "flow-3-done")
        await sign_out(page)

        # The planner: the campaign at 100% in the reports (once reporting has heard).
        async def complete() -> bool:
            response = await stack.services["reporting"].http.get(
                f"/campaigns/{campaign_id}/progress", headers=auth(PLANNER))
            return response.status_code == 200 and response.json()["percent_done"] == 100
        await eventually(complete, what="the campaign at 100% in reporting")
        await sign_in(page, PLANNER)
        await nav(page, "Reports")
        row = page.get_by_role("table", name="Campaign progress").get_by_role(
            "row").filter(has_text=campaign_name)
        await expect(row).to_contain_text("1/1 (100%)")
        await settled(page)
        await screenshot(page, "flow-4-reports")

        # The full story in the audit trail, each step by whom it was done.
        story = [(kind.split(".", 2)[2].removesuffix(".v1"), actor)
                 for kind, actor in await audit_story(stack, campaign_id)
                 if not kind.startswith("marketflow.notification.")]
        assert story == [
            ("campaign.planned", PLANNER), ("task.opened", PLANNER),
            ("task.ready", PLANNER), ("task.assigned", PLANNER),
            ("task.started", WRITER), ("task.submitted", WRITER),
            ("task.changes_requested", APPROVER), ("task.submitted", WRITER),
            ("approval.given", APPROVER), ("task.approved", APPROVER),
            ("task.completed", APPROVER)], story

        # Expected errors: who-am-I before each sign-in (401), the refused approval (403).
        watch_of(page).assert_clean(allowed=(
            r"/auth/me: 401$", r"401 \(Unauthorized\) at .*/auth/me$",
            r"/approve: 403$", r"403 \(Forbidden\) at .*/approve$"))
