"""``marketflow audit verify``: recompute the archive's Merkle tree from the stored events
and check it against a signed tree head, naming the first altered, missing or reordered
event.

The stored events are read straight from the notification log (not the tree's read
model), hashed in arrival order and folded into a frontier (memory O(log n)); the root of
the first ``tree_size`` leaves must be the signed one. To name what changed, the
recomputed leaves are compared, in step, with the leaves the read model recorded when the
events arrived: the first index where they differ is classified as

- altered: the same event, other bytes (or bytes that no longer decode);
- missing: the recorded event appears nowhere in the store any more (or the store ends);
- reordered: the recorded event is still there, at another position.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from services.reporting import merkle
from services.reporting.domain import Timeline, timeline_id
from services.reporting.transparency import (
    MerkleView,
    TreeHead,
    b64,
    canonical_json,
    verify_tree_head,
)
from shared.application import ServiceApplication
from shared.projections import PAGE_SIZE, Sql

Progress = Callable[[int, int], None]


@dataclass
class Finding:
    kind: str  # altered | missing | reordered | root
    leaf_index: int | None
    event_id: str | None
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass
class Verdict:
    tree_head: TreeHead
    signature_ok: bool
    leaves: int = 0
    """Leaves recomputed from the store (all of them, not only the head's)."""
    root_ok: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.signature_ok and self.root_ok and not self.findings


@dataclass
class _Mismatch:
    index: int
    recorded: dict[str, object]
    found_event: str | None
    notification_id: int
    recorded_seen_at: int | None = None


class _Recorded:
    """The read model's leaves, read a page at a time in step with the scan."""

    def __init__(self, view: MerkleView, sql: Sql) -> None:
        self.view, self.sql = view, sql
        self._page: list[dict[str, object]] = []
        self._start = 0

    def at(self, index: int) -> dict[str, object] | None:
        if not self._start <= index < self._start + len(self._page):
            self._page = self.view.leaves(self.sql, index, PAGE_SIZE)
            self._start = index
        offset = index - self._start
        return self._page[offset] if offset < len(self._page) else None


def verify_archive(app: ServiceApplication, view: MerkleView, head: TreeHead,
                   public_key: Ed25519PublicKey, progress: Progress | None = None
                   ) -> Verdict:
    """Check the store against ``head`` (signed with ``public_key``)."""
    verdict = Verdict(head, verify_tree_head(head, public_key))
    frontier = merkle.Frontier()
    root: bytes | None = merkle.EMPTY_ROOT if head.tree_size == 0 else None
    mismatch: _Mismatch | None = None
    undecodable: Finding | None = None
    view.ensure_open()
    max_id = app.recorder.max_notification_id() or 0
    with view.store.transaction(commit=False) as sql:
        recorded = _Recorded(view, sql)
        position = 0
        while True:
            page: Sequence[Notification] = app.recorder.select_notifications(
                start=position + 1, limit=PAGE_SIZE)
            for notification in page:
                key = ENTRY_KEYS.get(notification.topic)
                if key is None:
                    continue
                try:
                    entry = _stored_entry(notification, key)
                except ValueError as error:  # bytes changed so that they no longer decode
                    if undecodable is None:
                        undecodable = _undecodable(view, sql, notification, error)
                    continue
                if entry is None:
                    continue
                index = frontier.size
                leaf = merkle.leaf_hash(canonical_json(entry))
                frontier.append(leaf)
                if frontier.size == head.tree_size:
                    root = frontier.root()
                if mismatch is None:
                    expected = recorded.at(index)
                    if expected is None or bytes.fromhex(str(expected["leaf_hash"])) != leaf:
                        mismatch = _Mismatch(index, expected or {}, str(entry.get("id")),
                                             notification.id)
                elif mismatch.recorded_seen_at is None and \
                        mismatch.recorded.get("event_id") == entry.get("id"):
                    mismatch.recorded_seen_at = index
            if page:
                position = page[-1].id
                if progress:
                    progress(position, max(max_id, position))
            if len(page) < PAGE_SIZE:
                break
        verdict.leaves = frontier.size
        if undecodable is not None:
            verdict.findings.append(undecodable)
        elif mismatch is not None and mismatch.index < head.tree_size:
            verdict.findings.append(_classified(mismatch))
        elif frontier.size < head.tree_size:
            missing = recorded.at(frontier.size)
            verdict.findings.append(Finding(
                "missing", frontier.size, str(missing["event_id"]) if missing else None,
                f"the store holds {frontier.size} archived events, the tree head covers "
                f"{head.tree_size}; the first missing is leaf {frontier.size}"
                + (f", event {missing['event_id']}" if missing else "")))
    verdict.root_ok = root is not None and b64(root) == head.root_hash
    if not verdict.root_ok and not verdict.findings:
        verdict.findings.append(Finding(
            "root", None, None, "the recomputed root differs from the signed one although "
            "every event matches the recorded leaves: the recorded leaves were changed too "
            "(rebuild reporting.merkle from a trusted copy to name the event), or the tree "
            "head is not this archive's"))
    return verdict


ENTRY_KEYS = {get_topic(Timeline.Started): "first",  # type: ignore[attr-defined]
              get_topic(Timeline.Appended): "entry"}  # type: ignore[attr-defined]
"""The stored timeline events, and where their state holds the archived entry."""


@functools.lru_cache(maxsize=65_536)
def _timeline_of(subject: str) -> UUID:
    return timeline_id(subject)


def _stored_entry(notification: Notification, key: str) -> dict[str, Any] | None:
    """The archived entry's JSON object as stored, if this stored event is its leaf (its
    subject's timeline); read without building the event (as fast as the hashing)."""
    try:
        state = orjson.loads(notification.state)
    except orjson.JSONDecodeError as error:
        raise ValueError(str(error)) from None
    entry = state.get(key) if isinstance(state, dict) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("subject"), str):
        raise ValueError(f"no archived entry under {key!r}")
    return entry if notification.originator_id == _timeline_of(entry["subject"]) else None


def _undecodable(view: MerkleView, sql: Sql, notification: Notification,
                 error: Exception) -> Finding:
    recorded = view.leaf_at(sql, str(notification.originator_id),
                            int(notification.originator_version))
    what = (f"event {recorded['event_id']} (leaf {recorded['leaf_index']})" if recorded
            else f"timeline {notification.originator_id} version "
                 f"{notification.originator_version}")
    return Finding("altered", int(recorded["leaf_index"]) if recorded else None,
                   str(recorded["event_id"]) if recorded else None,
                   f"{what}, notification {notification.id}: its stored bytes no longer "
                   f"decode ({type(error).__name__})")


def _classified(mismatch: _Mismatch) -> Finding:
    expected = mismatch.recorded.get("event_id")
    at = f"leaf {mismatch.index} (notification {mismatch.notification_id})"
    if not expected:
        return Finding("altered", mismatch.index, mismatch.found_event,
                       f"event {mismatch.found_event} at {at} was never recorded as a leaf")
    if expected == mismatch.found_event:
        return Finding("altered", mismatch.index, str(expected),
                       f"event {expected} at {at}: its stored bytes differ from those "
                       "archived")
    if mismatch.recorded_seen_at is not None:
        return Finding("reordered", mismatch.index, str(expected),
                       f"event {expected} belongs at leaf {mismatch.index} but is stored at "
                       f"leaf {mismatch.recorded_seen_at}; event {mismatch.found_event} "
                       f"is in its place")
    return Finding("missing", mismatch.index, str(expected),
                   f"event {expected} (leaf {mismatch.index}) is no longer in the store; "
                   f"event {mismatch.found_event} follows in its place")
