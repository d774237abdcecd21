"""Service configuration, read once from the environment (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

SERVICES = ("planning", "execution", "notification", "reporting")
DEFAULT_PORTS = {"planning": 8001, "execution": 8002, "notification": 8003, "reporting": 8004}
# Room for the dead-letter headers (reason, detail up to 2000 bytes, position) on top of
# the largest message a topic takes.
DEAD_LETTER_HEADROOM_BYTES = 65_536


@dataclass(frozen=True)
class Settings:
    service: str
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Prefix of every topic and consumer group; tests use their own to stay isolated.
    namespace: str = "marketflow"
    store: Literal["sqlite", "postgres"] = "sqlite"
    sqlite_dir: Path = Path("var/data")
    postgres_url: str = "postgresql://marketflow:marketflow@127.0.0.1:5432/marketflow"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    tokens_file: Path | None = None
    # The relay is woken on every commit (in-process, and by PostgreSQL NOTIFY from other
    # replicas); this poll is only the fallback.
    relay_poll_seconds: float = 1.0
    topic_partitions: int = 3
    # The largest message the relay's producer sends and the service's topics accept
    # (max_request_size, max.message.bytes). Events are limited to half of it: see
    # ``max_event_bytes``.
    kafka_max_message_bytes: int = 1_048_576
    kafka_compression: Literal["zstd", "lz4", "gzip", "none"] = "zstd"
    # Largest HTTP request body a service reads.
    max_request_bytes: int = 1_048_576
    # A background flow (outbox relay, inbox consumer) that cannot make progress for
    # longer than this shows as stalled on /health/status.
    stall_seconds: float = 30.0
    # How long start-up waits for Kafka before serving anyway (connecting in the
    # background): a pod started during a broker outage serves from its store.
    kafka_connect_seconds: float = 10.0
    # The library's aggregate cache, fast-forwarded from the store on every read (so
    # it stays correct with several replicas): hot aggregates are not replayed each time.
    aggregate_cache_size: int = 1000

    @classmethod
    def from_env(cls, service: str, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; expected one of {SERVICES}")
        store = env.get("MARKETFLOW_STORE", "sqlite")
        if store not in ("sqlite", "postgres"):
            raise ValueError(f"MARKETFLOW_STORE must be 'sqlite' or 'postgres', not {store!r}")
        port_var = f"MARKETFLOW_{service.upper()}_PORT"
        tokens = env.get("MARKETFLOW_TOKENS_FILE")
        compression = env.get("MARKETFLOW_KAFKA_COMPRESSION", cls.kafka_compression)
        if compression not in ("zstd", "lz4", "gzip", "none"):
            raise ValueError("MARKETFLOW_KAFKA_COMPRESSION must be zstd, lz4, gzip or none, "
                             f"not {compression!r}")
        return cls(
            service=service,
            kafka_bootstrap=env.get("MARKETFLOW_KAFKA_BOOTSTRAP", cls.kafka_bootstrap),
            namespace=env.get("MARKETFLOW_NAMESPACE", cls.namespace),
            store=store,  # type: ignore[arg-type]
            sqlite_dir=Path(env.get("MARKETFLOW_SQLITE_DIR", str(cls.sqlite_dir))),
            postgres_url=env.get("MARKETFLOW_POSTGRES_URL", cls.postgres_url),
            http_host=env.get("MARKETFLOW_HTTP_HOST", cls.http_host),
            http_port=int(env.get(port_var, DEFAULT_PORTS[service])),
            tokens_file=Path(tokens) if tokens else None,
            relay_poll_seconds=_positive(env, "MARKETFLOW_RELAY_POLL_SECONDS",
                                         cls.relay_poll_seconds),
            aggregate_cache_size=int(env.get("MARKETFLOW_AGGREGATE_CACHE_SIZE", "1000")),
            kafka_max_message_bytes=int(_positive(env, "MARKETFLOW_KAFKA_MAX_MESSAGE_BYTES",
                                                  cls.kafka_max_message_bytes)),
            kafka_compression=compression,  # type: ignore[arg-type]
            max_request_bytes=int(_positive(env, "MARKETFLOW_MAX_REQUEST_BYTES",
                                            cls.max_request_bytes)),
            stall_seconds=_positive(env, "MARKETFLOW_STALL_SECONDS", cls.stall_seconds),
            kafka_connect_seconds=_positive(env, "MARKETFLOW_KAFKA_CONNECT_SECONDS",
                                            cls.kafka_connect_seconds),
        )

    @property
    def max_event_bytes(self) -> int:
        """The largest stored event a service may commit. Half the message limit leaves
        room for the CloudEvents headers and for the published form of an event, which
        can be somewhat larger than the stored one; so an event the broker would refuse
        can never be committed (compression only adds to the margin)."""
        return self.kafka_max_message_bytes // 2

    @property
    def dead_letter_max_message_bytes(self) -> int:
        """Dead-letter topics (and the inbox's producer) take an upstream message as large
        as the upstream topic allows plus the ``dlq_*`` headers, so dead-lettering never
        fails on size and the consumer never loops on a message it meant to set aside."""
        return self.kafka_max_message_bytes + DEAD_LETTER_HEADROOM_BYTES

    @property
    def kafka_compression_type(self) -> str | None:
        """The producers' ``compression_type`` (aiokafka's spelling)."""
        return None if self.kafka_compression == "none" else self.kafka_compression

    def topic(self, service: str | None = None) -> str:
        return f"{self.namespace}.{service or self.service}.events"

    def dead_letter_topic(self, service: str | None = None) -> str:
        return self.topic(service) + ".dlq"

    @property
    def consumer_group(self) -> str:
        return f"{self.namespace}.{self.service}"

    @property
    def event_source(self) -> str:
        return f"/marketflow/{self.service}"

    def store_environment(self) -> dict[str, str]:
        """The eventsourcing library's own settings for this service's event store."""
        cache = {"AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache_size)} \
            if self.aggregate_cache_size > 0 else {}
        return cache | self._persistence_environment()

    def _persistence_environment(self) -> dict[str, str]:
        if self.store == "sqlite":
            self.sqlite_dir.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_dir / f"{self.namespace}-{self.service}.sqlite3"),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        url = urlparse(self.postgres_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "marketflow",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "marketflow"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            # One schema per service: no service can read another's tables by accident.
            "POSTGRES_SCHEMA": self.postgres_schema,
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "10",
            "POSTGRES_CONN_MAX_AGE": "600",
            "POSTGRES_LOCK_TIMEOUT": "5",
        }

    @property
    def postgres_schema(self) -> str:
        return f"{self.namespace}_{self.service}".replace(".", "_").replace("-", "_")

    @property
    def commit_channel(self) -> str:
        """PostgreSQL NOTIFY channel raised by every commit to this service's store, named
        from its schema (channels are per database, schemas share one)."""
        return f"{self.postgres_schema}_events"


def _positive(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, not {raw!r}")
    return value
