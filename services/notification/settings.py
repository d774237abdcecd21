"""Notification's own settings (``MARKETFLOW_NOTIFY_*``, ``MARKETFLOW_SMTP_*``): where links
point, how mail leaves, and when reminders and escalations fire. Read once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

SmtpSecurity = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpSettings:
    """Where email goes. No host: email is not sent (in-app and webhooks still are)."""

    host: str | None = None
    port: int = 25
    security: SmtpSecurity = "none"
    username: str | None = None
    password: str | None = None
    sender: str = "Marketflow <marketflow@localhost>"
    timeout_seconds: float = 10.0

    @property
    def enabled(self) -> bool:
        return self.host is not None


@dataclass(frozen=True)
class NotificationSettings:
    # The web app's address: every message links to the task or campaign there.
    web_url: str = "http://127.0.0.1:8000"
    smtp: SmtpSettings = SmtpSettings()
    # A reminder this many working days before a task is due (a playbook task may say
    # otherwise; see ``work.TaskCopy.reminder_days``).
    reminder_working_days: int = 2
    # A late task: the assignee is told on the first day late, their manager after this
    # many working days more, the manager's manager after as many again.
    escalation_working_days: int = 2
    # An approval step waiting longer than this escalates the same way.
    approval_sla_working_days: int = 2
    # Local hour at which a member's daily digest is sent (in their time zone).
    digest_hour: int = 8
    # How often the delivery and timer loops look for work when nothing woke them.
    poll_seconds: float = 5.0
    # Whether webhooks may be sent to loopback, private and link-local addresses (a
    # member's URL must not reach what only the service can; `make run` and tests allow).
    webhook_private_addresses: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> NotificationSettings:
        env = dict(os.environ if environ is None else environ)
        security = env.get("MARKETFLOW_SMTP_SECURITY", "none")
        if security not in ("none", "starttls", "tls"):
            raise ValueError("MARKETFLOW_SMTP_SECURITY must be none, starttls or tls, not "
                             f"{security!r}")
        smtp = SmtpSettings(
            host=env.get("MARKETFLOW_SMTP_HOST") or None,
            port=int(env.get("MARKETFLOW_SMTP_PORT", "465" if security == "tls" else "25")),
            security=security,  # type: ignore[arg-type]
            username=env.get("MARKETFLOW_SMTP_USERNAME") or None,
            password=env.get("MARKETFLOW_SMTP_PASSWORD") or None,
            sender=env.get("MARKETFLOW_SMTP_SENDER", SmtpSettings.sender),
            timeout_seconds=float(env.get("MARKETFLOW_SMTP_TIMEOUT_SECONDS", "10")),
        )
        return cls(
            web_url=env.get("MARKETFLOW_WEB_URL", cls.web_url).rstrip("/"),
            smtp=smtp,
            reminder_working_days=_non_negative(env, "MARKETFLOW_NOTIFY_REMINDER_DAYS",
                                                cls.reminder_working_days),
            escalation_working_days=_non_negative(env, "MARKETFLOW_NOTIFY_ESCALATION_DAYS",
                                                  cls.escalation_working_days),
            approval_sla_working_days=_non_negative(env, "MARKETFLOW_NOTIFY_APPROVAL_SLA_DAYS",
                                                    cls.approval_sla_working_days),
            digest_hour=_non_negative(env, "MARKETFLOW_NOTIFY_DIGEST_HOUR", cls.digest_hour),
            poll_seconds=float(env.get("MARKETFLOW_NOTIFY_POLL_SECONDS", cls.poll_seconds)),
            webhook_private_addresses=env.get("MARKETFLOW_WEBHOOK_PRIVATE_ADDRESSES", "false")
            .lower() in ("1", "true", "yes"),
        )

    def task_link(self, task_id: object) -> str:
        return f"{self.web_url}/tasks/{task_id}"

    def campaign_link(self, campaign_id: object) -> str:
        return f"{self.web_url}/campaigns/{campaign_id}"


def _non_negative(env: dict[str, str], name: str, default: int) -> int:
    value = int(env.get(name, default))
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, not {value}")
    return value
