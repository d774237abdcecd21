"""Integration-event contracts of all Marketflow services (see ``contracts.base``)."""

from contracts import execution, notification, planning
from contracts.base import EVENT_TYPES, IntegrationEvent, schema_id

__all__ = ["EVENT_TYPES", "IntegrationEvent", "execution", "notification", "planning",
           "schema_id"]
