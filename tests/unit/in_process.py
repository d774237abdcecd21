"""A service's HTTP app in the test process, on a SQLite store of its own and without
Kafka: for tests where the HTTP layer is the point (status codes, error shapes)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shared.config import Settings
from shared.runtime import create_http_app
from tests.harness import BUILDERS, TOKENS, auth

__all__ = ["ServiceClient", "auth", "service_client"]


class ServiceClient(TestClient):
    @property
    def application(self) -> Any:
        return self.app.state.runtime.application  # type: ignore[attr-defined]

    def head_position(self) -> int:
        """The store's last notification: unchanged after a refused command."""
        return int(self.application.recorder.max_notification_id() or 0)


@contextmanager
def service_client(service: str, directory: Path) -> Iterator[ServiceClient]:
    """The lifespan is not entered: no relay, no inbox, nothing connects to Kafka; read
    models catch up on each query."""
    settings = replace(Settings(service=service), sqlite_dir=directory)
    app = create_http_app(settings, BUILDERS[service], tokens=TOKENS)
    client = ServiceClient(app, raise_server_exceptions=False)
    try:
        yield client
    finally:
        client.application.close()
