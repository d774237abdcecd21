"""Who writes and who reads each topic: the map ``contracts/asyncapi.json`` draws.

Topics are ``<namespace>.<producer>.events`` (namespace ``marketflow`` unless a deployment
sets ``MARKETFLOW_NAMESPACE``) and, for every topic a service reads, ``<topic>.dlq``
where that consumer sets aside what it can never apply. ``tests/unit/test_asyncapi.py``
checks this map against the services' wiring.
"""

from __future__ import annotations

from collections.abc import Mapping

from contracts.base import EVENT_TYPES
from contracts.planning import KpiMeasurementReported

NAMESPACE = "marketflow"
SERVICES = ("planning", "execution", "notification", "reporting")
EXTERNAL_TYPES: Mapping[str, frozenset[str]] = {
    # Topics other systems write (``<ns>.<name>.events``) and the only types they may
    # publish there; their ``ce_source`` is theirs (e.g. ``/crm``), never ``/marketflow/…``.
    "crm": frozenset({KpiMeasurementReported.event_type}),
}
UPSTREAM: Mapping[str, tuple[str, ...]] = {
    # Each service's inbox: whose topics it reads (services/<service>/wiring.py).
    "planning": ("execution", "crm"),
    "execution": ("planning",),
    "notification": ("planning", "execution"),
    "reporting": ("planning", "execution", "notification"),
}


def topic(producer: str) -> str:
    return f"{NAMESPACE}.{producer}.events"


def published_types(producer: str) -> list[str]:
    """The event types on ``producer``'s topic, sorted. A marketflow service publishes its
    own types except those other systems report to it (``EXTERNAL_TYPES``)."""
    if producer in EXTERNAL_TYPES:
        return sorted(EXTERNAL_TYPES[producer])
    received = frozenset().union(*EXTERNAL_TYPES.values())
    return sorted(event_type for event_type in EVENT_TYPES
                  if event_type.startswith(f"{NAMESPACE}.{producer}.")
                  and event_type not in received)


def producers() -> list[str]:
    """Every producer whose topic carries events: services with contracts, then the
    external systems."""
    own = [service for service in SERVICES if published_types(service)]
    return own + sorted(EXTERNAL_TYPES)
