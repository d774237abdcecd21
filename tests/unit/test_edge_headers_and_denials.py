"""Every answer says its type is not to be sniffed, and every denial (403) is logged
with who asked, for what, and why it was refused."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from tests.unit.execution_support import Planning, planned
from tests.unit.in_process import auth, service_client


def test_every_answer_forbids_sniffing_its_type(tmp_path: Path) -> None:
    with service_client("execution", tmp_path) as client:
        answers = [
            client.get("/tasks", headers=auth("ben")),  # 200
            client.get("/tasks"),  # 401 problem
            client.get(f"/tasks/{uuid.uuid4()}", headers=auth("ben")),  # 404 problem
            client.get("/health/live"),
        ]
        for response in answers:
            assert response.headers["x-content-type-options"] == "nosniff", response.url


def test_a_denial_is_logged_with_actor_action_and_reason(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with service_client("execution", tmp_path) as client, \
            caplog.at_level(logging.WARNING, logger="shared.http_errors"):
        planning = Planning(client.application)
        planning.member("anna", "planner")
        planning.member("ben", "writer")
        brief = planned("brief")
        planning.campaign(brief)
        task_id = brief.task_id
        response = client.post(f"/tasks/{task_id}/cancel", json={"reason": "not needed"},
                               headers=auth("ben"))
    assert response.status_code == 403, response.text
    [denial] = [record for record in caplog.records if record.getMessage() == "request denied"]
    assert denial.actor == "ben"  # type: ignore[attr-defined]
    assert denial.method == "POST"  # type: ignore[attr-defined]
    assert denial.path == f"/tasks/{task_id}/cancel"  # type: ignore[attr-defined]
    assert "cancel" in denial.reason  # type: ignore[attr-defined]
