"""Runs ``tests/asyncapi/check.mjs``: the AsyncAPI project's own parser (``@asyncapi/parser``,
pinned in ``tests/asyncapi/package-lock.json``) on ``contracts/asyncapi.json``, and
optionally messages as sent on the wire against the messages it describes.

``make test`` installs the parser with ``npm ci``; so does this module when it is missing
(a bare ``pytest``). Without Node.js the tests fail and say so; they never skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from aiokafka import ConsumerRecord

from contracts.asyncapi import DOCUMENT

CHECKER = Path(__file__).parent / "asyncapi"


def ensure_installed() -> None:
    if (CHECKER / "node_modules" / "@asyncapi" / "parser").is_dir():
        return
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), (
        "Node.js and npm are needed to run the AsyncAPI parser: install them (Debian: "
        "`apt-get install nodejs npm`)")
    # Scripts off: the parser needs none (one dependency's only script is telemetry).
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=CHECKER,
                   check=True, capture_output=True, timeout=300)


def check(document: Path = DOCUMENT,
          messages: Sequence[dict[str, object]] | None = None) -> subprocess.CompletedProcess[str]:
    """The checker's result: exit code 0 when the document parses without errors (and every
    message is described); diagnostics on stderr."""
    ensure_installed()
    node = shutil.which("node")
    assert node, "Node.js is needed to run the AsyncAPI parser"
    with tempfile.TemporaryDirectory() as directory:
        arguments = [node, str(CHECKER / "check.mjs"), str(document)]
        if messages is not None:
            path = Path(directory) / "messages.json"
            path.write_text(json.dumps(list(messages)))
            arguments.append(str(path))
        return subprocess.run(arguments, cwd=CHECKER, capture_output=True, text=True,
                              timeout=120)


def wire_message(topic: str, key: bytes | None, headers: Iterable[tuple[str, bytes]],
                 body: bytes | None) -> dict[str, object]:
    """A Kafka message as the checker takes it: headers as text, body as JSON."""
    return {"topic": topic, "key": key.decode() if key is not None else None,
            "headers": {name: value.decode() for name, value in headers},
            "body": json.loads(body) if body else None}


def record_message(record: ConsumerRecord[bytes, bytes], topic: str) -> dict[str, object]:
    """A record read from a (namespaced) test topic, under the topic name the document
    gives it."""
    return wire_message(topic, record.key, record.headers, record.value)
