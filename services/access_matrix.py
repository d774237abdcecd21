"""The README's access matrix, rendered from the services' policy tables (the tables are
the truth; ``make access-matrix`` writes them into README.md, and a test checks the
README is current)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from shared.config import SERVICES
from shared.policy import Policy

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- access-matrix:begin (make access-matrix) -->"
END = "<!-- access-matrix:end -->"


def policies() -> list[Policy]:
    return [importlib.import_module(f"services.{service}.policy").POLICY
            for service in SERVICES]


def rendered() -> str:
    return "\n\n".join(policy.markdown() for policy in policies())


def readme_with_matrix(readme: str) -> str:
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + rendered() + "\n" + readme[end:]


def main() -> int:
    text = README.read_text()
    updated = readme_with_matrix(text)
    if updated != text:
        README.write_text(updated)
        print(f"wrote the access matrix into {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
