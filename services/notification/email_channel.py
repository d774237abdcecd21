"""Email over SMTP: composing a notification (or a digest) as a text and an HTML part, and
sending it with the standard library's client (run in the delivery loop's thread).

Every message has a stable ``Message-ID`` derived from what it carries (the notification
and the address; a digest's member and slot), so one sent again after a crash between
sending and recording is recognisable as the same message.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from uuid import UUID, uuid5

from services.notification.domain import NOTIFICATIONS
from services.notification.settings import NotificationSettings, SmtpSettings

MESSAGE_ID_DOMAIN = "marketflow.notification"


def message_id(notification_id: UUID, channel: str, target: str) -> str:
    return f"<{uuid5(NOTIFICATIONS, f'{notification_id}:{channel}:{target}')}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class Item:
    """One notification as an email names it."""

    title: str
    text: str
    link: str | None


def compose(settings: NotificationSettings, to: str, subject: str, items: list[Item],
            message_id: str, *, intro: str | None = None, date: Any = None) -> EmailMessage:
    """A multipart/alternative message: plain text, and HTML with everything escaped."""
    message = EmailMessage()
    message["Subject"] = subject.replace("\r", " ").replace("\n", " ")
    message["From"] = settings.smtp.sender
    message["To"] = to
    message["Message-ID"] = message_id
    if date is not None:
        message["Date"] = format_datetime(date)
    preferences = f"{settings.web_url}/preferences"
    message["List-Unsubscribe"] = f"<{preferences}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    lines = [intro, ""] if intro else []
    for item in items:
        lines += [item.title, item.text, *([item.link] if item.link else []), ""]
    lines += ["--", f"Choose how you hear from Marketflow: {preferences}"]
    message.set_content("\n".join(lines))
    parts = [f"<p>{html.escape(intro)}</p>"] if intro else []
    for item in items:
        link = (f'<p><a href="{html.escape(item.link, quote=True)}">'
                f"{html.escape(item.link)}</a></p>" if item.link else "")
        parts.append(f"<h3>{html.escape(item.title)}</h3><p>{html.escape(item.text)}</p>{link}")
    parts.append(f'<hr><p><a href="{html.escape(preferences, quote=True)}">Choose how you '
                 "hear from Marketflow</a></p>")
    message.add_alternative("<!doctype html><html><body>" + "".join(parts) + "</body></html>",
                            subtype="html")
    return message


class MailError(Exception):
    """Sending failed: ``temporary`` ones are retried, others recorded as failed."""

    def __init__(self, message: str, *, temporary: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.code = code


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> int:
        """Hands the message to the SMTP server; returns its reply code (250)."""
        s = self.settings
        if s.host is None:
            raise MailError("no SMTP server configured (MARKETFLOW_SMTP_HOST)", temporary=False)
        try:
            client: smtplib.SMTP
            if s.security == "tls":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            with client:
                if s.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if s.username:
                    client.login(s.username, s.password or "")
                refused = client.send_message(message)
                if refused:
                    code, reason = next(iter(refused.values()))
                    raise MailError(f"refused: {code} {reason!r}", temporary=400 <= code < 500,
                                    code=code)
                return 250
        except smtplib.SMTPRecipientsRefused as error:
            code, reason = next(iter(error.recipients.values()))
            raise MailError(f"recipient refused: {code} {reason!r}",
                            temporary=400 <= code < 500, code=code) from None
        except smtplib.SMTPResponseException as error:
            raise MailError(f"SMTP {error.smtp_code}: {error.smtp_error!r}",
                            temporary=400 <= error.smtp_code < 500,
                            code=error.smtp_code) from None
        except (OSError, smtplib.SMTPException) as error:  # unreachable, TLS, disconnected
            raise MailError(f"{type(error).__name__}: {error}", temporary=True) from None
