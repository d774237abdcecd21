"""The demo data of ``make run`` (``deploy/local/seed_demo.py``), seeded the same way
(its functions, through the public API) into a browser test's system: here through the
BFF's ``/api/planning`` with the planner's session, as the web app would send it.

seed_demo's functions take a blocking ``httpx.Client``; the BFF serves in this test's
event loop, so they run in a worker thread (``asyncio.to_thread``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from deploy.local.seed_demo import DEMO_CAMPAIGN, DEMO_TEAM, seed_directory, seed_playbooks
from tests.browser.conftest import WebStack
from tests.harness import auth, eventually
from tests.web_support import CSRF

PLANNER = "anna"


@dataclass(frozen=True)
class Demo:
    campaign_id: str
    campaign_name: str
    launch_date: dt.date
    playbooks: dict[str, str]
    tasks: dict[str, dict[str, Any]]
    """The campaign's tasks by title, as execution's board lists them."""


@contextmanager
def planning_client(stack: WebStack, member_id: str = PLANNER) -> Iterator[httpx.Client]:
    """A blocking client on planning through the BFF, signed in as ``member_id``."""
    with httpx.Client(base_url=f"{stack.url}/api/planning", headers=CSRF,
                      timeout=10) as client:
        client.post(f"{stack.url}/auth/demo-login",
                    json={"member_id": member_id}).raise_for_status()
        yield client


def seed_demo_directory(stack: WebStack) -> None:
    """The demo team and its members (planner, writer, designers, brand and legal
    approvers), as ``make run`` seeds them."""
    with planning_client(stack) as client:
        seed_directory(client)


def _seed(stack: WebStack, launch: dt.date) -> tuple[dict[str, str], dict[str, Any]]:
    with planning_client(stack) as client:
        seed_directory(client)
        playbooks = seed_playbooks(client)
        # As seed_demo.main plans it (its launch two months ahead).
        campaign = client.post("/campaigns", json={
            "playbook_id": playbooks["Product launch"], "name": DEMO_CAMPAIGN,
            "launch_date": launch.isoformat(), "team_id": DEMO_TEAM,
            "assignments": {"marketing-manager": "anna", "writer": "ben",
                            "designer": "carla", "web": "dave"},
            "queues": {"product-marketer": "content"},
        }).raise_for_status().json()
    return playbooks, campaign


async def seed_demo(stack: WebStack) -> Demo:
    """make run's demo, and once execution and reporting have it (the views read them)."""
    launch = dt.date.today() + dt.timedelta(days=60)
    playbooks, campaign = await asyncio.to_thread(_seed, stack, launch)
    campaign_id = campaign["id"]
    tasks = await wait_for_board(stack, campaign_id)

    async def progress() -> bool:
        response = await stack.services["reporting"].http.get(
            f"/campaigns/{campaign_id}/progress", headers=auth(PLANNER))
        return response.status_code == 200 and response.json()["tasks_total"] == len(tasks)

    await eventually(progress, what="the demo campaign's progress in reporting")
    return Demo(campaign_id, DEMO_CAMPAIGN, launch, playbooks, tasks)


async def wait_for_board(stack: WebStack, campaign_id: str, *, tasks: int | None = None
                         ) -> dict[str, dict[str, Any]]:
    """The campaign's tasks by title once execution has opened them (from planning's
    events, over Kafka): ``tasks`` of them, or any."""
    async def board() -> dict[str, dict[str, Any]] | None:
        response = await stack.services["execution"].http.get(
            f"/campaigns/{campaign_id}/board", headers=auth(PLANNER))
        if response.status_code != 200:
            return None
        found = {task["title"]: task for column in response.json()["columns"].values()
                 for task in column}
        return found if found and (tasks is None or len(found) == tasks) else None

    return await eventually(board, what=f"campaign {campaign_id}'s tasks in execution")
