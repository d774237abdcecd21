"""Notification's HTTP API for webhook subscriptions: a member's own
(``/members/{member_id}/webhooks``) and a team's (``/teams/{team_id}/webhooks``). Each
route names its action in the access policy (``policy.py``); the use cases check it.

No ``from __future__ import annotations``: the routes are built in a loop, and FastAPI
must see each one's owner dependency evaluated, not as text."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from services.notification.webhooks import Subscribe, Webhooks
from shared.auth import current_caller
from shared.policy import Caller, action

Actor = Annotated[Caller, Depends(current_caller)]


class WebhookIn(BaseModel):
    url: str = Field(max_length=2000, description="http(s) URL that receives the POSTs")
    kinds: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=50,
        description="notification kinds to send (e.g. task.assigned); empty: every kind")


class WebhookOut(BaseModel):
    id: str
    owner: str
    url: str
    kinds: list[str]
    active: bool
    disabled_reason: str | None = None


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="the whsec_ signing secret: shown only in this answer")


class WebhookTestOut(BaseModel):
    delivered: bool
    status_code: int | None = Field(description="what the receiver answered (none: "
                                                "unreachable)")
    error: str | None = None


def _out(owner: str, subscription_id: str, endpoint: dict[str, Any]) -> dict[str, Any]:
    return {"id": subscription_id, "owner": owner, "url": endpoint["url"],
            "kinds": endpoint["kinds"], "active": endpoint["active"],
            "disabled_reason": endpoint.get("disabled_reason")}


def build_webhooks_router(webhooks: Webhooks) -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    for owner_kind, prefix, key, list_action, manage_action in (
            ("member", "/members/{member_id}/webhooks", "member_id", "webhook.list",
             "webhook.manage"),
            ("team", "/teams/{team_id}/webhooks", "team_id", "team_webhook.list",
             "team_webhook.manage")):
        _routes(router, webhooks, owner_kind, prefix, key, list_action, manage_action)
    return router


def _routes(router: APIRouter, webhooks: Webhooks, owner_kind: str, prefix: str, key: str,
            list_action: str, manage_action: str) -> None:
    whose = "a member's own" if owner_kind == "member" else "a team's"
    Owner = Annotated[str, Depends(_path(key))]

    @router.post(prefix, status_code=201, openapi_extra=action(manage_action),
                 operation_id=f"subscribe_{owner_kind}_webhook",
                 summary=f"Subscribe {whose} webhook")
    def subscribe(owner: Owner, body: WebhookIn,
                  caller: Actor) -> WebhookWithSecret:
        """Returns the generated ``whsec_`` secret, once: keep it to verify signatures."""
        subscription_id, endpoint, secret = webhooks.subscribe(
            Subscribe(owner_kind, owner, body.url, tuple(body.kinds)), caller)
        return WebhookWithSecret(**_out(f"{owner_kind}:{owner}", subscription_id, endpoint),
                                 secret=secret)

    @router.get(prefix, openapi_extra=action(list_action),
                operation_id=f"list_{owner_kind}_webhooks", summary=f"List {whose} webhooks")
    def subscriptions(owner: Owner,
                      caller: Actor) -> list[WebhookOut]:
        found = webhooks.list(owner_kind, owner, caller)
        return [WebhookOut(**_out(f"{owner_kind}:{owner}", subscription_id, endpoint))
                for subscription_id, endpoint in sorted(found.items())]

    @router.delete(prefix + "/{subscription_id}", openapi_extra=action(manage_action),
                   operation_id=f"delete_{owner_kind}_webhook",
                   summary=f"Delete {whose} webhook")
    def unsubscribe(owner: Owner, subscription_id: str, caller: Actor) -> WebhookOut:
        """Nothing more is sent to it; answers with what was deleted."""
        endpoint = webhooks.unsubscribe(owner_kind, owner, subscription_id, caller)
        return WebhookOut(**_out(f"{owner_kind}:{owner}", subscription_id, endpoint))

    @router.post(prefix + "/{subscription_id}/rotate-secret",
                 openapi_extra=action(manage_action),
                 operation_id=f"rotate_{owner_kind}_webhook_secret",
                 summary=f"Rotate {whose} webhook's secret")
    def rotate(owner: Owner, subscription_id: str,
               caller: Actor) -> WebhookWithSecret:
        """A new secret (shown once); the previous one still signs for 24 hours."""
        endpoint, secret = webhooks.rotate(owner_kind, owner, subscription_id, caller)
        return WebhookWithSecret(**_out(f"{owner_kind}:{owner}", subscription_id, endpoint),
                                 secret=secret)

    @router.post(prefix + "/{subscription_id}/test", openapi_extra=action(manage_action),
                 operation_id=f"test_{owner_kind}_webhook",
                 summary=f"Send a test message to {whose} webhook")
    def test(owner: Owner, subscription_id: str,
             caller: Actor) -> WebhookTestOut:
        """Sends a signed test message now and answers with the receiver's status."""
        result = webhooks.test(owner_kind, owner, subscription_id, caller)
        return WebhookTestOut(delivered=result.delivered, status_code=result.status_code,
                              error=result.error)


def _path(key: str) -> Any:
    """A dependency reading the owner's id from the path parameter ``key``."""
    if key == "member_id":
        def member(member_id: str) -> str:
            return member_id
        return member

    def team(team_id: str) -> str:
        return team_id
    return team
