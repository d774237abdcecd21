"""What a person does in the web app, as Playwright locators by role and label (each
auto-waits; none sleeps), shared by the browser tests."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

SIGN_IN_HEADING = "Sign in to Marketflow"
STATE_LABELS = {
    "planned": "Planned", "ready": "Ready", "in_progress": "In progress",
    "submitted": "Submitted", "in_review": "In review", "approved": "Approved",
    "done": "Done", "blocked": "Blocked", "cancelled": "Cancelled",
}


async def sign_in(page: Page, member_id: str) -> None:
    """From wherever the page is: to the sign-in page, pick the demo member, sign in;
    signed in when the header names them and My work (or the page asked for) shows."""
    if not re.search(r"/sign-in$", page.url):
        await page.goto("/sign-in")
    await expect(page.get_by_role("heading", name=SIGN_IN_HEADING)).to_be_visible()
    await page.get_by_label("Sign in as").select_option(member_id)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name=SIGN_IN_HEADING)).to_be_visible()


async def nav(page: Page, link: str) -> None:
    """A link of the header's main navigation: My work, Calendar, Reports."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()


async def settled(page: Page) -> None:
    """No "Loading …" status left on the page (every query answered or failed)."""
    await expect(page.get_by_role("status").filter(has_text=re.compile(r"^Loading "))
                 ).to_have_count(0)


def column(page: Page, state: str) -> Locator:
    """A board column (a region named by its heading: "In progress 1")."""
    return page.get_by_role("region", name=re.compile(rf"^{re.escape(STATE_LABELS[state])} \d+$"))


def card(page: Page, title: str) -> Locator:
    """A task's card on the board (the list item holding its link)."""
    return page.locator(".columns").get_by_role("listitem").filter(
        has=page.get_by_role("link", name=title, exact=True))


async def expect_card_in(page: Page, title: str, state: str) -> None:
    await expect(column(page, state).get_by_role("link", name=title, exact=True)).to_be_visible()


async def move_card(page: Page, title: str, state: str, text: str | None = None) -> None:
    """The card's "Move to" menu; a move that needs a reference, a comment or a reason
    asks for it in a small form, filled with ``text`` and sent."""
    await page.get_by_label(f"Move {title} to").select_option(STATE_LABELS[state])
    if text is not None:
        form = page.get_by_role("form", name=re.compile(rf": {re.escape(title)}$"))
        await form.get_by_role("textbox").fill(text)
        await form.get_by_role("button").first.click()
        await expect(form).to_have_count(0)


async def keyboard_drag(page: Page, title: str, state: str) -> None:
    """Drag a card with the keyboard (dnd-kit's sensor: Space picks it up, arrows move
    it, Space drops it): right, one step at a time, until the column shows it is over."""
    target = column(page, state)
    await page.get_by_role("button", name=f"Drag {title}").focus()
    await page.keyboard.press("Space")
    for _ in range(80):
        if "over" in ((await target.get_attribute("class")) or "").split():
            break
        await page.keyboard.press("ArrowRight")
    else:
        raise AssertionError(f"dragging {title} by keyboard never reached {state}")
    await page.keyboard.press("Space")


def problem(page: Page) -> Locator:
    """The alert showing a refusal: the server's problem details."""
    return page.get_by_role("alert")
