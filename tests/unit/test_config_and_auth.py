from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.auth import TokenRegistry
from shared.config import Settings


def test_settings_from_environment() -> None:
    settings = Settings.from_env("execution", {
        "MARKETFLOW_KAFKA_BOOTSTRAP": "kafka:9092", "MARKETFLOW_STORE": "postgres",
        "MARKETFLOW_POSTGRES_URL": "postgresql://u:p%40ss@db:6543/mf",
        "MARKETFLOW_EXECUTION_PORT": "9002", "MARKETFLOW_NAMESPACE": "acme",
    })
    assert settings.http_port == 9002
    assert settings.topic() == "acme.execution.events"
    assert settings.dead_letter_topic("planning") == "acme.planning.events.dlq"
    env = settings.store_environment()
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_PASSWORD"]) == (
        "db", "6543", "p@ss")
    assert env["POSTGRES_SCHEMA"] == "acme_execution"


def test_inbound_gathering_is_the_services_own_unless_set() -> None:
    defaults = {service: Settings.from_env(service, {}).inbound_gather
                for service in ("planning", "execution", "notification", "reporting")}
    # What people watch answers at once; the copies nobody waits on gather.
    assert defaults == {"planning": 100, "execution": 0, "notification": 100, "reporting": 0}
    assert Settings(service="notification").inbound_gather == 100  # not from_env: same
    for service in ("notification", "reporting"):
        assert Settings.from_env(service, {"MARKETFLOW_INBOUND_GATHER_MS": "0"}
                                 ).inbound_gather == 0
        assert Settings.from_env(service, {"MARKETFLOW_INBOUND_GATHER_MS": "250"}
                                 ).inbound_gather == 250
    for nonsense in ("-5", "soon"):
        with pytest.raises(ValueError, match="MARKETFLOW_INBOUND_GATHER_MS"):
            Settings.from_env("planning", {"MARKETFLOW_INBOUND_GATHER_MS": nonsense})


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="MARKETFLOW_STORE"):
        Settings.from_env("planning", {"MARKETFLOW_STORE": "mongodb"})
    with pytest.raises(ValueError, match="unknown service"):
        Settings.from_env("billing", {})


def test_tokens_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"s3cret": {"member_id": "anna", "name": "Anna"}}))
    registry = TokenRegistry.from_file(path)
    member = registry.member_for("s3cret")
    assert member is not None and member.member_id == "anna"
    assert registry.member_for("s3cre") is None
    assert TokenRegistry.from_file(None).member_for("s3cret") is None
