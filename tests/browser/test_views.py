"""Every view of the web app renders with make run's demo data, in a real browser: the
planner signs in by clicking the demo member picker, then each view is opened by its
address and must show its content (not a spinner) with no console error, no failed
request, no error answer and no serious or critical accessibility violation (axe-core).
A screenshot of each goes to ``var/test-output/screenshots/view-<name>.png``.

One system is seeded for the module (the views only read it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Browser, Page, StorageState, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import WebStack, open_page, screenshot, watch_of
from tests.browser.demo import PLANNER, Demo, seed_demo
from tests.browser.ui import column, settled, sign_in

pytestmark = pytest.mark.integration

DETAIL_TASK = "Agree positioning and key messages"  # ready at once: no predecessor


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
    await expect(page.get_by_role("heading", name="Campaign board")).to_be_visible()
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


VIEWS = [
    View("my-work", lambda demo: "/", my_work),
    View("calendar", lambda demo: f"/calendar?year={demo.launch_date.year}", calendar),
    View("reports", lambda demo: "/reports", reports),
    View("board", lambda demo: f"/campaigns/{demo.campaign_id}/board", board),
    View("card-detail", lambda demo: (f"/campaigns/{demo.campaign_id}/board/tasks/"
                                      f"{demo.tasks[DETAIL_TASK]['id']}"), card_detail),
]


@pytest.fixture(scope="module")
async def demo(module_web_stack: WebStack) -> Demo:
    return await seed_demo(module_web_stack)


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


@pytest.fixture
async def planner_page(browser: Browser, module_web_stack: WebStack,
                       planner_session: StorageState, request: pytest.FixtureRequest
                       ) -> AsyncIterator[Page]:
    async with open_page(browser, module_web_stack.url, request.node.name,
                         storage_state=planner_session) as page:
        yield page


@pytest.mark.parametrize("view", VIEWS, ids=[view.name for view in VIEWS])
async def test_the_view_renders_the_demo_data(planner_page: Page, demo: Demo,
                                              view: View) -> None:
    page = planner_page
    await page.goto(view.path(demo))
    await view.content(page, demo)
    await settled(page)
    await assert_accessible(page, known=view.known_axe)
    await screenshot(page, f"view-{view.name}")
    watch_of(page).assert_clean()
