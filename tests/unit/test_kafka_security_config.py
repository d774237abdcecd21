"""Kafka security settings (MARKETFLOW_KAFKA_SECURITY_PROTOCOL and friends) and the
access policy the secure broker applies: in-process, no broker."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import certifi
import pytest
from faststream.kafka.security import parse_security

from contracts.topics import EXTERNAL_TYPES, SERVICES, UPSTREAM
from shared import kafka_access
from shared.config import KafkaSecurity, Settings

ROOT = Path(__file__).resolve().parents[2]
CA = certifi.where()  # any real PEM bundle: these tests make contexts, not connections


def settings(**env: str) -> Settings:
    return Settings.from_env("planning", {"MARKETFLOW_KAFKA_BOOTSTRAP": "kafka:9093", **env})


def sasl_ssl(**env: str) -> dict[str, str]:
    return {"MARKETFLOW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "MARKETFLOW_KAFKA_SASL_USERNAME": "planning",
            "MARKETFLOW_KAFKA_SASL_PASSWORD": "s3cret",
            "MARKETFLOW_KAFKA_SSL_CAFILE": CA, **env}


def without_context(options: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in options.items() if name != "ssl_context"}


def test_plaintext_is_the_default() -> None:
    plain = settings()
    assert plain.kafka_client_options() == {"bootstrap_servers": "kafka:9093",
                                            "security_protocol": "PLAINTEXT"}
    assert plain.kafka_security.faststream() is None


def test_sasl_ssl_with_scram_sha_512() -> None:
    secure = settings(**sasl_ssl())
    options = secure.kafka_client_options()
    assert without_context(options) == {
        "bootstrap_servers": "kafka:9093", "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "planning",
        "sasl_plain_password": "s3cret"}
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize("env", [
    {},
    {"MARKETFLOW_KAFKA_SECURITY_PROTOCOL": "SSL", "MARKETFLOW_KAFKA_SSL_CAFILE": CA},
    {"MARKETFLOW_KAFKA_SECURITY_PROTOCOL": "SSL"},  # the system's CAs
    sasl_ssl(),
    sasl_ssl(MARKETFLOW_KAFKA_SASL_MECHANISM="scram-sha-256"),
    sasl_ssl(MARKETFLOW_KAFKA_SASL_MECHANISM="PLAIN"),
    {"MARKETFLOW_KAFKA_SECURITY_PROTOCOL": "sasl_plaintext",
     "MARKETFLOW_KAFKA_SASL_USERNAME": "u", "MARKETFLOW_KAFKA_SASL_PASSWORD": "p"},
])
def test_faststream_gets_the_same_options_as_aiokafka(env: dict[str, str]) -> None:
    """The broker (inbox) and the plain clients (relay, admin) connect the same way."""
    security = settings(**env).kafka_security
    expected = security.client_options()
    given = parse_security(security.faststream())
    if security.protocol == "PLAINTEXT":
        assert given == {}
        return
    assert without_context(given) == without_context(expected)
    assert isinstance(given["ssl_context"], ssl.SSLContext) == security.uses_tls


def test_password_from_a_mounted_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-the-file\n")
    env = sasl_ssl(MARKETFLOW_KAFKA_SASL_PASSWORD_FILE=str(secret))
    del env["MARKETFLOW_KAFKA_SASL_PASSWORD"]
    assert settings(**env).kafka_security.sasl_password == "from-the-file"


def test_secrets_are_not_in_repr(tmp_path: Path) -> None:
    security = settings(**sasl_ssl(MARKETFLOW_KAFKA_SSL_KEY_PASSWORD="keypass",
                                   MARKETFLOW_KAFKA_SSL_CERTFILE=CA)).kafka_security
    assert "s3cret" not in repr(security) and "keypass" not in repr(security)
    assert "s3cret" not in repr(settings(**sasl_ssl()))


@pytest.mark.parametrize(("env", "message"), [
    ({"MARKETFLOW_KAFKA_SECURITY_PROTOCOL": "TLS"},
     "MARKETFLOW_KAFKA_SECURITY_PROTOCOL must be one of PLAINTEXT, SSL"),
    (sasl_ssl(MARKETFLOW_KAFKA_SASL_MECHANISM="GSSAPI"),
     "MARKETFLOW_KAFKA_SASL_MECHANISM must be one of SCRAM-SHA-512"),
    (sasl_ssl(MARKETFLOW_KAFKA_SASL_USERNAME=""),
     "MARKETFLOW_KAFKA_SASL_USERNAME is required when MARKETFLOW_KAFKA_SECURITY_PROTOCOL "
     "is SASL_SSL"),
    (sasl_ssl(MARKETFLOW_KAFKA_SASL_PASSWORD=""),
     r"MARKETFLOW_KAFKA_SASL_PASSWORD \(or MARKETFLOW_KAFKA_SASL_PASSWORD_FILE\) is required"),
    (sasl_ssl(MARKETFLOW_KAFKA_SASL_PASSWORD_FILE="/nonexistent/password"),
     "set MARKETFLOW_KAFKA_SASL_PASSWORD or MARKETFLOW_KAFKA_SASL_PASSWORD_FILE, not both"),
    ({"MARKETFLOW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "MARKETFLOW_KAFKA_SASL_USERNAME": "u",
      "MARKETFLOW_KAFKA_SASL_PASSWORD_FILE": "/nonexistent/password"},
     "MARKETFLOW_KAFKA_SASL_PASSWORD_FILE: cannot read '/nonexistent/password'"),
    ({"MARKETFLOW_KAFKA_SASL_USERNAME": "planning", "MARKETFLOW_KAFKA_SASL_PASSWORD": "p"},
     "MARKETFLOW_KAFKA_SASL_USERNAME/PASSWORD are set but "
     "MARKETFLOW_KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
    (sasl_ssl(MARKETFLOW_KAFKA_SSL_CAFILE="/nonexistent/ca.pem"),
     "MARKETFLOW_KAFKA_SSL_CAFILE: no such file '/nonexistent/ca.pem'"),
    ({"MARKETFLOW_KAFKA_SSL_CAFILE": CA},
     "MARKETFLOW_KAFKA_SSL_CAFILE set but MARKETFLOW_KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
    ({"MARKETFLOW_KAFKA_SECURITY_PROTOCOL": "SSL", "MARKETFLOW_KAFKA_SSL_KEYFILE": CA},
     "MARKETFLOW_KAFKA_SSL_KEYFILE/KEY_PASSWORD need MARKETFLOW_KAFKA_SSL_CERTFILE"),
])
def test_misconfiguration_is_refused_naming_the_variable(env: dict[str, str],
                                                         message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings(**env)


def test_invalid_security_cannot_be_built_directly_either() -> None:
    with pytest.raises(ValueError, match="MARKETFLOW_KAFKA_SASL_USERNAME"):
        KafkaSecurity("SASL_SSL", sasl_password="p")


# ---- the access policy (shared/kafka_access.py) ------------------------------------------

def test_only_a_service_writes_its_own_topic() -> None:
    grants = kafka_access.grants("ns")
    for producer in [*SERVICES, *EXTERNAL_TYPES]:
        writers = {g.principal for g in grants
                   if g.name == f"ns.{producer}.events" and g.operation == "WRITE"}
        assert writers == {producer}


def test_each_service_reads_its_upstreams_and_nothing_else() -> None:
    grants = kafka_access.grants("ns")
    for service in SERVICES:
        reads = {g.name for g in grants if g.principal == service and g.operation == "READ"
                 and g.resource_type == "TOPIC"}
        assert reads == {f"ns.{upstream}.events" for upstream in UPSTREAM[service]}
        dead_letters = {g.name for g in grants if g.principal == service
                        and g.operation == "WRITE" and g.name.endswith(".dlq")}
        assert dead_letters == {f"ns.{upstream}.events.dlq" for upstream in UPSTREAM[service]}
        groups = {g.name for g in grants if g.principal == service
                  and g.resource_type == "GROUP"}
        assert groups == {settings(MARKETFLOW_NAMESPACE="ns").consumer_group.replace(
            "planning", service)}


def test_every_topic_a_service_checks_at_start_up_is_visible_to_it() -> None:
    """ensure_topics lists its own, its upstreams' and their dead-letter topics; a topic
    it may not even DESCRIBE would look missing and be created (which it may not)."""
    grants = kafka_access.grants("ns")
    for service in SERVICES:
        own = Settings(service=service, namespace="ns")
        needed = {name for topic in (own.topic(), *map(own.topic, UPSTREAM[service]))
                  for name in (topic, topic + ".dlq")}
        visible = {g.name for g in grants if g.principal == service}
        assert needed <= visible
        assert needed <= set(kafka_access.topics("ns"))


def test_the_documented_table_is_the_applied_policy() -> None:
    readme = (ROOT / "deploy" / "README.md").read_text()
    assert kafka_access.table() in readme, (
        "deploy/README.md's ACL table differs from shared/kafka_access.py: paste "
        "`python -m shared.kafka_access table`")


def test_the_policy_spec_for_the_script() -> None:
    spec = kafka_access.spec("ns").splitlines()
    assert [line.split()[1] for line in spec if line.startswith("user ")] == [
        "admin", *SERVICES, "crm"]
    assert "acl User:execution TOPIC ns.planning.events READ" in spec
    assert "topic ns.planning.events.dlq 3 1114112" in spec
