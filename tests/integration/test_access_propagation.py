"""Access decided once, on planning, holds on every service within seconds, without a
restart: an API token issued there opens execution, notification and reporting once its
event arrives, and stops opening them when revoked; a member made inactive is refused
everywhere; a role given on planning works on the other services."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.harness import Environment, RunningService, auth, eventually, start_service

pytestmark = pytest.mark.integration


async def status_with(service: RunningService, token: str, path: str) -> int:
    response = await service.http.get(path, headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_a_token_issued_and_revoked_on_planning_holds_on_every_service(
        sqlite_env: Environment, capsys: pytest.CaptureFixture[str]) -> None:
    names = ("planning", "execution", "notification", "reporting")
    services = {name: await start_service(sqlite_env, name) for name in names}
    planning = services["planning"]
    probes = {"execution": "/tasks", "notification": "/notifications",
              "reporting": "/archive"}
    try:
        for member_id, roles in (("ben", []), ("audrey", ["auditor"])):
            answer = await planning.http.put(f"/members/{member_id}", headers=auth("anna"),
                                             json={"name": member_id.title(), "roles": roles})
            assert answer.status_code == 200, answer.text
        issued = await planning.http.post("/api-tokens", headers=auth("anna"), json={
            "principal_id": "audrey", "label": "audit export script"})
        assert issued.status_code == 201, issued.text
        token: str = issued.json()["token"]
        started = time.monotonic()
        for name, path in probes.items():
            async def opens(name: str = name, path: str = path) -> bool:
                # The directory's auditor role, not only the token, opens the archive.
                return await status_with(services[name], token, path) == 200
            await eventually(opens, timeout=30, what=f"{name} to accept the new token")
        accepted = time.monotonic() - started

        revoked = await planning.http.delete(f"/api-tokens/{issued.json()['token_id']}",
                                             headers=auth("anna"))
        assert revoked.status_code == 200, revoked.text
        assert await status_with(planning, token, "/members") == 401
        started = time.monotonic()
        for name, path in probes.items():
            async def refuses(name: str = name, path: str = path) -> bool:
                return await status_with(services[name], token, path) == 401
            await eventually(refuses, timeout=30, what=f"{name} to refuse the revoked token")
        refused = time.monotonic() - started
        with capsys.disabled():
            print(f"\n  API token accepted everywhere after {accepted:.2f}s, refused "
                  f"everywhere {refused:.2f}s after its revocation")

        # Deactivating a member in the directory closes every service to them.
        answer = await planning.http.put("/members/ben", headers=auth("anna"),
                                         json={"name": "Ben", "active": False})
        assert answer.status_code == 200, answer.text
        for name, path in probes.items():
            if name == "reporting":
                continue

            async def closed(name: str = name, path: str = path) -> Any:
                response = await services[name].http.get(path, headers=auth("ben"))
                return response.status_code == 401 and "no longer active" in response.text
            await eventually(closed, timeout=30, what=f"{name} to refuse an inactive member")
    finally:
        for service in services.values():
            await service.stop()
