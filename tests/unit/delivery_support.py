"""Real receivers for delivery tests: an SMTP server (aiosmtpd) and an HTTP server in the
test process, a clock the test moves, and a notification service fed through its store."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import http.server
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from contracts import IntegrationEvent, execution, planning
from services.notification.application import NotificationApplication
from services.notification.delivery import Deliverer, DeliveriesView
from services.notification.settings import NotificationSettings, SmtpSettings
from services.notification.webhooks import WebhookSender
from services.notification.wiring import build
from shared import cloudevents
from shared.config import Settings

WEB_URL = "https://marketflow.example"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    message: EmailMessage


class Catcher:
    """An aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[Catcher, int]]:
    catcher = Catcher()
    port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield catcher, port
    finally:
        controller.stop()


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP endpoint answering from a script (then 200), keeping what it got."""

    url: str = ""
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            receiver.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()},
                                     body))
            status, headers = receiver.script.pop(0) if receiver.script else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Service:
    app: NotificationApplication
    deliverer: Deliverer
    clock: FakeClock
    sequence: int = 0

    def feed(self, source: str, subject: str, event: IntegrationEvent, version: int = 1,
             actor: str = "pia") -> None:
        self.sequence += 1
        envelope = cloudevents.Envelope(
            id=f"{subject}:{version}", source=f"/marketflow/{source}", type=event.event_type,
            time=self.clock(), subject=subject, actor=actor, aggregate_version=version,
            sequence=self.sequence)
        assert self.app.process_inbound(cloudevents.InboundEvent(envelope, event))

    def member(self, member_id: str, email_address: str | None,
               teams: tuple[str, ...] = ()) -> None:
        self.feed("planning", f"member-{member_id}-{self.sequence}", planning.MemberRegistered(
            member_id=member_id, name=member_id.title(), email=email_address,
            team_ids=list(teams)))

    def assign(self, assignee: str, title: str = "Launch post") -> uuid.UUID:
        task_id = uuid.uuid4()
        self.feed("execution", str(task_id), execution.TaskAssigned(
            task_id=task_id, campaign_id=uuid.uuid4(), title=title, assignee_id=assignee,
            due_date=self.clock().date() + dt.timedelta(days=7)))
        return task_id

    def deliver(self) -> int:
        return self.deliverer.deliver_due()

    def restarted(self) -> Service:
        """The same store opened by a new process (the old one dropped as by a crash)."""
        return start(self.app.settings, self.app.notification_settings, self.clock,
                     sequence=self.sequence)


def start(settings: Settings, notification_settings: NotificationSettings, clock: FakeClock,
          sequence: int = 0) -> Service:
    app = build(settings, notification_settings=notification_settings, clock=clock).application
    assert isinstance(app, NotificationApplication)
    sender = WebhookSender(timeout_seconds=5,
                           private_addresses=notification_settings.webhook_private_addresses)
    deliverer = Deliverer(app, DeliveriesView(app), sender=sender)
    return Service(app, deliverer, clock, sequence)


def service(tmp_path: Path, clock: FakeClock, smtp_port: int | None, **options: Any
            ) -> Service:
    settings = replace(Settings(service="notification"), sqlite_dir=tmp_path)
    smtp = SmtpSettings(host="127.0.0.1" if smtp_port else None, port=smtp_port or 25,
                        sender="Marketflow <noreply@marketflow.example>", timeout_seconds=2)
    options.setdefault("webhook_private_addresses", True)  # the receivers are on loopback
    return start(settings, NotificationSettings(web_url=WEB_URL, smtp=smtp, **options), clock)
