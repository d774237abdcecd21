"""Tamper evidence for the archive: an append-only Merkle tree (RFC 9162 style, see
``merkle.py``) over every archived event in arrival order, signed tree heads, and
inclusion and consistency proofs.

Leaves: each archived event once, in the order of reporting's notification log (an event
is filed on its subject's timeline and again on its campaign's; the subject's copy is the
leaf). A leaf's data is the event's canonical bytes (``canonical_bytes``): the archived
entry (envelope and payload) as JSON with sorted keys, no whitespace, times in ISO 8601,
UTF-8 (orjson ``OPT_SORT_KEYS``).

The tree is a read model (``MerkleView``): leaf hashes, and the hash of every complete
power-of-two subtree as the append that completes it is folded, so a root or a proof
reads O(log n) stored hashes, never the events.

Signed tree heads: Ed25519 over ``TREE_HEAD_PREFIX || tree_size (u64 big-endian) ||
timestamp in ms since the epoch (u64 big-endian) || root_hash (32 bytes)``. The key is
the PEM (PKCS#8) file ``MARKETFLOW_AUDIT_SIGNING_KEY_FILE``; without one, a development
key is created (with a warning) in the local data directory (``MARKETFLOW_SQLITE_DIR``,
whichever the store) and used from then on: configure a key in production. Heads are
saved in ``audit_tree_heads`` when published (periodically and when asked for one that
covers new events).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from functools import singledispatchmethod
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from services.reporting import merkle
from services.reporting.domain import ArchivedEvent, Timeline, archived_once
from services.reporting.policy import POLICY
from shared.application import ServiceApplication
from shared.domain import InvalidCommand, NotFound
from shared.policy import Caller
from shared.projections import Projection, ReadStore, Sql, Table

log = logging.getLogger(__name__)

KEY_FILE_VARIABLE = "MARKETFLOW_AUDIT_SIGNING_KEY_FILE"
INTERVAL_VARIABLE = "MARKETFLOW_AUDIT_TREE_HEAD_MINUTES"
TREE_HEAD_PREFIX = b"marketflow-tree-head-v1\x00"
TREE_HEADS_TABLE = "audit_tree_heads"


def canonical_json(entry: dict[str, Any]) -> bytes:
    """The bytes a leaf hashes, from the archived entry's JSON object as stored."""
    return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)


def canonical_bytes(entry: ArchivedEvent) -> bytes:
    """The bytes a leaf hashes: the archived entry as stored (the fields it was archived
    with: a field added to ``ArchivedEvent`` later does not change old leaves), as
    sorted-key compact JSON."""
    return canonical_json(entry.model_dump(mode="json", exclude_unset=True))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class MerkleView(Projection):
    """The tree's leaves in arrival order and its complete subtrees (level >= 1)."""

    name = "reporting.merkle"
    version = 1
    tables = (
        Table("merkle_leaves", (
            ("leaf_index", "int"), ("event_id", "text"), ("originator_id", "text"),
            ("originator_version", "int"), ("leaf_hash", "text"),
        ), ("leaf_index",), indexes=(("event_id",), ("originator_id", "originator_version"))),
        Table("merkle_nodes", (("level", "int"), ("node_index", "int"), ("hash", "text")),
              ("level", "node_index")),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._frontier: merkle.Frontier | None = None
        self._leaves: list[tuple[int, str, str, int, str]] = []
        self._nodes: list[tuple[int, int, str]] = []

    @singledispatchmethod
    def apply(self, domain_event: Any, sql: Sql) -> None:
        """Only archived events are leaves."""

    @apply.register(Timeline.Started)  # type: ignore[attr-defined]
    @apply.register(Timeline.Appended)  # type: ignore[attr-defined]
    def _archived(self, domain_event: Any, sql: Sql) -> None:
        entry = archived_once(domain_event)
        if entry is None:
            return
        if self._frontier is None:
            self._frontier = self._load_frontier(sql)
        leaf = merkle.leaf_hash(canonical_bytes(entry))
        index = self._frontier.size
        self._nodes.extend((level, node, digest.hex())
                           for level, node, digest in self._frontier.append(leaf))
        self._leaves.append((index, entry.id, str(domain_event.originator_id),
                             int(domain_event.originator_version), leaf.hex()))

    def _load_frontier(self, sql: Sql) -> merkle.Frontier:
        size = self.size(sql)
        return merkle.Frontier(size, [self._stored(sql, level, index)
                                      for level, index in merkle.Frontier.edge_ranges(size)])

    def _stored(self, sql: Sql, level: int, index: int) -> bytes:
        if level == 0:
            row = sql.one(f"SELECT leaf_hash AS hash FROM {self.table('merkle_leaves')} "
                          "WHERE leaf_index = ?", (index,))
        else:
            row = sql.one(f"SELECT hash FROM {self.table('merkle_nodes')} "
                          "WHERE level = ? AND node_index = ?", (level, index))
        if row is None:
            raise LookupError(f"{self.name}: no stored subtree at level {level}, "
                              f"index {index}; rebuild the read model")
        return bytes.fromhex(row["hash"])

    def finish(self, sql: Sql) -> None:
        sql.executemany(f"INSERT INTO {self.table('merkle_leaves')} (leaf_index, event_id, "
                        "originator_id, originator_version, leaf_hash) VALUES (?, ?, ?, ?, ?)",
                        self._leaves)
        sql.executemany(f"INSERT INTO {self.table('merkle_nodes')} (level, node_index, hash) "
                        "VALUES (?, ?, ?)", self._nodes)
        # Reloaded (O(log n) rows) by the next page: another replica may append meanwhile.
        self.forget()

    def forget(self) -> None:
        self._frontier = None  # reloaded from the tables by the next page
        self._leaves, self._nodes = [], []

    # --- queries -----------------------------------------------------------------------

    def size(self, sql: Sql) -> int:
        """Leaves so far (indexes are dense from 0: one key lookup, not a count)."""
        row = sql.one(f"SELECT MAX(leaf_index) AS last FROM {self.table('merkle_leaves')}")
        return int(row["last"]) + 1 if row and row["last"] is not None else 0

    def subtrees(self, sql: Sql) -> merkle.Subtrees:
        """MTH(D[start:end]) from the stored complete subtrees."""
        def subtree(start: int, end: int) -> bytes:
            width = end - start
            if width & (width - 1) == 0 and start % width == 0:
                return self._stored(sql, width.bit_length() - 1, start // width)
            k = merkle.split(width)
            return merkle.node_hash(subtree(start, start + k), subtree(start + k, end))
        return subtree

    def root(self, sql: Sql, size: int) -> bytes:
        return self.subtrees(sql)(0, size) if size else merkle.EMPTY_ROOT

    def leaf(self, sql: Sql, event_id: str) -> dict[str, Any] | None:
        return sql.one(f"SELECT * FROM {self.table('merkle_leaves')} WHERE event_id = ?",
                       (event_id,))

    def leaves(self, sql: Sql, start: int, limit: int) -> list[dict[str, Any]]:
        return sql.rows(f"SELECT * FROM {self.table('merkle_leaves')} WHERE leaf_index >= ? "
                        "ORDER BY leaf_index LIMIT ?", (start, limit))

    def leaf_at(self, sql: Sql, originator_id: str, version: int) -> dict[str, Any] | None:
        return sql.one(f"SELECT * FROM {self.table('merkle_leaves')} WHERE originator_id = ? "
                       "AND originator_version = ?", (originator_id, version))


# --- signed tree heads ------------------------------------------------------------------

@dataclass(frozen=True)
class TreeHead:
    """A signed tree head; ``root_hash`` and ``signature`` base64, ``timestamp`` in ms."""

    tree_size: int
    root_hash: str
    timestamp: int
    signature: str
    key_id: str

    def signed_bytes(self) -> bytes:
        return signed_bytes(self.tree_size, self.timestamp, base64.b64decode(self.root_hash))

    def as_json(self) -> dict[str, Any]:
        return {"tree_size": self.tree_size, "root_hash": self.root_hash,
                "timestamp": self.timestamp, "signature": self.signature,
                "key_id": self.key_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TreeHead:
        try:
            return cls(tree_size=int(data["tree_size"]), root_hash=str(data["root_hash"]),
                       timestamp=int(data["timestamp"]), signature=str(data["signature"]),
                       key_id=str(data["key_id"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a signed tree head: {error}") from None


def signed_bytes(tree_size: int, timestamp: int, root_hash: bytes) -> bytes:
    return (TREE_HEAD_PREFIX + tree_size.to_bytes(8, "big") + timestamp.to_bytes(8, "big")
            + root_hash)


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the public key's DER SubjectPublicKeyInfo, base64 (as CT log ids)."""
    return b64(hashlib.sha256(public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest())


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def verify_tree_head(head: TreeHead, public_key: Ed25519PublicKey) -> bool:
    if head.key_id != key_id(public_key):
        return False
    try:
        public_key.verify(base64.b64decode(head.signature), head.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


def load_signing_key(app: ServiceApplication) -> Ed25519PrivateKey:
    """The configured key; else the development key (see the module's docstring)."""
    configured = os.environ.get(KEY_FILE_VARIABLE)
    if configured:
        key = serialization.load_pem_private_key(Path(configured).read_bytes(), None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{KEY_FILE_VARIABLE}: {configured} is not an Ed25519 key")
        return key
    settings = app.settings
    path = settings.sqlite_dir / f"{settings.namespace}-{settings.service}-audit-key.pem"
    fresh = Ed25519PrivateKey.generate()
    try:
        settings.sqlite_dir.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(fresh.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        log.warning("no audit signing key configured: created a development key",
                    extra={"variable": KEY_FILE_VARIABLE, "path": str(path)})
    except FileExistsError:
        pass
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


@dataclass(frozen=True)
class InclusionProof:
    event_id: str
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    consistency_path: list[str]


class Transparency:
    """The archive's tree heads and proofs, as the access policy allows."""

    def __init__(self, app: ServiceApplication, view: MerkleView,
                 key: Ed25519PrivateKey | None = None) -> None:
        self.app = app
        self.view = view
        self.store = ReadStore(app)
        self._key = key
        self._lock = threading.Lock()
        self._table_ready = False

    @property
    def key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = load_signing_key(self.app)
        return self._key

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    def _heads(self) -> str:
        return self.store.qualified(TREE_HEADS_TABLE)

    def _ensure_table(self, sql: Sql) -> None:
        if not self._table_ready:
            sql.execute(f"CREATE TABLE IF NOT EXISTS {self._heads()} (tree_size BIGINT NOT "
                        "NULL, timestamp BIGINT NOT NULL, root_hash TEXT NOT NULL, "
                        "signature TEXT NOT NULL, key_id TEXT NOT NULL, "
                        "PRIMARY KEY (tree_size, timestamp))")
            self._table_ready = True

    # --- unchecked (the CLI and the periodic job) ---------------------------------------

    def sign(self, tree_size: int, root: bytes, timestamp: int | None = None) -> TreeHead:
        moment = timestamp if timestamp is not None else int(
            dt.datetime.now(dt.UTC).timestamp() * 1000)
        signature = self.key.sign(signed_bytes(tree_size, moment, root))
        return TreeHead(tree_size, b64(root), moment, b64(signature), key_id(self.public_key))

    def current_head(self) -> TreeHead:
        """A fresh head over everything archived; saved when it covers new events."""
        self.view.catch_up()
        with self._lock, self.store.transaction(commit=True) as sql:
            self._ensure_table(sql)
            size = self.view.size(sql)
            head = self.sign(size, self.view.root(sql, size))
            last = self._latest(sql)
            if last is None or last.tree_size != size:
                self._save(sql, head)
        return head

    def publish(self) -> TreeHead:
        """Sign and save a head now (the periodic publication), and log it."""
        self.view.catch_up()
        with self._lock, self.store.transaction(commit=True) as sql:
            self._ensure_table(sql)
            size = self.view.size(sql)
            head = self.sign(size, self.view.root(sql, size))
            self._save(sql, head)
        log.info("audit tree head published", extra=head.as_json())
        return head

    def _save(self, sql: Sql, head: TreeHead) -> None:
        sql.execute(f"INSERT INTO {self._heads()} (tree_size, timestamp, root_hash, "
                    "signature, key_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (head.tree_size, head.timestamp, head.root_hash, head.signature,
                     head.key_id))

    def _latest(self, sql: Sql) -> TreeHead | None:
        row = sql.one(f"SELECT * FROM {self._heads()} ORDER BY timestamp DESC, "
                      "tree_size DESC LIMIT 1")
        return TreeHead(**row) if row else None

    def latest_saved(self) -> TreeHead | None:
        with self.store.transaction(commit=True) as sql:
            self._ensure_table(sql)
            return self._latest(sql)

    def inclusion(self, event_id: str, tree_size: int | None = None) -> InclusionProof:
        self.view.catch_up()
        with self.store.transaction(commit=False) as sql:
            leaf = self.view.leaf(sql, event_id)
            if leaf is None:
                raise NotFound(f"event {event_id}: not in the archive's tree")
            size = self._size(sql, tree_size)
            index = int(leaf["leaf_index"])
            if index >= size:
                raise InvalidCommand(f"tree_size: event {event_id} is leaf {index}, after "
                                     f"the first {size}; ask for a larger tree")
            path = merkle.inclusion_path(index, size, self.view.subtrees(sql))
        return InclusionProof(event_id, index, size, b64(bytes.fromhex(leaf["leaf_hash"])),
                              [b64(node) for node in path])

    def consistency(self, first: int, second: int | None = None) -> ConsistencyProof:
        self.view.catch_up()
        with self.store.transaction(commit=False) as sql:
            size = self._size(sql, second)
            if not 0 <= first <= size:
                raise InvalidCommand(f"first: give a tree size from 0 to {size}")
            path = merkle.consistency_path(first, size, self.view.subtrees(sql))
        return ConsistencyProof(first, size, [b64(node) for node in path])

    def _size(self, sql: Sql, tree_size: int | None) -> int:
        size = self.view.size(sql)
        if tree_size is None:
            return size
        if not 1 <= tree_size <= size:
            raise InvalidCommand(f"tree size {tree_size}: the tree has {size} leaves; "
                                 f"give 1 to {size}")
        return tree_size

    # --- use cases, checked --------------------------------------------------------------

    def tree_head_for(self, caller: Caller) -> TreeHead:
        POLICY.authorize("audit.tree_head.read", caller)
        return self.current_head()

    def public_key_for(self, caller: Caller) -> tuple[str, str]:
        POLICY.authorize("audit.tree_head.read", caller)
        return key_id(self.public_key), public_pem(self.public_key)

    def inclusion_for(self, caller: Caller, event_id: str, tree_size: int | None
                      ) -> InclusionProof:
        POLICY.authorize("audit.proof.read", caller)
        return self.inclusion(event_id, tree_size)

    def consistency_for(self, caller: Caller, first: int, second: int | None
                        ) -> ConsistencyProof:
        POLICY.authorize("audit.proof.read", caller)
        return self.consistency(first, second)
