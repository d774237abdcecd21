"""The whole flow of a campaign by clicks only, in a real browser, as its people live it:
the planner imports a playbook, plans a campaign from it and finds its task on the board;
the writer starts the task and submits it; the approver requests changes; the writer
resubmits; the approver approves; the planner sees the campaign at 100% in the reports and
the full story in its audit trail."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, FilePayload, Locator, Page, expect

from deploy.local.seed_demo import DEMO_TEAM
from tests.browser.conftest import WebStack, open_page, screenshot, watch_of
from tests.browser.demo import PLANNER, seed_demo_directory
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


# --- by clicks -----------------------------------------------------------------------


async def import_playbook(page: Page, name: str) -> None:
    """Playbooks → choose the YAML file → Import → the new playbook's page."""
    await nav(page, "Playbooks")
    yaml_file = FilePayload(name="launch-post.yaml", mimeType="application/yaml",
                            buffer=PLAYBOOK_YAML.format(name=name, task=TASK).encode())
    await page.get_by_label("Import playbook (YAML)").set_input_files(files=[yaml_file])
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(name)


async def plan_campaign(page: Page, name: str, launch: dt.date) -> tuple[str, str]:
    """On the playbook's page: Plan a campaign → name, launch date, the demo team (its
    members, the approvers, may read the board), the writer → Plan; the new board shows
    its task (the board waits while execution sets the campaign up). Returns the
    campaign's and the task's ids, from the board's address and the card's link."""
    form = page.get_by_role("region", name="Plan a campaign")
    await form.get_by_label("Campaign name", exact=True).fill(name)
    await form.get_by_label("Launch date", exact=True).fill(launch.isoformat())
    await form.get_by_label("Team", exact=True).select_option(DEMO_TEAM)
    await form.get_by_label("writer", exact=True).select_option(WRITER)
    await form.get_by_role("button", name="Plan a campaign", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"{name}: board")
    await expect_card_in(page, TASK, "ready")
    match = re.search(r"/campaigns/([^/]+)/board$", page.url)
    assert match, page.url
    href = await card(page, TASK).get_by_role("link", name=TASK, exact=True).get_attribute("href")
    assert href, "the card links to its detail"
    return match.group(1), href.rsplit("/", 1)[-1]


async def reload_until(page: Page, shown: Locator, text: str, *, tries: int = 10) -> None:
    """The reports and the audit trail read reporting, which hears of each step over
    Kafka a moment later: reload (as a person would) until ``shown`` has ``text``."""
    for _ in range(tries):
        try:
            await expect(shown).to_contain_text(text, timeout=1_000)
            return
        except AssertionError:
            # Once nothing is loading (a reload amid requests aborts them).
            await page.wait_for_load_state("networkidle")
            await page.reload()
    await expect(shown).to_contain_text(text)


async def audit_story(page: Page, campaign_name: str) -> list[tuple[str, str]]:
    """Campaigns → the campaign's Audit → its timeline: (what, who) of each event as it
    reads ("task submitted", "ben"), oldest first, without the notification service's
    (its deliveries), once the last step shows."""
    await nav(page, "Campaigns")
    await page.get_by_role("link", name=f"Audit of {campaign_name}").click()
    timeline = page.get_by_role("region", name="Timeline")
    await reload_until(page, timeline, "task completed")
    story = []
    for text in await timeline.get_by_role("listitem").all_inner_texts():
        found = re.search(r"^(\w+) ([a-z_ ]+?) by (\S+)$", text, re.MULTILINE)
        assert found, text
        if found.group(1) != "notification":
            story.append((found.group(2), found.group(3)))
    return story


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
        # The planner: imports a playbook, plans a campaign, finds its task on the board.
        await sign_in(page, PLANNER)
        await import_playbook(page, f"Launch post {suffix}")
        campaign_id, task_id = await plan_campaign(page, campaign_name, launch)
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

        # The planner: the campaign at 100% in the reports.
        await sign_in(page, PLANNER)
        await nav(page, "Reports")
        row = page.get_by_role("table", name="Campaign progress").get_by_role(
            "row").filter(has_text=campaign_name)
        await reload_until(page, row, "1/1 (100%)")
        await settled(page)
        await screenshot(page, "flow-4-reports")

        # The full story in the audit trail, each step by whom it was done; the campaign
        # as it stood at any event, and the trail's exports.
        story = await audit_story(page, campaign_name)
        assert story == [
            ("campaign planned", PLANNER), ("task opened", PLANNER),
            ("task ready", PLANNER), ("task assigned", PLANNER),
            ("task started", WRITER), ("task submitted", WRITER),
            ("task changes requested", APPROVER), ("task submitted", WRITER),
            ("approval given", APPROVER), ("task approved", APPROVER),
            ("task completed", APPROVER)], story
        await expect(page.get_by_role("region", name="Timeline")).to_contain_text(
            "Reason: approval of submission 2 completes the task")
        await expect(page.get_by_label("As of")).to_be_visible()
        await expect(page.get_by_role("table", name="Tasks then")).to_contain_text(TASK)
        exports = page.get_by_role("navigation", name="Export the audit trail")
        for export in ("JSON Lines", "CSV", "OCEL 2.0"):
            await expect(exports.get_by_role("link", name=export)).to_have_attribute(
                "href", re.compile(rf"subject={campaign_id}"))
        await settled(page)
        await screenshot(page, "flow-5-audit")

        # Expected errors: who-am-I before each sign-in (401), the refused approval (403).
        watch_of(page).assert_clean(allowed=(
            r"/auth/me: 401$", r"401 \(Unauthorized\) at .*/auth/me$",
            r"/approve: 403$", r"403 \(Forbidden\) at .*/approve$"))
