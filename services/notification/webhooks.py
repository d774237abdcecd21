"""Webhooks: endpoints a member or a team subscribes, and sending to them by the Standard
Webhooks specification (https://www.standardwebhooks.com).

Each owner (``member:<id>``, ``team:<id>``) has one ``WebhookSubscriptions`` aggregate at
an id derived from the owner, so planning a notification's deliveries loads it by id (no
read model is caught up inside a handler). Every request carries ``webhook-id`` (stable
per notification and endpoint: a resend after a crash has the same id, so the receiver
can drop it), ``webhook-timestamp`` (wall-clock seconds) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, keyed with the base64-decoded
``whsec_`` secret; during a rotation's grace period the previous secrets sign too,
space-separated).

No ``from __future__ import annotations``: event classes are built from signatures.
"""

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4, uuid5

import httpx
import orjson

from services.notification.domain import NOTIFICATIONS
from services.notification.policy import POLICY
from shared.domain import Aggregate, EventMeta, InvalidCommand, NotFound, event
from shared.policy import Caller, Resource

SECRET_PREFIX = "whsec_"
ROTATION_GRACE = dt.timedelta(hours=24)
"""After a rotation the previous secret still signs this long (receivers switch over)."""
MAX_URL_LENGTH = 2000
MAX_KINDS = 50


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def owner_of(kind: str, key: str) -> str:
    """``member:<id>`` or ``team:<id>``."""
    return f"{kind}:{key}"


def subscriptions_id(owner: str) -> UUID:
    return uuid5(NOTIFICATIONS, f"webhooks:{owner}")


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, or ``InvalidCommand`` (422) saying why."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidCommand(f"url: longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidCommand("url: contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError as error:
        raise InvalidCommand(f"url: not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidCommand(f"url: must be http or https, not {parts.scheme or 'relative'!r}")
    if not parts.hostname:
        raise InvalidCommand("url: has no host")
    del port
    return url


class WebhookSubscriptions(Aggregate):
    """One owner's webhook endpoints: URL, kinds filter, signing secrets, active or not."""

    @event("Started")
    def __init__(self, id: UUID, owner: str, meta: EventMeta) -> None:
        self.owner = owner
        self.endpoints: dict[str, dict[str, Any]] = {}

    def subscribe(self, url: str, kinds: list[str], secret: str, meta: EventMeta) -> str:
        subscription_id = str(uuid4())
        self._subscribed(owner=self.owner, subscription_id=subscription_id, url=check_url(url),
                         kinds=sorted(set(kinds)), secret=secret, meta=meta)
        return subscription_id

    @event("Subscribed")
    def _subscribed(self, owner: str, subscription_id: str, url: str, kinds: list[str], secret: str,
                    meta: EventMeta) -> None:
        self.endpoints[subscription_id] = {
            "url": url, "kinds": list(kinds), "active": True, "disabled_reason": None,
            "secrets": [{"secret": secret, "until": None}]}

    def endpoint(self, subscription_id: str) -> dict[str, Any]:
        found = self.endpoints.get(subscription_id)
        if found is None:
            raise NotFound(f"webhook subscription {subscription_id} of {self.owner} not found")
        return found

    def unsubscribe(self, subscription_id: str, meta: EventMeta) -> None:
        self.endpoint(subscription_id)
        self._unsubscribed(owner=self.owner, subscription_id=subscription_id, meta=meta)

    @event("Unsubscribed")
    def _unsubscribed(self, owner: str, subscription_id: str, meta: EventMeta) -> None:
        self.endpoints.pop(subscription_id, None)

    def rotate(self, subscription_id: str, secret: str, now: dt.datetime,
               meta: EventMeta) -> None:
        self.endpoint(subscription_id)
        self._rotated(owner=self.owner, subscription_id=subscription_id, secret=secret,
                      previous_valid_until=now + ROTATION_GRACE, meta=meta)

    @event("SecretRotated")
    def _rotated(self, owner: str, subscription_id: str, secret: str,
                 previous_valid_until: dt.datetime, meta: EventMeta) -> None:
        endpoint = self.endpoints[subscription_id]
        kept = [{"secret": known["secret"],
                 "until": known["until"] or previous_valid_until.isoformat()}
                for known in endpoint["secrets"]]
        endpoint["secrets"] = [{"secret": secret, "until": None}, *kept]

    def disable(self, subscription_id: str, reason: str, response_code: int | None,
                meta: EventMeta) -> None:
        endpoint = self.endpoints.get(subscription_id)
        if endpoint is not None and endpoint["active"]:
            self._disabled(owner=self.owner, subscription_id=subscription_id, reason=reason,
                           response_code=response_code, meta=meta)

    @event("Disabled")
    def _disabled(self, owner: str, subscription_id: str, reason: str, response_code: int | None,
                  meta: EventMeta) -> None:
        self.endpoints[subscription_id]["active"] = False
        self.endpoints[subscription_id]["disabled_reason"] = reason

    def matching(self, kind: str) -> list[str]:
        """Active endpoints whose kinds filter takes ``kind`` (no filter: every kind)."""
        return sorted(subscription_id for subscription_id, endpoint in self.endpoints.items()
                      if endpoint["active"] and (not endpoint["kinds"]
                                                 or kind in endpoint["kinds"]))

    def signing_secrets(self, subscription_id: str, now: dt.datetime) -> list[str]:
        """The current secret, and previous ones still within their grace period."""
        return [known["secret"] for known in self.endpoint(subscription_id)["secrets"]
                if known["until"] is None or dt.datetime.fromisoformat(known["until"]) > now]


# --- sending ---------------------------------------------------------------------------


def webhook_id(notification_id: UUID, target: str) -> str:
    """Stable per notification and endpoint: a resend carries the same id."""
    return f"msg_{uuid5(NOTIFICATIONS, f'{notification_id}:webhook:{target}').hex}"


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body,
                      hashlib.sha256).digest()
    return "v1," + base64.b64encode(signed).decode()


@dataclass(frozen=True)
class WebhookResult:
    """``delivered`` (2xx), ``retry`` (429, 5xx, unreachable), ``gone`` (410) or
    ``failed`` (any other answer)."""

    outcome: str
    status_code: int | None = None
    retry_after: dt.timedelta | None = None
    error: str | None = None


def retry_after(value: str | None, wall_now: float) -> dt.timedelta | None:
    """``Retry-After`` as seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(dt.timedelta(0), when - dt.datetime.fromtimestamp(wall_now, dt.UTC))


class WebhookSender:
    """POSTs one signed message. ``wall_clock`` gives the signature's timestamp: the real
    time, whatever clock schedules the attempts (receivers check it against theirs)."""

    def __init__(self, timeout_seconds: float = 10.0,
                 wall_clock: Callable[[], float] = time.time, *,
                 private_addresses: bool = False) -> None:
        self.timeout_seconds = timeout_seconds
        self.wall_clock = wall_clock
        self.private_addresses = private_addresses

    def refusal(self, url: str) -> str | None:
        """Why the server will not POST to ``url``: a member chooses it, so without this
        anyone could make the service call what only it can reach (its own network, the
        cloud's metadata address). Checked at each send, on what the name resolves to
        then; a name re-pointed between this check and the connection is not caught."""
        if self.private_addresses:
            return None
        host = urlsplit(url).hostname or ""
        try:
            addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
        except OSError:
            return None  # unresolvable now: the attempt fails and is retried
        private = sorted(address for address in addresses
                         if not ipaddress.ip_address(address.split("%")[0]).is_global)
        if private:
            return (f"refused: {host} resolves to a non-public address ({', '.join(private)});"
                    " set MARKETFLOW_WEBHOOK_PRIVATE_ADDRESSES=true to allow it")
        return None

    def send(self, url: str, signing_secrets: list[str], message_id: str,
             body: bytes) -> WebhookResult:
        now = self.wall_clock()
        timestamp = int(now)
        headers = {
            "content-type": "application/json",
            "user-agent": "marketflow-notification",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(sign(secret, message_id, timestamp, body)
                                          for secret in signing_secrets),
        }
        refused = self.refusal(url)
        if refused is not None:
            return WebhookResult("failed", error=refused)
        try:
            with httpx.Client(timeout=self.timeout_seconds, follow_redirects=False) as client:
                answer = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return WebhookResult("retry", error=f"{type(error).__name__}: {error}"[:500])
        code = answer.status_code
        if 200 <= code < 300:
            return WebhookResult("delivered", code)
        if code == 410:
            return WebhookResult("gone", code, error="the endpoint answered 410 Gone")
        if code == 429 or code >= 500:
            return WebhookResult("retry", code, retry_after(answer.headers.get("retry-after"),
                                                            now),
                                 error=f"HTTP {code}")
        return WebhookResult("failed", code, error=f"HTTP {code}")


def payload(notification: Any) -> bytes:
    """What a webhook receives about a notification (the specification's envelope)."""
    created_at = notification.created_on.astimezone(dt.UTC).isoformat()
    return orjson.dumps({
        "type": f"notification.{notification.kind}",
        "timestamp": created_at,
        "data": {
            "id": str(notification.id), "kind": notification.kind,
            "recipient_id": notification.recipient_id, "title": notification.title,
            "text": notification.text, "link": notification.link,
            "subject_id": str(notification.subject_id),
            "campaign_id": str(notification.campaign_id) if notification.campaign_id else None,
            "created_at": created_at,
        },
    })


# --- use cases -------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscribe:
    owner_kind: str
    """``member`` or ``team``."""
    owner_key: str
    url: str
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestResult:
    delivered: bool
    status_code: int | None
    error: str | None


class Webhooks:
    """Managing webhook subscriptions: a member their own, a team's manager (or an admin)
    the team's (``policy.py``: ``webhook.*`` and ``team_webhook.*``)."""

    def __init__(self, app: Any, sender: WebhookSender | None = None) -> None:
        self.app = app
        self.sender = sender or WebhookSender(
            private_addresses=app.notification_settings.webhook_private_addresses)

    @staticmethod
    def _authorize(caller: Caller, owner_kind: str, owner_key: str, manage: bool) -> str:
        owner = owner_of(owner_kind, owner_key)
        if owner_kind == "team":
            resource = Resource.of(teams=owner_key, description=f"team {owner_key}'s webhooks")
            POLICY.authorize("team_webhook.manage" if manage else "team_webhook.list",
                             caller, resource)
        else:
            resource = Resource.of(owners=owner_key,
                                   description=f"{owner_key}'s webhooks")
            POLICY.authorize("webhook.manage" if manage else "webhook.list", caller, resource)
        return owner

    def _load(self, owner: str) -> WebhookSubscriptions | None:
        aggregate_id = subscriptions_id(owner)
        if not self.app.exists(aggregate_id):
            return None
        found: WebhookSubscriptions = self.app.load(aggregate_id, WebhookSubscriptions)
        return found

    def _existing(self, owner: str, subscription_id: str) -> WebhookSubscriptions:
        subscriptions = self._load(owner)
        if subscriptions is None:
            raise NotFound(f"webhook subscription {subscription_id} of {owner} not found")
        subscriptions.endpoint(subscription_id)
        return subscriptions

    def subscribe(self, command: Subscribe, caller: Caller) -> tuple[str, dict[str, Any], str]:
        """Returns (subscription id, endpoint, the secret: shown this once)."""
        owner = self._authorize(caller, command.owner_kind, command.owner_key, manage=True)
        if len(command.kinds) > MAX_KINDS:
            raise InvalidCommand(f"kinds: at most {MAX_KINDS}")
        check_url(command.url)
        meta = caller.meta()
        subscriptions = self._load(owner) or WebhookSubscriptions(
            id=subscriptions_id(owner), owner=owner, meta=meta)
        secret = new_secret()
        subscription_id = subscriptions.subscribe(command.url, list(command.kinds), secret, meta)
        self.app.save_or_conflict(subscriptions)
        return subscription_id, subscriptions.endpoints[subscription_id], secret

    def list(self, owner_kind: str, owner_key: str, caller: Caller) -> dict[str, dict[str, Any]]:
        owner = self._authorize(caller, owner_kind, owner_key, manage=False)
        subscriptions = self._load(owner)
        return dict(subscriptions.endpoints) if subscriptions else {}

    def unsubscribe(self, owner_kind: str, owner_key: str, subscription_id: str,
                    caller: Caller) -> dict[str, Any]:
        owner = self._authorize(caller, owner_kind, owner_key, manage=True)
        subscriptions = self._existing(owner, subscription_id)
        endpoint = subscriptions.endpoint(subscription_id)
        subscriptions.unsubscribe(subscription_id, caller.meta())
        self.app.save_or_conflict(subscriptions)
        return endpoint

    def rotate(self, owner_kind: str, owner_key: str, subscription_id: str,
               caller: Caller) -> tuple[dict[str, Any], str]:
        """A new secret (returned this once); the previous ones sign for 24 h more."""
        owner = self._authorize(caller, owner_kind, owner_key, manage=True)
        subscriptions = self._existing(owner, subscription_id)
        secret = new_secret()
        subscriptions.rotate(subscription_id, secret, self.app.clock(), caller.meta())
        self.app.save_or_conflict(subscriptions)
        return subscriptions.endpoints[subscription_id], secret

    def test(self, owner_kind: str, owner_key: str, subscription_id: str,
             caller: Caller) -> TestResult:
        """Sends a test message now and says what the receiver answered (records
        nothing: a test is not a notification)."""
        owner = self._authorize(caller, owner_kind, owner_key, manage=True)
        subscriptions = self._existing(owner, subscription_id)
        endpoint = subscriptions.endpoint(subscription_id)
        now = self.app.clock()
        body = orjson.dumps({"type": "webhook.test", "timestamp": now.isoformat(),
                             "data": {"subscription_id": subscription_id, "owner": owner}})
        sent = self.sender.send(endpoint["url"],
                                subscriptions.signing_secrets(subscription_id, now),
                                f"msg_test_{uuid4().hex}", body)
        return TestResult(sent.outcome == "delivered", sent.status_code, sent.error)
