"""The access policy, tried operation by operation: generated from each service's OpenAPI
document and its policy table, never listed by hand.

For every operation of every service and every role, the request is sent as that role
against a small world where the resources named in the path belong to ``cora`` of team
``brand`` (managed by ``max``): the answer must be 403 exactly when the policy table says
the role may not, and never 401, 403 or 5xx when it says it may. Every operation is also
tried with no token, a malformed one, an expired and a wrongly signed OpenID Connect token
(from a real provider, ``oidc-provider-mock``), a revoked and an expired API token: 401.
An operation whose action is not in the service's table fails the test, as does one the
world has no example body for.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts import IntegrationEvent, execution, planning
from services.execution.policy import POLICY as EXECUTION_POLICY
from services.notification.policy import POLICY as NOTIFICATION_POLICY
from services.planning.domain import PlaybookSpec
from services.planning.playbook_files import playbook_to_yaml
from services.planning.policy import POLICY as PLANNING_POLICY
from services.reporting.policy import POLICY as REPORTING_POLICY
from shared import cloudevents
from shared.auth import Member, TokenRegistry
from shared.config import Settings
from shared.oidc import OidcSettings
from shared.policy import ACTION_EXTENSION, Caller, Policy, Resource, Role
from shared.runtime import create_http_app
from tests.harness import BUILDERS, LAUNCH_PLAYBOOK
from tests.oidc_provider import CLIENT_ID, running_provider, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib")

BRAND, WEB = "brand", "web"
# Who calls, and who the service must take them for.
CALLERS: dict[str, tuple[Member, Caller]] = {
    "admin": (Member("ada", "Ada", frozenset({Role.ADMIN})), Caller.person("ada", Role.ADMIN)),
    "planner": (Member("pia", "Pia", frozenset({Role.PLANNER})),
                Caller.person("pia", Role.PLANNER)),
    "team-manager": (Member("max", "Max"), Caller.person(
        "max", teams=frozenset({BRAND}), managed_teams=frozenset({BRAND}),
        reports=frozenset({"cora"}))),
    "contributor": (Member("cora", "Cora"), Caller.person("cora", teams=frozenset({BRAND}))),
    "contributor of another team": (Member("otto", "Otto"),
                                    Caller.person("otto", teams=frozenset({WEB}))),
    "approver": (Member("alma", "Alma"), Caller.person("alma", teams=frozenset({BRAND}))),
    "auditor": (Member("aud", "Aud", frozenset({Role.AUDITOR})),
                Caller.person("aud", Role.AUDITOR)),
    "integration": (Member("svc-crm", "CRM", frozenset({Role.INTEGRATION}),
                           service_account=True),
                    Caller("svc-crm", "CRM", frozenset({Role.INTEGRATION}),
                           service_account=True)),
}
TOKENS = TokenRegistry({f"token-{member.member_id}": member
                        for member, _ in CALLERS.values()})
# What the operations' path parameters name: cora's, in team brand, approved by alma.
SUBJECT = Resource.of(owners=["cora"], teams=[BRAND], approvers=["alma"])
TODAY = dt.date.today()


def bearer(member_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer token-{member_id}"}


ADA = bearer("ada")


@dataclass
class World:
    """A service with the resources its operations name."""

    client: TestClient
    policy: Policy
    path: dict[str, str]
    query: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    bodies: dict[tuple[str, str], Any] = field(default_factory=dict)
    refused_tokens: dict[str, str] = field(default_factory=dict)
    """Credentials every operation must answer 401 to, by what is wrong with them."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    expired_token: str
    foreign_token: str


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """The configured provider issues only expired tokens; another provider (other keys)
    signs a token the services must refuse."""
    with running_provider(access_token_max_age=dt.timedelta(seconds=-120)) as issuer:
        expired = sign_in(issuer, "cora", {})["id_token"]
        with running_provider() as foreign:
            stranger = sign_in(foreign, "cora", {})["id_token"]
        yield Provider(issuer, expired, stranger)


@contextmanager
def service(name: str, directory: Path, provider: Provider) -> Iterator[TestClient]:
    settings = replace(Settings(service=name), sqlite_dir=directory)
    oidc = OidcSettings(issuer=provider.issuer, audiences=(CLIENT_ID,))
    app = create_http_app(settings, BUILDERS[name], tokens=TOKENS, oidc_settings=oidc)
    client = TestClient(app, raise_server_exceptions=False)
    try:
        yield client
    finally:
        app.state.runtime.application.close()


def created(client: TestClient, path: str, body: Any) -> dict[str, Any]:
    answer = client.post(path, json=body, headers=ADA)
    assert answer.status_code == 201, (path, answer.text)
    found: dict[str, Any] = answer.json()
    return found


# --- the worlds ------------------------------------------------------------------------------


def planning_world(client: TestClient, provider: Provider) -> World:
    for team in (BRAND, WEB):
        assert client.put(f"/teams/{team}", json={"name": team.title()},
                          headers=ADA).status_code == 200
    members = {"max": [BRAND], "cora": [BRAND], "alma": [BRAND], "otto": [WEB]}
    for member_id, teams in members.items():
        assert client.put(f"/members/{member_id}", headers=ADA, json={
            "name": member_id.title(), "team_ids": teams, "roles": ["writer", "designer"],
            "manager_id": "max" if member_id != "max" else None}).status_code == 200
    team_profile = {"name": "Brand", "manager_id": "max"}
    assert client.put(f"/teams/{BRAND}", json=team_profile, headers=ADA).status_code == 200
    playbook = created(client, "/playbooks", LAUNCH_PLAYBOOK)
    plan = {"playbook_id": playbook["id"], "name": "Spring launch", "team_id": BRAND,
            "launch_date": (TODAY + dt.timedelta(days=90)).isoformat(),
            "assignments": {"writer": "cora", "designer": "cora"}}
    campaign = created(client, "/campaigns", plan)
    goal_body = {"name": "Leads", "kind": "sales_support", "weight": 2, "kpi": {
        "name": "qualified leads", "target": 100, "period_start": TODAY.isoformat(),
        "period_end": (TODAY + dt.timedelta(days=300)).isoformat()}}
    goal = created(client, "/goals", goal_body)
    routine_body = {"name": "Weekly post", "playbook_id": playbook["id"],
                    "rule": "FREQ=WEEKLY", "starts_on": TODAY.isoformat(),
                    "horizon_days": 7, "team_id": BRAND,
                    "assignments": {"writer": "cora", "designer": "cora"}}
    routine = created(client, "/routines", routine_body)
    absence_body = {"starts_on": (TODAY + dt.timedelta(days=200)).isoformat(),
                    "ends_on": (TODAY + dt.timedelta(days=201)).isoformat(),
                    "reason": "medical leave"}
    absence = created(client, "/members/cora/absences", absence_body)
    feed = created(client, "/members/cora/calendar-feeds", {"kind": "member", "id": "cora"})
    token_body = {"principal_id": "svc-sync", "label": "sync", "service_account": True,
                  "roles": ["integration"]}
    token = created(client, "/api-tokens", token_body)
    revoked = created(client, "/api-tokens", {**token_body, "label": "revoked"})
    assert client.delete(f"/api-tokens/{revoked['token_id']}", headers=ADA).status_code == 200
    expiring = created(client, "/api-tokens", {
        **token_body, "label": "expiring",
        "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()})
    time.sleep(max(0.0, (dt.datetime.fromisoformat(expiring["expires_at"])
                         - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)
    period = {"from": TODAY.isoformat(), "to": (TODAY + dt.timedelta(days=30)).isoformat()}
    spec = PlaybookSpec.model_validate(LAUNCH_PLAYBOOK)
    return World(
        client, PLANNING_POLICY,
        path={"playbook_id": playbook["id"], "campaign_id": campaign["id"],
              "routine_id": routine["id"], "goal_id": goal["id"], "team_id": BRAND,
              "member_id": "cora", "absence_id": absence["absence_id"],
              "feed_id": feed["feed_id"], "token_id": token["token_id"]},
        query={("GET", "/calendar"): period,
               ("GET", "/teams/{team_id}/closed-days"): period,
               ("GET", "/playbooks/{playbook_id}/diff"): {"from": "1", "to": "1"}},
        bodies={
            ("POST", "/playbooks"): LAUNCH_PLAYBOOK,
            ("POST", "/playbooks/import"): playbook_to_yaml(spec),
            ("POST", "/playbooks/{playbook_id}/revisions"): LAUNCH_PLAYBOOK,
            ("POST", "/campaigns"): plan,
            ("POST", "/campaigns/{campaign_id}/reschedule"): {
                "launch_date": (TODAY + dt.timedelta(days=97)).isoformat()},
            ("POST", "/campaigns/{campaign_id}/migrate"): {"playbook_version": 1},
            ("POST", "/campaigns/{campaign_id}/cancel"): {"reason": "budget"},
            ("POST", "/campaigns/{campaign_id}/goals"): {"goal_ids": [goal["id"]]},
            ("POST", "/routines"): routine_body,
            ("POST", "/goals"): goal_body,
            ("POST", "/goals/{goal_id}/measurements"): {"value": 3,
                                                        "measured_on": TODAY.isoformat()},
            ("PUT", "/teams/{team_id}"): team_profile,
            ("PUT", "/members/{member_id}"): {
                "name": "Cora", "team_ids": [BRAND], "roles": ["writer", "designer"],
                "manager_id": "max"},
            ("POST", "/members/{member_id}/absences"): absence_body,
            ("POST", "/members/{member_id}/calendar-feeds"): {"kind": "member", "id": "cora"},
            ("POST", "/api-tokens"): token_body,
        },
        refused_tokens={"a revoked API token": revoked["token"],
                        "an expired API token": expiring["token"]},
    )


class Upstream:
    """Feeds a consuming service what planning and execution would publish, the way its
    inbox applies it (``process_inbound``): the directory, and cora's task."""

    def __init__(self, client: TestClient) -> None:
        self.app = client.app.state.runtime.application  # type: ignore[attr-defined]
        self.versions: dict[str, int] = {}

    def publish(self, source: str, subject: str, event: IntegrationEvent) -> None:
        version = self.versions[subject] = self.versions.get(subject, 0) + 1
        envelope = cloudevents.Envelope(
            id=f"{subject}:{version}", source=f"/marketflow/{source}",
            type=event.event_type, time=dt.datetime.now(dt.UTC), subject=subject,
            actor="ada", aggregate_version=version, sequence=version)
        assert self.app.process_inbound(cloudevents.InboundEvent(envelope, event))

    def directory(self) -> None:
        for team in (BRAND, WEB):
            self.publish("planning", team, planning.TeamRegistered(
                team_id=team, name=team.title(), queues=[f"{team}-queue"]))
        for member_id, team, roles in (("max", BRAND, []), ("cora", BRAND, ["writer"]),
                                       ("alma", BRAND, ["brand"]), ("otto", WEB, ["web"])):
            self.publish("planning", member_id, planning.MemberRegistered(
                member_id=member_id, name=member_id.title(), team_ids=[team], roles=roles,
                manager_id=None if member_id == "max" else "max"))
        self.publish("planning", BRAND, planning.TeamRegistered(
            team_id=BRAND, name="Brand", queues=[f"{BRAND}-queue"], manager_id="max"))

    def campaign(self) -> tuple[uuid.UUID, uuid.UUID]:
        """Cora's task in brand's campaign, approved by the holders of 'brand' (alma)."""
        campaign_id, task_id = uuid.uuid4(), uuid.uuid4()
        self.publish("planning", str(campaign_id), planning.CampaignPlanned(
            campaign_id=campaign_id, name="Launch", playbook_id=uuid.uuid4(),
            playbook_version=1, launch_date=TODAY + dt.timedelta(days=60), team_id=BRAND,
            tasks=[planning.PlannedTask(
                task_id=task_id, key="post", title="Post", role="writer",
                due_date=TODAY + dt.timedelta(days=30), assignee_id="cora",
                queue=f"{BRAND}-queue",
                approval_chain=[planning.ApprovalStep(role="brand")])]))
        return campaign_id, task_id


def execution_world(client: TestClient, provider: Provider) -> World:
    upstream = Upstream(client)
    upstream.directory()
    campaign_id, task_id = upstream.campaign()
    absence_id = uuid.uuid4()
    upstream.publish("planning", "cora", planning.AbsenceRecorded(
        absence_id=absence_id, member_id="cora", starts_on=TODAY + dt.timedelta(days=200),
        ends_on=TODAY + dt.timedelta(days=201), reason="medical leave"))
    commented = client.post(f"/tasks/{task_id}/comments", json={"text": "first"},
                            headers=bearer("cora"))
    assert commented.status_code == 201, commented.text
    return World(
        client, EXECUTION_POLICY,
        path={"task_id": str(task_id), "comment_id": "1", "queue": f"{BRAND}-queue",
              "campaign_id": str(campaign_id), "absence_id": str(absence_id),
              "member_id": "cora"},
        bodies={
            ("POST", "/tasks/{task_id}/start"): {},
            ("POST", "/tasks/{task_id}/submit"): {"reference": "https://drafts/1"},
            ("POST", "/tasks/{task_id}/approve"): {},
            ("POST", "/tasks/{task_id}/request-changes"): {"comment": "shorter"},
            ("POST", "/tasks/{task_id}/comments"): {"text": "looks good"},
            ("POST", "/tasks/{task_id}/block"): {"reason": "waiting for legal"},
            ("POST", "/tasks/{task_id}/unblock"): {},
            ("POST", "/tasks/{task_id}/complete"): {},
            ("POST", "/tasks/{task_id}/cancel"): {"reason": "dropped"},
            ("POST", "/tasks/{task_id}/claim"): {},
            ("POST", "/tasks/{task_id}/reassign"): {"assignee_id": "cora",
                                                    "reason": "stays with cora"},
            ("PUT", "/members/{member_id}/wip-limit"): {"limit": 5},
        })


def notification_world(client: TestClient, provider: Provider) -> World:
    upstream = Upstream(client)
    upstream.directory()
    task_id = uuid.uuid4()
    upstream.publish("execution", str(task_id), execution.TaskAssigned(
        task_id=task_id, campaign_id=uuid.uuid4(), title="Post", assignee_id="cora",
        due_date=TODAY))
    mine = client.get("/notifications", headers=bearer("cora")).json()
    assert len(mine) == 1, mine
    # Cora's webhook (nothing listens at its URL: a test delivery answers, unreachable).
    hook = {"url": "http://127.0.0.1:9/hook", "kinds": ["task.assigned"]}
    webhook = created(client, "/members/cora/webhooks", hook)
    return World(client, NOTIFICATION_POLICY,
                 path={"notification_id": mine[0]["id"], "member_id": "cora",
                       "team_id": BRAND, "subscription_id": webhook["id"]},
                 bodies={("POST", "/notifications/{notification_id}/read"): {},
                         ("PUT", "/notifications/preferences"): {
                             "time_zone": "Europe/Helsinki", "digest": True},
                         ("POST", "/members/{member_id}/webhooks"): hook,
                         ("POST", "/teams/{team_id}/webhooks"): hook})


def reporting_world(client: TestClient, provider: Provider) -> World:
    upstream = Upstream(client)
    upstream.directory()
    campaign_id, task_id = upstream.campaign()
    return World(client, REPORTING_POLICY,
                 path={"campaign_id": str(campaign_id), "task_id": str(task_id),
                       "member_id": "cora", "playbook_id": str(uuid.uuid4()),
                       "goal_id": str(uuid.uuid4())},
                 query={("GET", "/audit/proofs/inclusion"): {"event_id": f"{campaign_id}:1",
                                                            "tree_size": "2"},
                        ("GET", "/audit/proofs/consistency"): {"first": "1", "second": "2"},
                        **{("GET", path): {"campaign_id": str(campaign_id)}
                           for path in NAMED_IN_QUERY}})


WORLDS: dict[str, Callable[[TestClient, Provider], World]] = {
    "planning": planning_world,
    "execution": execution_world,
    "notification": notification_world,
    "reporting": reporting_world,
}


# --- the test --------------------------------------------------------------------------------


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation needing a credential; reads first and cancellations last, so the
    world's relations (who holds cora's task) hold for every request."""
    found = [(method.upper(), path, operation)
             for path, methods in document["paths"].items()
             for method, operation in methods.items()
             if operation.get("security") != []]  # public: health, metrics
    return sorted(found, key=lambda op: (op[0] != "GET", op[1].endswith("/cancel")))


# Reports asked about what their query names (here cora's campaign): judged like the
# subject, not as listings.
NAMED_IN_QUERY = {"/reports/approvals", "/reports/workload", "/reports/goals",
                  "/reports/progress", "/reports/on-time", "/reports/flow"}


CALLERS_OWN = {"/notifications/unread-count", "/notifications/read-all",
               "/notifications/preferences"}
"""Routes on the caller's own things (no id in the path): judged on a resource the caller
owns."""


def is_listing(method: str, path: str) -> bool:
    """A GET of a collection: any grant lets the caller ask; the answer keeps what their
    scope covers (tested per service)."""
    return method == "GET" and "{" not in path and path not in NAMED_IN_QUERY


def expected_allowed(world: World, action: str, caller: Caller, method: str,
                     path: str) -> bool:
    if path in CALLERS_OWN:
        return world.policy.allows(action, caller, Resource.of(owners=[caller.member_id]))
    # A report asked about one campaign (its query names it) goes with that campaign.
    if is_listing(method, path) and "campaign_id" not in world.query.get((method, path), {}):
        return world.policy.scope(action, caller) is not None
    return world.policy.allows(action, caller, SUBJECT)


def send(world: World, method: str, path: str, headers: dict[str, str]) -> Any:
    url = path.format(**world.path)
    body = world.bodies.get((method, path))
    params = world.query.get((method, path))
    if isinstance(body, str):
        return world.client.request(method, url, content=body, params=params,
                                    headers={**headers, "Content-Type": "application/yaml"})
    return world.client.request(method, url, json=body, params=params, headers=headers)


@pytest.mark.parametrize("service_name", sorted(WORLDS))
def test_every_operation_answers_every_role_as_the_policy_table_says(
        service_name: str, tmp_path: Path, provider: Provider) -> None:
    with service(service_name, tmp_path, provider) as client:
        world = WORLDS[service_name](client, provider)
        document = client.get("/openapi.json").json()
        refused = {"no token": {}, "a malformed token": {"Authorization": "Bearer nope"},
                   "an expired OpenID Connect token": {
                       "Authorization": f"Bearer {provider.expired_token}"},
                   "a token signed by another provider's key": {
                       "Authorization": f"Bearer {provider.foreign_token}"},
                   **{why: {"Authorization": f"Bearer {token}"}
                      for why, token in world.refused_tokens.items()}}
        mismatches: list[str] = []
        tried = 0
        for method, path, operation in operations(document):
            action = operation.get(ACTION_EXTENSION)
            assert action in world.policy.rules, (
                f"{method} {path}: declares no action of {service_name}'s policy table "
                f"(openapi_extra=action(...)): {action!r}")
            if "requestBody" in operation:
                assert (method, path) in world.bodies, f"{method} {path}: no example body"
            for why, headers in refused.items():
                answer = send(world, method, path, headers)
                if answer.status_code != 401:
                    mismatches.append(f"{method} {path} with {why}: {answer.status_code}")
            for role, (member, caller) in CALLERS.items():
                allowed = expected_allowed(world, action, caller, method, path)
                answer = send(world, method, path, bearer(member.member_id))
                tried += 1
                if answer.status_code >= 500 or answer.status_code == 401 or (
                        (answer.status_code == 403) == allowed):
                    mismatches.append(
                        f"{method} {path} ({action}) as {role}: {answer.status_code}, "
                        f"policy says {'allowed' if allowed else 'forbidden'}: "
                        f"{answer.text[:200]}")
        assert tried == len(CALLERS) * len(operations(document)) > 0
        assert mismatches == []
