"""Writes the four services' OpenAPI documents to services/web/frontend/openapi/<service>.json
without running any service: each FastAPI app is built (its lifespan is never entered, so
nothing connects to Kafka or a database server) and asked for its document.

The web app's typed client is generated from these files (``npm run generate``); they are
committed as the checked contract between the services and the web app.

    .venv/bin/python -m services.web.openapi_dump [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from services.execution.wiring import build as build_execution
from services.notification.wiring import build as build_notification
from services.planning.wiring import build as build_planning
from services.reporting.wiring import build as build_reporting
from shared.auth import TokenRegistry
from shared.config import Settings
from shared.runtime import Builder, create_http_app

BUILDERS: dict[str, Builder] = {
    "planning": build_planning,
    "execution": build_execution,
    "notification": build_notification,
    "reporting": build_reporting,
}
OUT = Path(__file__).parent / "frontend" / "openapi"


def document(service: str, directory: Path) -> str:
    settings = replace(Settings(service=service), sqlite_dir=directory)
    app = create_http_app(settings, BUILDERS[service], tokens=TokenRegistry({}),
                          oidc_settings=None)
    try:
        return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
    finally:
        close = getattr(app.state.runtime.application, "close", None)
        if close:
            close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="fail when a committed document differs from the services'")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for service in BUILDERS:
            text = document(service, Path(tmp) / service)
            target = OUT / f"{service}.json"
            if args.check:
                if not target.exists() or target.read_text() != text:
                    stale.append(service)
            else:
                target.write_text(text)
    if stale:
        print(f"stale OpenAPI documents: {', '.join(stale)} (run services/web/openapi_dump.py)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
