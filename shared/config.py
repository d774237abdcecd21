"""Service configuration, read once from the environment (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from ssl import SSLContext

    from faststream.security import BaseSecurity

SERVICES = ("planning", "execution", "notification", "reporting")
DEFAULT_PORTS = {"planning": 8001, "execution": 8002, "notification": 8003, "reporting": 8004}
# How long each service's inbox lets upstream events gather before applying them (0:
# apply each as soon as it lands). Reporting (what is visible, audited) and execution
# (a planned campaign's tasks appear on the board) answer at once; nobody waits on
# notification's or planning's copy by the millisecond, and a fuller batch costs them a
# fraction of the CPU per event (one transaction, offset commit and read-model pass per
# batch), which on a shared machine is CPU the latency-sensitive services get back.
DEFAULT_INBOUND_GATHER_MS = {"planning": 100, "execution": 0, "notification": 100,
                             "reporting": 0}
# Room for the dead-letter headers (reason, detail up to 2000 bytes, position) on top of
# the largest message a topic takes.
DEAD_LETTER_HEADROOM_BYTES = 65_536

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
SECURITY_PROTOCOLS: tuple[SecurityProtocol, ...] = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT",
                                                    "SASL_SSL")
SASL_MECHANISMS: tuple[SaslMechanism, ...] = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


@dataclass(frozen=True)
class KafkaSecurity:
    """How every Kafka client of a service authenticates and encrypts: the protocol,
    SASL credentials and TLS files (``MARKETFLOW_KAFKA_SECURITY_PROTOCOL`` and friends,
    see the README). The one source of the clients' security options:
    ``client_options`` for aiokafka and ``faststream`` for FastStream's broker.

    Mutual TLS is ``SSL`` with a client certificate and key; the broker maps the
    certificate to the service's principal. Secrets never appear in ``repr``."""

    protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    # CA bundle to verify the brokers (PEM); none: the system's trusted CAs.
    ssl_cafile: Path | None = None
    # Client certificate (PEM) and its key, for mutual TLS.
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.protocol not in SECURITY_PROTOCOLS:
            raise ValueError("MARKETFLOW_KAFKA_SECURITY_PROTOCOL must be one of "
                             f"{', '.join(SECURITY_PROTOCOLS)}, not {self.protocol!r}")
        if self.sasl_mechanism not in SASL_MECHANISMS:
            raise ValueError("MARKETFLOW_KAFKA_SASL_MECHANISM must be one of "
                             f"{', '.join(SASL_MECHANISMS)}, not {self.sasl_mechanism!r}")
        where = f"MARKETFLOW_KAFKA_SECURITY_PROTOCOL is {self.protocol}"
        if self.uses_sasl:
            if not self.sasl_username:
                raise ValueError(f"MARKETFLOW_KAFKA_SASL_USERNAME is required when {where}")
            if not self.sasl_password:
                raise ValueError("MARKETFLOW_KAFKA_SASL_PASSWORD (or "
                                 f"MARKETFLOW_KAFKA_SASL_PASSWORD_FILE) is required when {where}")
        elif self.sasl_username or self.sasl_password:
            # Credentials that would be silently ignored are a misconfiguration.
            raise ValueError("MARKETFLOW_KAFKA_SASL_USERNAME/PASSWORD are set but "
                             f"{where}: use SASL_SSL (or SASL_PLAINTEXT) to send them")
        files = {"MARKETFLOW_KAFKA_SSL_CAFILE": self.ssl_cafile,
                 "MARKETFLOW_KAFKA_SSL_CERTFILE": self.ssl_certfile,
                 "MARKETFLOW_KAFKA_SSL_KEYFILE": self.ssl_keyfile}
        if not self.uses_tls:
            named = [name for name, path in files.items() if path is not None]
            if named or self.ssl_key_password:
                raise ValueError(f"{', '.join(named) or 'MARKETFLOW_KAFKA_SSL_KEY_PASSWORD'} "
                                 f"set but {where}: use SSL or SASL_SSL for TLS")
            return
        for name, path in files.items():
            if path is not None and not path.is_file():
                raise ValueError(f"{name}: no such file {str(path)!r}")
        if self.ssl_certfile is None and (self.ssl_keyfile or self.ssl_key_password):
            raise ValueError("MARKETFLOW_KAFKA_SSL_KEYFILE/KEY_PASSWORD need "
                             "MARKETFLOW_KAFKA_SSL_CERTFILE (the client certificate)")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @classmethod
    def from_env(cls, env: dict[str, str]) -> KafkaSecurity:
        def path(name: str) -> Path | None:
            value = env.get(name)
            return Path(value) if value else None

        return cls(
            protocol=env.get("MARKETFLOW_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"
                             ).strip().upper(),  # type: ignore[arg-type]
            sasl_mechanism=env.get("MARKETFLOW_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"
                                   ).strip().upper(),  # type: ignore[arg-type]
            sasl_username=env.get("MARKETFLOW_KAFKA_SASL_USERNAME") or None,
            sasl_password=_secret(env, "MARKETFLOW_KAFKA_SASL_PASSWORD"),
            ssl_cafile=path("MARKETFLOW_KAFKA_SSL_CAFILE"),
            ssl_certfile=path("MARKETFLOW_KAFKA_SSL_CERTFILE"),
            ssl_keyfile=path("MARKETFLOW_KAFKA_SSL_KEYFILE"),
            ssl_key_password=_secret(env, "MARKETFLOW_KAFKA_SSL_KEY_PASSWORD"),
        )

    def ssl_context(self) -> SSLContext | None:
        """A fresh context verifying the broker's certificate and host name (and
        presenting the client certificate, for mutual TLS); None without TLS."""
        if not self.uses_tls:
            return None
        from aiokafka.helpers import create_ssl_context

        context: SSLContext = create_ssl_context(
            cafile=str(self.ssl_cafile) if self.ssl_cafile else None,
            certfile=str(self.ssl_certfile) if self.ssl_certfile else None,
            keyfile=str(self.ssl_keyfile) if self.ssl_keyfile else None,
            password=self.ssl_key_password,
        )
        return context

    def client_options(self) -> dict[str, Any]:
        """aiokafka's keyword arguments (producer, consumer, admin client)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options |= {"sasl_mechanism": self.sasl_mechanism,
                        # aiokafka's names, used by SCRAM as well as PLAIN.
                        "sasl_plain_username": self.sasl_username,
                        "sasl_plain_password": self.sasl_password}
        return options

    def faststream(self) -> BaseSecurity | None:
        """The same options as FastStream's ``KafkaBroker(security=...)`` takes them
        (it turns them back into aiokafka's, see ``faststream.kafka.security``)."""
        from faststream.security import (
            BaseSecurity,
            SASLPlaintext,
            SASLScram256,
            SASLScram512,
        )

        if self.protocol == "PLAINTEXT":
            return None
        context = self.ssl_context()
        if not self.uses_sasl:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        kind = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256,
                "PLAIN": SASLPlaintext}[self.sasl_mechanism]
        assert self.sasl_username is not None and self.sasl_password is not None
        return kind(self.sasl_username, self.sasl_password, ssl_context=context,
                    use_ssl=self.uses_tls)


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
    # Topics' layout, created so and checked at start-up (``ensure_topics``). The defaults
    # are production's (three brokers): a single-broker setup sets 1 and 1 explicitly.
    topic_partitions: int = 3
    topic_replication_factor: int = 3
    topic_min_insync_replicas: int = 2
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
    # None: the service's default, ``DEFAULT_INBOUND_GATHER_MS``; see ``inbound_gather``.
    inbound_gather_ms: int | None = None
    kafka_security: KafkaSecurity = KafkaSecurity()

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
            inbound_gather_ms=(_whole(env, "MARKETFLOW_INBOUND_GATHER_MS", 0, least=0)
                               if "MARKETFLOW_INBOUND_GATHER_MS" in env else None),
            kafka_security=KafkaSecurity.from_env(env),
            **_topic_layout(env),
        )

    @property
    def inbound_gather(self) -> int:
        """Milliseconds the inbox's fetch may wait for more upstream events once one is
        there (less once about a batch's worth has come, ``inbox.INBOUND_GATHER_BYTES``):
        the events of the same moment are applied as one batch, not one by one."""
        if self.inbound_gather_ms is not None:
            return self.inbound_gather_ms
        return DEFAULT_INBOUND_GATHER_MS[self.service]

    def kafka_client_options(self) -> dict[str, Any]:
        """Where and how to reach Kafka, as aiokafka's keyword arguments: every Kafka
        client the services build starts from these (FastStream's broker from
        ``kafka_security.faststream()``, the same options)."""
        return {"bootstrap_servers": self.kafka_bootstrap,
                **self.kafka_security.client_options()}

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


def _topic_layout(env: dict[str, str]) -> dict[str, int]:
    layout = {
        "topic_partitions": _whole(env, "MARKETFLOW_KAFKA_TOPIC_PARTITIONS",
                                   Settings.topic_partitions),
        "topic_replication_factor": _whole(env, "MARKETFLOW_KAFKA_REPLICATION_FACTOR",
                                           Settings.topic_replication_factor),
        "topic_min_insync_replicas": _whole(env, "MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS",
                                            Settings.topic_min_insync_replicas),
    }
    # More in-sync replicas than replicas: every acks=all send would fail.
    if layout["topic_min_insync_replicas"] > layout["topic_replication_factor"]:
        raise ValueError(
            f"MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS ({layout['topic_min_insync_replicas']}) "
            "cannot exceed MARKETFLOW_KAFKA_REPLICATION_FACTOR "
            f"({layout['topic_replication_factor']})")
    return layout


def _whole(env: dict[str, str], name: str, default: int, least: int = 1) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < least:
        raise ValueError(f"{name} must be at least {least}, not {raw!r}")
    return value


def _secret(env: dict[str, str], name: str) -> str | None:
    """``NAME``, or the content of the file ``NAME_FILE`` names (a mounted Kubernetes
    secret), without its trailing newline; never both."""
    value, file = env.get(name) or None, env.get(f"{name}_FILE") or None
    if value is not None and file is not None:
        raise ValueError(f"set {name} or {name}_FILE, not both")
    if file is None:
        return value
    try:
        return Path(file).read_text().rstrip("\r\n") or None
    except OSError as error:
        raise ValueError(f"{name}_FILE: cannot read {file!r}: {error.strerror}") from None


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
