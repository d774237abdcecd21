"""Schemathesis fuzzes every operation of the four OpenAPI documents, in process.

Each service's HTTP app runs as ``tests/unit/in_process.py`` builds it: a SQLite store in
a temporary directory, no Kafka (the lifespan, which would start the relay and the inbox,
is not entered). Every generated request, valid by its schema and not, must get an
answer that is not a 5xx and that the document promised: a documented status code, the
documented media type (``application/problem+json`` for errors), a body matching its
schema and the documented headers.

Bounded: few examples per operation, derandomized so a failure reproduces.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.config import Settings
from shared.runtime import create_http_app
from tests.harness import BUILDERS, LAUNCH_PLAYBOOK, TOKENS, auth
from tests.unit.execution_support import Planning, planned

SERVICES = ("planning", "execution", "notification", "reporting")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class WithoutLifespan:
    """The app with a lifespan that starts nothing: the relay and the inbox would connect
    to Kafka, which is not what these tests are about (read models catch up on each
    query, as in ``in_process.py``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def _document(service: str) -> dict[str, Any]:
    """The service's OpenAPI document, from an app on a throwaway store (the schemas are
    needed when pytest collects the tests; the apps they run against are made per run)."""
    with tempfile.TemporaryDirectory(prefix=f"fuzz-doc-{service}-") as directory:
        app = create_http_app(replace(Settings(service=service), sqlite_dir=Path(directory)),
                              BUILDERS[service], tokens=TOKENS)
        try:
            return app.openapi()
        finally:
            app.state.runtime.application.close()


# The health probes answer 503 when the service is unready or degraded: a documented,
# typed answer (checked against its schema like any other), not a server fault. Here it
# happens once the never-started Kafka connection counts as stalled (30 s): the lifespan
# is not entered on purpose, so the service is degraded, truthfully.
CONFIG = schemathesis.Config.from_dict({"operations": [{
    "include-path-regex": "^/health/",
    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}},
}]})
SCHEMAS = {service: schemathesis.openapi.from_dict(_document(service), config=CONFIG)
           for service in SERVICES}


def _seed_planning(app: Any) -> dict[str, str]:
    """A team, members, a playbook and a campaign planned from it, through the API."""
    client = TestClient(app)  # not entered: no lifespan
    for member_id in ("anna", "ben", "carla"):
        response = client.put(f"/members/{member_id}", headers=auth("anna"),
                              json={"name": member_id.title()})
        assert response.status_code == 200, response.text
    response = client.put("/teams/marketing", headers=auth("anna"),
                          json={"name": "Marketing", "queues": ["writers"]})
    assert response.status_code == 200, response.text
    response = client.post("/playbooks", headers=auth("anna"), json=LAUNCH_PLAYBOOK)
    assert response.status_code == 201, response.text
    playbook_id = response.json()["id"]
    response = client.post("/campaigns", headers=auth("anna"), json={
        "playbook_id": playbook_id, "name": "Spring launch", "launch_date": "2027-03-01",
        "assignments": {"writer": "ben", "designer": "carla"}})
    assert response.status_code == 201, response.text
    return {"member_id": "ben", "team_id": "marketing", "playbook_id": playbook_id,
            "campaign_id": response.json()["id"]}


def _seed_execution(application: Any) -> dict[str, str]:
    """A campaign's tasks, as planning's events would open them (one assigned to the
    fuzzing member, one in a team queue), and an absence that moved work."""
    planning = Planning(application)
    planning.member("anna", "writer", teams=("marketing",))
    planning.member("ben", "writer", teams=("marketing",))
    planning.team("marketing", queues=("writers",))
    mine = planned("brief", assignee="anna")
    campaign_id = planning.campaign(mine, planned("post", assignee=None, queue="writers"),
                                    team_id="marketing")
    absence_id = planning.absence("anna", "ben")
    return {"task_id": str(mine.task_id), "campaign_id": str(campaign_id),
            "member_id": "ben", "queue": "writers", "absence_id": str(absence_id)}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, WithoutLifespan]]:
    """Each service's app on a SQLite store of its own; planning and execution hold a
    few resources, whose ids ``KNOWN_IDS`` gives."""
    built = {service: create_http_app(
        replace(Settings(service=service), sqlite_dir=tmp_path_factory.mktemp(f"fuzz-{service}")),
        BUILDERS[service], tokens=TOKENS) for service in SERVICES}
    try:
        wrapped = {service: WithoutLifespan(app) for service, app in built.items()}
        KNOWN_IDS["planning"] = _seed_planning(wrapped["planning"])
        KNOWN_IDS["execution"] = _seed_execution(built["execution"].state.runtime.application)
        yield wrapped
    finally:
        KNOWN_IDS.clear()
        for app in built.values():
            app.state.runtime.application.close()


KNOWN_IDS: dict[str, dict[str, str]] = {}


def _service(case: Any) -> str:
    title: str = case.operation.schema.raw_schema["info"]["title"]
    return title.removeprefix("Marketflow ")


@schemathesis.pytest.parametrize(**SCHEMAS)
@FUZZ_SETTINGS
def test_every_answer_is_documented(case: Any, apps: dict[str, WithoutLifespan]) -> None:
    """As a planner (``anna``), who gets past authorization almost everywhere. A case
    whose path names a kind of resource that exists is sent again naming it, so that
    reads answer 200 and commands meet real state (409s, 412s), not only 404s."""
    service = _service(case)
    case.call_and_validate(headers=auth("anna"), checks=CHECKS, app=apps[service])
    known = KNOWN_IDS.get(service, {})
    names = [name for name in case.path_parameters or {} if name in known]
    if names:
        case.path_parameters = {**case.path_parameters, **{name: known[name] for name in names}}
        case.call_and_validate(headers=auth("anna"), checks=CHECKS, app=apps[service])


@schemathesis.pytest.parametrize(**SCHEMAS)
@settings(FUZZ_SETTINGS, max_examples=3)
def test_without_a_token_nothing_is_done_and_the_refusal_is_documented(
        case: Any, apps: dict[str, WithoutLifespan]) -> None:
    case.headers = {name: value for name, value in (case.headers or {}).items()
                    if name.lower() != "authorization"}
    response = case.call_and_validate(checks=CHECKS, app=apps[_service(case)])
    if case.operation.definition.raw.get("security"):
        assert response.status_code >= 400, f"{case.operation.label} answered without a token"


@pytest.fixture
def planning_workflow(apps: dict[str, WithoutLifespan]) -> type[Any]:
    """Planning's operations chained by the links schemathesis infers from the document
    (a playbook's id into a campaign, a campaign's into its commands, ...): the fuzzer
    reaches resources that exist, not only 404s."""
    app = apps["planning"]

    class Workflow(SCHEMAS["planning"].as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": auth("anna"), "app": app}

        def validate_response(self, response: Any, case: Any,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    return Workflow


def test_planning_workflows_answer_as_documented(planning_workflow: type[Any]) -> None:
    planning_workflow.run(settings=settings(
        FUZZ_SETTINGS, max_examples=10, stateful_step_count=6))
