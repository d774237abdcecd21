"""What notification's HTTP API returns, shaped in one place."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.json_types import Timestamp


class NotificationOut(BaseModel):
    """An in-app notification to one member."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    recipient_id: str
    kind: str = Field(description="what it is about, e.g. approval.requested")
    subject_id: UUID = Field(description="the task or campaign it is about")
    text: str
    read: bool
    created_at: Timestamp
    caused_by: str | None = Field(description="the integration event (ce_id) behind it")
    version: int = Field(description="the notification's version, also its ETag")
    campaign_id: UUID | None = Field(default=None, description="the campaign it is about")
    title: str = Field(default="", description="one line naming the task and the campaign")
    link: str | None = Field(default=None, description="the task or campaign in the web app")


class UnreadCountOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    unread: int = Field(ge=0, description="the caller's unread notifications")


class MarkedReadOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    marked: int = Field(ge=0, description="how many unread notifications were marked read")


QuietHours = Annotated[list[str], Field(
    min_length=2, max_length=2, description='["HH:MM", "HH:MM"] in the member\'s time zone: '
                                            'start and end (may wrap past midnight)',
    examples=[["22:00", "07:00"]])]


class PreferencesIn(BaseModel):
    """How the caller wants to hear. Channels per kind of notification (``*``: every kind
    not named); in-app is always kept. Quiet hours hold back email until they end."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zone: str = Field(default="UTC", max_length=64, examples=["Europe/Helsinki"],
                           description="an IANA time zone")
    channels: dict[Annotated[str, Field(max_length=64)],
                   Annotated[list[str], Field(max_length=3)]] = Field(
        default_factory=dict, max_length=64,
        description="kind (e.g. task.assigned, or * for every other kind) -> channels "
                    "(in_app, email, webhook)",
        examples=[{"*": ["in_app", "email"], "task.done": ["in_app"]}])
    quiet_hours: QuietHours | None = None
    digest: bool = Field(default=False, description="one daily email instead of single ones")


class PreferencesOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    member_id: str
    time_zone: str
    channels: dict[str, list[str]]
    quiet_hours: list[str] | None
    digest: bool
    version: int = Field(description="0: never set (these are the defaults)")


def notification_out(row: dict[str, Any]) -> NotificationOut:
    """From the inbox read model's row (SQLite and PostgreSQL store ``read`` as 0/1)."""
    return NotificationOut.model_validate({**row, "read": bool(row["read"])})
