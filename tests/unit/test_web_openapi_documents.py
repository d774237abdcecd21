"""The web app's typed client is generated from the committed OpenAPI documents: they must
be the services' own, or the client compiles against an API that no longer exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.web.openapi_dump import BUILDERS, OUT, document


@pytest.mark.parametrize("service", sorted(BUILDERS))
def test_the_committed_openapi_document_is_the_services_own(service: str,
                                                            tmp_path: Path) -> None:
    committed = OUT / f"{service}.json"
    assert committed.exists(), f"{committed} is missing: run `make contracts`"
    assert committed.read_text() == document(service, tmp_path), (
        f"{committed} is stale: run `make contracts` and commit it")
