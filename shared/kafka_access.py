"""Who may do what on a secured Kafka: one principal per service, and the ACLs that let
each write only its own topic.

The single source of the access policy: ``deploy/local/kafka.sh`` applies it (with
``MARKETFLOW_KAFKA_SECURE=1``), ``deploy/README.md`` shows it (a unit test keeps the two
equal) and the secure integration test runs the services under it. Computed from the
map of who reads whom (``contracts.topics.UPSTREAM``, itself checked against the
services' wiring), so a new upstream is granted where it is wired.

- ``User:<service>`` WRITEs ``<ns>.<service>.events``: nobody else does, so a message
  there authenticated as that service (consumers also check that its ``ce_source``
  names the topic's producer; see ``shared/cloudevents.decode``);
- it READs the topics of its upstreams, in its consumer group ``<ns>.<service>``,
  and WRITEs their dead-letter topics (``<upstream topic>.dlq``: a consumer sets aside
  there what it can never apply, see ``shared/inbox.py``);
- it may DESCRIBE its own dead-letter topic (start-up checks that every topic it uses
  exists; consumers of its topic write there);
- it may DESCRIBE_CONFIGS every topic it uses (start-up checks their
  ``min.insync.replicas``, see ``shared/topic_layout.py``);
- other systems get a principal of their own for their topic (``User:crm`` WRITEs
  ``<ns>.crm.events``).

Topics are created by the administrator beforehand (``topic_configs``); services are
not allowed to create or delete topics, nor to change their configuration.
Principals are the same whether a client signs in with SCRAM (its user name) or with a
client certificate (the broker maps ``CN=<name>`` to ``User:<name>``).

``python -m shared.kafka_access spec`` prints the policy for kafka.sh, ``table`` the
Markdown table of the README.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from contracts.topics import EXTERNAL_TYPES, SERVICES, UPSTREAM
from shared.config import Settings

ADMIN = "admin"
"""The operator's principal (and the scripts'): a super user of the broker."""


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL: ``principal`` may do ``operation`` on a resource (literal name)."""

    principal: str  # a user name; the ACL's principal is "User:<principal>"
    resource_type: str  # TOPIC or GROUP
    name: str
    operation: str  # WRITE, READ, DESCRIBE or DESCRIBE_CONFIGS
    why: str = ""

    @property
    def acl_principal(self) -> str:
        return f"User:{self.principal}"


def external_producers() -> list[str]:
    """Other systems that write a topic of their own (e.g. crm)."""
    return sorted(EXTERNAL_TYPES)


def principals() -> list[str]:
    """Every principal the policy names (SCRAM users, certificate common names)."""
    return [ADMIN, *SERVICES, *external_producers()]


def topics(namespace: str) -> list[str]:
    """Every topic a deployment needs: each producer's and its dead-letter topic."""
    return [f"{namespace}.{producer}.events{suffix}"
            for producer in [*SERVICES, *external_producers()] for suffix in ("", ".dlq")]


def grants(namespace: str) -> list[Grant]:
    def topic(producer: str) -> str:
        return f"{namespace}.{producer}.events"

    policy = []
    for service in SERVICES:
        policy.append(Grant(service, "TOPIC", topic(service), "WRITE",
                            "its own events (outbox relay)"))
        policy.append(Grant(service, "TOPIC", topic(service) + ".dlq", "DESCRIBE",
                            "its topic's dead letters exist"))
        for upstream in UPSTREAM[service]:
            policy.append(Grant(service, "TOPIC", topic(upstream), "READ",
                                f"inbox: {upstream}'s events"))
            policy.append(Grant(service, "TOPIC", topic(upstream) + ".dlq", "WRITE",
                                f"inbox: dead letters of {upstream}'s events"))
        if UPSTREAM[service]:
            policy.append(Grant(service, "GROUP", f"{namespace}.{service}", "READ",
                                "inbox: its consumer group"))
        for producer in (service, *UPSTREAM[service]):
            for name in (topic(producer), topic(producer) + ".dlq"):
                policy.append(Grant(service, "TOPIC", name, "DESCRIBE_CONFIGS",
                                    "start-up checks its min.insync.replicas"))
    for system in external_producers():
        policy.append(Grant(system, "TOPIC", topic(system), "WRITE",
                            "what the external system reports"))
    return policy


def topic_configs(namespace: str) -> list[tuple[str, int, int]]:
    """(name, partitions, max.message.bytes) of each topic, as the services would create
    them (``shared.runtime.ensure_topics``), from this environment's settings."""
    settings = Settings.from_env(SERVICES[0])
    return [(name, settings.topic_partitions,
             settings.dead_letter_max_message_bytes if name.endswith(".dlq")
             else settings.kafka_max_message_bytes)
            for name in topics(namespace)]


def spec(namespace: str) -> str:
    """The policy as lines kafka.sh hands to ``deploy/local/KafkaAccess.java``:
    ``user <name>``, ``topic <name> <partitions> <max.message.bytes>`` and
    ``acl <principal> <resource type> <name> <operation>``."""
    lines = [f"user {name}" for name in principals()]
    lines += [f"topic {name} {partitions} {max_bytes}"
              for name, partitions, max_bytes in topic_configs(namespace)]
    lines += [f"acl {g.acl_principal} {g.resource_type} {g.name} {g.operation}"
              for g in grants(namespace)]
    return "\n".join(lines) + "\n"


def table(namespace: str = "marketflow") -> str:
    """The ACLs as the Markdown table in deploy/README.md."""
    rows = ["| principal | operation | resource | why |", "|---|---|---|---|"]
    rows += [f"| `User:{g.principal}` | {g.operation} | {g.resource_type.lower()} "
             f"`{g.name}` | {g.why} |" for g in grants(namespace)]
    rows.append(f"| `User:{ADMIN}`, `User:broker` | all (super users) | cluster | "
                "the operator and the scripts; the broker itself (inter-broker, controller) |")
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str]) -> int:
    usage = "usage: python -m shared.kafka_access {spec|table} [namespace]"
    if not argv or argv[0] not in ("spec", "table") or len(argv) > 2:
        print(usage, file=sys.stderr)
        return 2
    namespace = argv[1] if len(argv) > 1 else Settings.from_env(SERVICES[0]).namespace
    sys.stdout.write(spec(namespace) if argv[0] == "spec" else table(namespace))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
