"""Every view of the web app renders with make run's demo data, in a real browser: the
planner signs in by clicking the demo member picker, then each view is opened by its
address and must show its content (not a spinner) with no console error, no failed
request, no error answer and no serious or critical accessibility violation (axe-core).
A screenshot of each goes to ``var/test-output/screenshots/view-<name>.png``.

One system is seeded for the module (the views only read it)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Browser, Page, StorageState, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import WebStack, open_page, screenshot, watch_of
from tests.browser.demo import PLANNER, Demo, seed_demo
from tests.browser.ui import column, settled, sign_in

pytestmark = pytest.mark.integration

DETAIL_TASK = "Agree positioning and key messages"  # ready at once: no predecessor
PLAYBOOK = "Product launch"  # the demo campaign's
WRITER = "ben"  # the demo's writer: a plain contributor


@dataclass(frozen=True)
class View:
    name: str
    path: Callable[[Demo], str]
    content: Callable[[Page, Demo], Awaitable[None]]
    """Waits for what the view must show with the demo data."""
    known_axe: dict[str, str] = field(default_factory=dict)
    """Known app bugs: axe rule id -> what is wrong (``known_bugs.py``)."""


async def my_work(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    tasks = page.get_by_role("region", name="My tasks by due date")
    # The planner is the campaign's marketing manager: the launch and the retro are hers.
    await expect(tasks.get_by_role("link", name="Launch", exact=True)).to_be_visible()
    await expect(page.get_by_role("region", name="Approvals waiting for me")).to_be_visible()
    await expect(page.get_by_role("region", name="My notifications")).to_be_visible()
    await expect(page.get_by_role("link", name="unread notifications")).to_be_visible()


async def calendar(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name=f"Year calendar {demo.launch_date.year}")
                 ).to_be_visible()
    month = page.get_by_role("region", name=demo.launch_date.strftime("%B"))
    await expect(month.get_by_role("link", name=demo.campaign_name)).to_be_visible()
    await expect(page.get_by_role("link", name="Download the member calendar (.ics)")
                 ).to_be_visible()
    # The year buttons are named by what they show (WCAG 2.5.3, label in name).
    year = demo.launch_date.year
    await expect(page.get_by_role("button", name=f"Previous year, {year - 1}")).to_be_visible()
    await expect(page.get_by_role("button", name=f"Next year, {year + 1}")).to_be_visible()


async def reports(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Campaign progress")
    row = table.get_by_role("row").filter(has_text=demo.campaign_name)
    await expect(row).to_contain_text(f"0/{len(demo.tasks)}")
    await expect(page.get_by_role("figure", name="Percent done by campaign")).to_be_visible()


async def board(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name=f"{demo.campaign_name}: board", level=1)
                 ).to_be_visible()
    await expect(column(page, "ready").get_by_role("link", name=DETAIL_TASK)).to_be_visible()
    await expect(column(page, "planned").get_by_role("link", name="Launch", exact=True)
                 ).to_be_visible()


async def card_detail(page: Page, demo: Demo) -> None:
    await board(page, demo)
    detail = page.get_by_role("complementary", name="Task detail")
    await expect(detail.get_by_role("heading", name=DETAIL_TASK)).to_be_visible()
    await expect(detail.get_by_role("heading", name="Who must act")).to_be_visible()
    # product-marketer goes to the content queue: anyone there can claim it.
    await expect(detail).to_contain_text("Anyone who can claim from queue content.")
    await expect(detail.get_by_text("marketing-manager — 0/1")).to_be_visible()


async def campaigns(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
    await expect(page.get_by_role("link", name=demo.campaign_name, exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name=f"Audit of {demo.campaign_name}")).to_be_visible()


async def playbooks(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="Playbooks", level=1)).to_be_visible()
    for name in demo.playbooks:
        await expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    await expect(page.get_by_label("Import playbook (YAML)")).to_be_visible()


async def playbook(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", level=1)).to_contain_text(PLAYBOOK)
    await expect(page.get_by_role("heading", name="Phases and tasks")).to_be_visible()
    await expect(page.get_by_role("cell", name=DETAIL_TASK).or_(
        page.get_by_role("rowheader", name=DETAIL_TASK)).first).to_be_visible()
    await expect(page.get_by_role("heading", name="Responsibilities")).to_be_visible()
    plan = page.get_by_role("region", name="Plan a campaign")
    await expect(plan.get_by_role("button", name="Plan a campaign", exact=True)).to_be_visible()


async def timeline(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name=f"{demo.campaign_name}: timeline", level=1)
                 ).to_be_visible()
    await expect(page.get_by_text("critical path highlighted")).to_be_visible()
    await expect(page.get_by_role("heading", name="Reschedule")).to_be_visible()


async def campaign_audit(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="Campaign audit trail")).to_be_visible()
    await expect(page.get_by_role("region", name="Timeline")).to_contain_text("campaign planned")
    await expect(page.get_by_label("As of")).to_be_visible()
    await expect(page.get_by_role("table", name="Tasks then")).to_contain_text(DETAIL_TASK)
    await expect(page.get_by_role("navigation", name="Export the audit trail")
                 .get_by_role("link", name="CSV")).to_be_visible()


async def task_audit(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="Task audit trail")).to_be_visible()
    await expect(page.get_by_role("region", name="Timeline")).to_contain_text("task opened")


async def member_audit(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="Member audit trail")).to_be_visible()
    await expect(page.get_by_role("region", name="Everything they did or had done for them")
                 ).to_contain_text("campaign planned")


async def team(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    await expect(page.get_by_role("region", name="Members")).to_contain_text("Anna")
    await expect(page.get_by_role("region", name="Workload by week")).to_be_visible()


async def notifications(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    await expect(page.get_by_role("button", name="Mark all read")).to_be_visible()


async def preferences(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="Preferences", level=1)).to_be_visible()
    await expect(page.get_by_role("form", name="How you hear")).to_be_visible()
    await expect(page.get_by_label("Time zone")).to_be_visible()
    await expect(page.get_by_role("region", name="Your webhooks")).to_be_visible()


async def task_link(page: Page, demo: Demo) -> None:
    """/tasks/:id (the notification service's links) replaces itself with the card."""
    await expect(page).to_have_url(re.compile(
        rf"/campaigns/{demo.campaign_id}/board/tasks/{demo.tasks[DETAIL_TASK]['id']}$"))
    await card_detail(page, demo)


VIEWS = [
    View("my-work", lambda demo: "/", my_work),
    View("calendar", lambda demo: f"/calendar?year={demo.launch_date.year}", calendar),
    View("reports", lambda demo: "/reports", reports),
    View("board", lambda demo: f"/campaigns/{demo.campaign_id}/board", board),
    View("card-detail", lambda demo: (f"/campaigns/{demo.campaign_id}/board/tasks/"
                                      f"{demo.tasks[DETAIL_TASK]['id']}"), card_detail),
    View("campaigns", lambda demo: "/campaigns", campaigns),
    View("playbooks", lambda demo: "/playbooks", playbooks),
    View("playbook", lambda demo: f"/playbooks/{demo.playbooks[PLAYBOOK]}", playbook),
    View("timeline", lambda demo: f"/campaigns/{demo.campaign_id}/timeline", timeline),
    View("campaign-audit", lambda demo: f"/audit/campaigns/{demo.campaign_id}", campaign_audit),
    View("task-audit", lambda demo: f"/audit/tasks/{demo.tasks[DETAIL_TASK]['id']}",
         task_audit),
    View("member-audit", lambda demo: f"/audit/members/{PLANNER}", member_audit),
    View("team", lambda demo: "/team", team),
    View("notifications", lambda demo: "/notifications", notifications),
    View("preferences", lambda demo: "/preferences", preferences),
    View("task-link", lambda demo: f"/tasks/{demo.tasks[DETAIL_TASK]['id']}", task_link),
]


async def writer_my_work(page: Page, demo: Demo) -> None:
    await expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    tasks = page.get_by_role("region", name="My tasks by due date")
    # The writer writes the campaign's copy (the demo assigns the writer role to ben).
    await expect(tasks.get_by_role("link").first).to_be_visible()
    await expect(page.get_by_role("region", name="Approvals waiting for me")).to_be_visible()


async def writer_campaigns(page: Page, demo: Demo) -> None:
    await campaigns(page, demo)
    # Progress of the campaigns they work on (the report of every campaign is not theirs).
    await expect(page.get_by_label(f"{demo.campaign_name}: 0% done")).to_be_visible()


CONTRIBUTOR_VIEWS = [
    View("my-work", lambda demo: "/", writer_my_work),
    View("campaigns", lambda demo: "/campaigns", writer_campaigns),
    View("notifications", lambda demo: "/notifications", notifications),
    View("preferences", lambda demo: "/preferences", preferences),
    View("board", lambda demo: f"/campaigns/{demo.campaign_id}/board", board),
]


@pytest.fixture(scope="module")
async def demo(module_web_stack: WebStack) -> Demo:
    return await seed_demo(module_web_stack)


@pytest.fixture(scope="module")
async def writer_session(browser: Browser, module_web_stack: WebStack, demo: Demo
                         ) -> StorageState:
    """The writer (a contributor) signed in the same way."""
    async with open_page(browser, module_web_stack.url, "view-sign-in-writer") as page:
        await sign_in(page, WRITER)
        await expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
        watch_of(page).assert_clean(allowed=(r"/auth/me: 401$",
                                             r"401 \(Unauthorized\) at .*/auth/me$"))
        return await page.context.storage_state()


@pytest.fixture(scope="module")
async def planner_session(browser: Browser, module_web_stack: WebStack, demo: Demo
                          ) -> StorageState:
    """The planner signed in by clicking the sign-in page's demo member picker; the
    browser state (the session cookie) each view's page starts from."""
    async with open_page(browser, module_web_stack.url, "view-sign-in") as page:
        await page.goto("/")
        await expect(page).to_have_url(f"{module_web_stack.url}/sign-in")
        await settled(page)
        await assert_accessible(page)
        await screenshot(page, "view-sign-in")
        await sign_in(page, PLANNER)
        await expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
        # Before signing in, who-am-I answers 401: the one expected error.
        watch_of(page).assert_clean(allowed=(r"/auth/me: 401$",
                                             r"401 \(Unauthorized\) at .*/auth/me$"))
        return await page.context.storage_state()


async def check_view(browser: Browser, stack: WebStack, session: StorageState, demo: Demo,
                     view: View, test_name: str, shot: str) -> None:
    """Opens the view in a fresh page of the signed-in session: its content shows, the
    page settles with no console error or failed request, and passes the axe scan."""
    async with open_page(browser, stack.url, test_name, storage_state=session) as page:
        await page.goto(view.path(demo))
        await view.content(page, demo)
        await settled(page)
        await assert_accessible(page, known=view.known_axe)
        await screenshot(page, shot)
        watch_of(page).assert_clean()


@pytest.mark.parametrize("view", VIEWS, ids=[view.name for view in VIEWS])
async def test_the_view_renders_the_demo_data(browser: Browser, module_web_stack: WebStack,
                                              planner_session: StorageState, demo: Demo,
                                              view: View, request: pytest.FixtureRequest
                                              ) -> None:
    await check_view(browser, module_web_stack, planner_session, demo, view,
                     request.node.name, f"view-{view.name}")


@pytest.mark.parametrize("view", CONTRIBUTOR_VIEWS, ids=[view.name for view in CONTRIBUTOR_VIEWS])
async def test_the_view_renders_for_a_contributor(browser: Browser, module_web_stack: WebStack,
                                                  writer_session: StorageState, demo: Demo,
                                                  view: View, request: pytest.FixtureRequest
                                                  ) -> None:
    """A plain contributor's views ask only for what they may read: no 403 on the way."""
    await check_view(browser, module_web_stack, writer_session, demo, view,
                     request.node.name, f"view-writer-{view.name}")
