"""The archive's tamper evidence (``services/reporting/transparency.py``): one changed
byte, one deleted event and two swapped events in the SQLite store are each detected and
named by ``marketflow audit verify``; an untouched archive verifies; proofs served from
the stored subtrees verify against signed tree heads."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from services.cli import app as cli
from services.reporting import merkle
from services.reporting.audit_verify import verify_archive
from services.reporting.domain import timeline_id
from services.reporting.transparency import (
    MerkleView,
    Transparency,
    TreeHead,
    canonical_bytes,
    verify_tree_head,
)
from services.reporting.wiring import build
from shared.config import Settings
from tests.unit.test_reporting_projection import (
    CAMPAIGN,
    TASKS,
    execution_topic,
    feed,
    planning_topic,
)

EVENTS = planning_topic() + execution_topic()


@contextmanager
def archive(directory: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Transparency]:
    """Reporting on a SQLite store in ``directory`` holding EVENTS, with a saved head."""
    monkeypatch.setenv("MARKETFLOW_STORE", "sqlite")
    monkeypatch.setenv("MARKETFLOW_SQLITE_DIR", str(directory))
    monkeypatch.delenv("MARKETFLOW_AUDIT_SIGNING_KEY_FILE", raising=False)
    parts = build(Settings.from_env("reporting"))
    try:
        view = next(view for view in parts.views if isinstance(view, MerkleView))
        feed(parts.application, EVENTS)  # type: ignore[arg-type]
        yield Transparency(parts.application, view)
    finally:
        parts.application.close()


def store(directory: Path) -> sqlite3.Connection:
    [path] = directory.glob("*-reporting.sqlite3")
    return sqlite3.connect(path)


def leaf_rowid(connection: sqlite3.Connection, subject: object) -> int:
    """The notification id of a subject's first archived event (a leaf)."""
    row = connection.execute("SELECT rowid FROM stored_events WHERE originator_id = ? AND "
                             "originator_version = 1", (timeline_id(str(subject)).hex,)
                             ).fetchone()
    return int(row[0])


def test_the_tree_covers_each_archived_event_once_in_arrival_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with archive(tmp_path, monkeypatch) as transparency:
        head = transparency.current_head()
        assert head.tree_size == len(EVENTS)
        history = transparency.app.history(str(CAMPAIGN))  # type: ignore[attr-defined]
        by_id = {entry.id: entry for entry in history}
        leaves = [merkle.leaf_hash(canonical_bytes(by_id[inbound.envelope.id]))
                  for inbound in EVENTS]
        root = merkle.naive_root(leaves)
        assert _b(head.root_hash) == root
        assert verify_tree_head(head, transparency.public_key)
        assert TreeHead.from_json(head.as_json()).signed_bytes().endswith(root)


def test_inclusion_and_consistency_proofs_verify_against_signed_heads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with archive(tmp_path, monkeypatch) as transparency:
        view = transparency.view
        view.catch_up()
        with view.store.transaction(commit=False) as sql:
            roots = {size: view.root(sql, size) for size in range(1, len(EVENTS) + 1)}
        for size, root in roots.items():
            for index, inbound in enumerate(EVENTS[:size]):
                proof = transparency.inclusion(inbound.envelope.id, size)
                assert proof.leaf_index == index
                assert merkle.verify_inclusion(
                    index, size, _b(proof.leaf_hash), [_b(p) for p in proof.audit_path], root)
            for first in range(1, size + 1):
                consistency = transparency.consistency(first, size)
                assert merkle.verify_consistency(
                    first, size, roots[first], root,
                    [_b(p) for p in consistency.consistency_path])


def _b(text: str) -> bytes:
    return base64.b64decode(text)


def run_verify(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "verify", *arguments])
    return result.exit_code, " ".join(result.output.split())


def test_an_untouched_archive_verifies(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with archive(tmp_path, monkeypatch) as transparency:
        head = transparency.publish()
        verdict = verify_archive(transparency.app, transparency.view, head,
                                 transparency.public_key)
        assert verdict.ok, verdict.findings
    saved = tmp_path / "head.json"
    saved.write_bytes(orjson.dumps(head.as_json()))
    assert run_verify()[0] == 0
    code, output = run_verify("--tree-head", str(saved))
    assert code == 0, output
    assert "verified" in output
    # A head whose signature does not hold is refused.
    forged = {**head.as_json(), "tree_size": head.tree_size - 1}
    saved.write_bytes(orjson.dumps(forged))
    code, output = run_verify("--tree-head", str(saved))
    assert code == 1 and "signature" in output, output


def tamper_one_byte(connection: sqlite3.Connection) -> str:
    rowid = leaf_rowid(connection, CAMPAIGN)
    [state] = connection.execute("SELECT state FROM stored_events WHERE rowid = ?",
                                 (rowid,)).fetchone()
    assert b"Spring launch" in state
    connection.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                       (state.replace(b"Spring launch", b"Spring lAunch"), rowid))
    return f"altered: event {CAMPAIGN}:1"


def tamper_undecodable_byte(connection: sqlite3.Connection) -> str:
    rowid = leaf_rowid(connection, TASKS[0])
    [state] = connection.execute("SELECT state FROM stored_events WHERE rowid = ?",
                                 (rowid,)).fetchone()
    connection.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                       (b"[" + state[1:], rowid))
    return f"altered: event {TASKS[0]}:1 (leaf 2)"


def delete_one(connection: sqlite3.Connection) -> str:
    connection.execute("DELETE FROM stored_events WHERE rowid = ?",
                       (leaf_rowid(connection, TASKS[1]),))
    return f"missing: event {TASKS[1]}:1 (leaf 3)"


def swap_two(connection: sqlite3.Connection) -> str:
    first, second = leaf_rowid(connection, TASKS[0]), leaf_rowid(connection, TASKS[2])
    connection.execute("UPDATE stored_events SET rowid = -1 WHERE rowid = ?", (first,))
    connection.execute("UPDATE stored_events SET rowid = ? WHERE rowid = ?", (first, second))
    connection.execute("UPDATE stored_events SET rowid = ? WHERE rowid = -1", (second,))
    return f"reordered: event {TASKS[0]}:1 belongs at leaf 2 but is stored at leaf 4"


@pytest.mark.parametrize("tamper", [tamper_one_byte, tamper_undecodable_byte, delete_one,
                                    swap_two], ids=lambda tamper: tamper.__name__)
def test_a_tampered_store_is_detected_and_the_event_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: object) -> None:
    with archive(tmp_path, monkeypatch) as transparency:
        transparency.publish()
    connection = store(tmp_path)
    with connection:
        expected = tamper(connection)  # type: ignore[operator]
    connection.close()
    code, output = run_verify()
    assert code == 1, output
    assert expected in output, output


def test_replicas_folding_the_same_tree_in_turns_agree_with_the_definition(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETFLOW_SQLITE_DIR", str(tmp_path))
    parts = build(Settings.from_env("reporting"))
    app = parts.application
    try:
        one = next(view for view in parts.views if isinstance(view, MerkleView))
        other = MerkleView(app)
        for turn, view in enumerate([one, other, one, other]):
            feed(app, EVENTS[turn * 2:turn * 2 + 2])  # type: ignore[arg-type]
            view.catch_up()
        history = {entry.id: entry for entry in app.history(str(CAMPAIGN))}  # type: ignore[attr-defined]
        leaves = [merkle.leaf_hash(canonical_bytes(history[inbound.envelope.id]))
                  for inbound in EVENTS]
        for view in (one, other):
            view.catch_up()
            with view.store.transaction(commit=False) as sql:
                assert [view.root(sql, size) for size in range(len(EVENTS) + 1)] == [
                    merkle.naive_root(leaves[:size]) for size in range(len(EVENTS) + 1)]
    finally:
        app.close()


def test_over_http_a_client_checks_a_head_and_an_event_with_the_published_key(
        tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tests.unit.in_process import auth, service_client

    with service_client("reporting", tmp_path) as client:
        feed(client.application, EVENTS[:5])
        first = client.get("/audit/tree-head", headers=auth("anna")).json()
        feed(client.application, EVENTS[5:])
        head = client.get("/audit/tree-head", headers=auth("anna")).json()
        key = client.get("/audit/public-key", headers=auth("anna")).json()
        public_key = serialization.load_pem_public_key(key["public_key_pem"].encode())
        assert isinstance(public_key, Ed25519PublicKey)
        assert (first["tree_size"], head["tree_size"]) == (5, len(EVENTS))
        assert all(verify_tree_head(TreeHead.from_json(signed), public_key)
                   for signed in (first, head))
        proof = client.get("/audit/proofs/inclusion", headers=auth("anna"), params={
            "event_id": EVENTS[3].envelope.id, "tree_size": 5}).json()
        assert merkle.verify_inclusion(3, 5, _b(proof["leaf_hash"]),
                                       [_b(p) for p in proof["audit_path"]],
                                       _b(first["root_hash"]))
        consistency = client.get("/audit/proofs/consistency", headers=auth("anna"),
                                 params={"first": 5}).json()
        assert merkle.verify_consistency(5, len(EVENTS), _b(first["root_hash"]),
                                         _b(head["root_hash"]),
                                         [_b(p) for p in consistency["consistency_path"]])
        assert client.get("/audit/tree-head", headers=auth("ben")).status_code == 403
        missing = client.get("/audit/proofs/inclusion", headers=auth("anna"),
                             params={"event_id": "nope"})
        assert missing.status_code == 404
        too_big = client.get("/audit/proofs/consistency", headers=auth("anna"),
                             params={"first": 99})
        assert too_big.status_code == 422, too_big.text
