"""What notification's HTTP API returns, shaped in one place."""

from __future__ import annotations

from typing import Any
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


def notification_out(row: dict[str, Any]) -> NotificationOut:
    """From the inbox read model's row (SQLite and PostgreSQL store ``read`` as 0/1)."""
    return NotificationOut.model_validate({**row, "read": bool(row["read"])})
