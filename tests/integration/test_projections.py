"""Persisted read models against the real stores: `marketflow projections verify` after a
mixed workload finds no difference (and does find a tampered row), `rebuild` repairs it,
and lists page with cursors."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from typer.testing import CliRunner

from services.cli import app as cli
from tests.harness import Environment, RunningService, auth, eventually, plan_launch, start_service

pytestmark = pytest.mark.integration
SERVICES = ("planning", "execution", "notification", "reporting")


@pytest.fixture
async def system(env: Environment) -> AsyncIterator[dict[str, RunningService]]:
    services = {name: await start_service(env, name) for name in SERVICES}
    yield services
    for service in services.values():
        await service.stop()


def run_cli(env: Environment, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={
        "MARKETFLOW_STORE": env.store, "MARKETFLOW_SQLITE_DIR": str(env.sqlite_dir),
        "MARKETFLOW_POSTGRES_URL": env.postgres_url, "MARKETFLOW_NAMESPACE": env.namespace,
        "COLUMNS": "200"})
    return result.exit_code, result.output


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def mixed_workload(system: dict[str, RunningService]) -> str:
    """Directory, campaign, task lifecycle, a reschedule, an absence, a goal, a
    notification read: a little of everything each read model folds."""
    planning, execution = system["planning"], system["execution"]
    notification, reporting = system["notification"], system["reporting"]
    anna = auth("anna")
    await ok(await planning.http.put("/teams/content", headers=anna, json={
        "name": "Content", "country": "FI"}))
    for member, roles in (("anna", ["planner"]), ("ben", ["writer"]), ("carla", ["designer"])):
        await ok(await planning.http.put(f"/members/{member}", headers=anna, json={
            "name": member.title(), "roles": roles, "team_ids": ["content"]}))
    today = dt.date.today()
    goal = await ok(await planning.http.post("/goals", headers=anna, json={
        "name": "Awareness", "kind": "awareness", "weight": 1, "kpi": {
            "name": "visits", "target": 100, "period_start": today.isoformat(),
            "period_end": (today + dt.timedelta(days=90)).isoformat()}}), 201)
    await ok(await planning.http.post(f"/goals/{goal['id']}/measurements", headers=anna,
                                      json={"value": 40, "measured_on": today.isoformat()}),
             201)
    campaign = await plan_launch(planning)

    async def bens_tasks() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = (await execution.http.get(
            "/tasks", params={"assignee": "me"}, headers=auth("ben"))).json()
        return rows if len(rows) == 2 else None

    tasks = await eventually(bens_tasks, what="ben's two tasks")
    brief = next(task for task in tasks if task["key"] == "brief")
    await ok(await execution.http.post(f"/tasks/{brief['id']}/start", headers=auth("ben")))
    await ok(await execution.http.post(f"/tasks/{brief['id']}/comments", headers=auth("ben"),
                                       json={"text": "draft is in the drive"}), 201)
    await ok(await execution.http.post(f"/tasks/{brief['id']}/complete", headers=auth("ben")))
    await ok(await planning.http.post(f"/campaigns/{campaign['id']}/reschedule", headers=anna,
                                      json={"launch_date": "2027-03-15"}))
    await ok(await planning.http.post("/members/carla/absences", headers=anna, json={
        "starts_on": dt.date.today().isoformat(),
        "ends_on": (dt.date.today() + dt.timedelta(days=3)).isoformat(),
        "backup_member_id": "ben", "reason": "holiday"}), 201)

    async def carlas_work_moved() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = (await execution.http.get(
            "/absences", headers=anna)).json()
        return rows if rows and rows[0]["moved"] else None

    await eventually(carlas_work_moved, what="carla's task to move to ben")
    notes = await eventually(lambda: _json(notification.http.get(
        "/notifications", headers=auth("ben"))), what="ben's notifications")
    await ok(await notification.http.post(f"/notifications/{notes[0]['id']}/read",
                                          headers=auth("ben")))

    async def reported() -> dict[str, Any] | None:
        response = await reporting.http.get(f"/campaigns/{campaign['id']}/progress",
                                            headers=anna)
        report: dict[str, Any] = response.json()
        return report if response.status_code == 200 and report["tasks_done"] == 1 \
            and report["launch_date"] == "2027-03-15" else None

    await eventually(reported, what="reporting to see the done task and the new launch date")
    return str(campaign["id"])


async def _json(request: Any) -> Any:
    response = await request
    return response.json() if response.status_code == 200 else None


async def test_verify_finds_no_difference_after_a_mixed_workload_and_catches_tampering(
        system: dict[str, RunningService], env: Environment) -> None:
    await mixed_workload(system)

    code, output = run_cli(env, "projections", "verify")
    assert code == 0, output
    assert output.count(": 0 differences") == 20, output  # every projection of all four

    # The archive's Merkle tree: a signed head, then the store recomputed against it.
    code, output = run_cli(env, "audit", "tree-head")
    assert code == 0 and "tree_size" in output, output
    code, output = run_cli(env, "audit", "verify")
    assert code == 0 and "verified" in output, output

    # A row changed behind the fold's back is found, named, and repaired by a rebuild.
    board = system["execution"].application.board
    with board.store.transaction(commit=True) as sql:
        sql.execute(f"UPDATE {board.table('tasks')} SET status = 'bogus' WHERE key = 'post'")
    code, output = run_cli(env, "projections", "verify", "--service", "execution")
    assert code == 1, output
    assert "rm_tasks" in output and "1 changed" in output and "bogus" in output, output

    code, output = run_cli(env, "projections", "rebuild", "-p", "execution.task_board")
    assert code == 0 and "rebuilt execution.task_board" in output, output
    code, output = run_cli(env, "projections", "verify", "-s", "execution")
    assert code == 0, output
    # The running service reads the swapped-in tables.
    rows = (await system["execution"].http.get("/tasks", headers=auth("anna"))).json()
    assert "bogus" not in {row["status"] for row in rows}

    code, output = run_cli(env, "projections", "list")
    assert code == 0 and "execution.task_board" in output, output
    code, output = run_cli(env, "projections", "verify", "-p", "nonsense")
    assert code == 2 and "no projection 'nonsense'" in output, output


async def test_lists_page_with_a_cursor_in_the_link_header(
        system: dict[str, RunningService]) -> None:
    planning = system["planning"]
    for member in ("m1", "m2", "m3", "m4", "m5"):
        await ok(await planning.http.put(f"/members/{member}", headers=auth("anna"), json={
            "name": member, "roles": ["writer"]}))
    seen: list[str] = []
    url: str | None = "/members?limit=2"
    pages = 0
    while url:
        response = await planning.http.get(url, headers=auth("anna"))
        page = await ok(response)
        assert len(page) <= 2
        seen += [row["member_id"] for row in page]
        link = response.headers.get("link")
        url = link.split(";")[0].strip("<> ") if link else None
        pages += 1
    assert seen == ["m1", "m2", "m3", "m4", "m5"] and pages == 3

    response = await planning.http.get("/members?cursor=not-a-cursor", headers=auth("anna"))
    assert response.status_code == 422 and "cursor" in response.text
    response = await planning.http.get("/members?limit=0", headers=auth("anna"))
    assert response.status_code == 422
