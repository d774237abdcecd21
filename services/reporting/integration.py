"""Reporting publishes nothing yet: its archive is read over HTTP."""

from __future__ import annotations

from typing import Any

from contracts import IntegrationEvent


def translate(domain_event: Any) -> IntegrationEvent | None:
    return None
