"""Merkle tree hashing and proofs as RFC 9162 (Certificate Transparency v2) §2.1 defines
them: pure functions, no I/O.

A tree over leaves ``d[0:n]``: ``MTH({}) = SHA-256()``, ``MTH({d0}) = SHA-256(0x00 || d0)``,
and for ``n > 1``, with ``k`` the largest power of two smaller than ``n``,
``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``.

Proofs are built from a ``Subtrees`` function giving ``MTH(D[start:end])`` so that a
caller can answer it from stored hashes of complete subtrees (``transparency.py``)
instead of rehashing leaves; every range asked for is one RFC 9162's recursion visits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

Subtrees = Callable[[int, int], bytes]
"""``MTH(D[start:end])`` of the tree's leaves."""

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def naive_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH straight from the definition (for tests and small trees)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = split(len(leaf_hashes))
    return node_hash(naive_root(leaf_hashes[:k]), naive_root(leaf_hashes[k:]))


class Frontier:
    """The right edge of a growing tree: the roots of its complete subtrees, largest
    first (at most log2 n of them). Appending is O(log n) and reports each complete
    subtree it closes; the root of everything appended so far is O(log n) more."""

    def __init__(self, size: int = 0, edge: Iterable[bytes] = ()) -> None:
        self.size = size
        self.edge = list(edge)
        if len(self.edge) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} "
                             f"complete subtrees on its right edge, not {len(self.edge)}")

    @staticmethod
    def edge_ranges(size: int) -> list[tuple[int, int]]:
        """The (level, index) of the complete subtrees making the right edge of ``size``
        leaves, largest first: the subtree of level L and index i covers leaves
        ``[i * 2**L, (i + 1) * 2**L)``."""
        ranges, start = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size & (1 << level):
                ranges.append((level, start >> level))
                start += 1 << level
        return ranges

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns the complete subtrees (level >= 1, index, hash) it
        closed, smallest first."""
        closed: list[tuple[int, int, bytes]] = []
        self.edge.append(leaf)
        index, level = self.size, 0
        while index & 1:
            right = self.edge.pop()
            left = self.edge.pop()
            level, index = level + 1, index >> 1
            merged = node_hash(left, right)
            self.edge.append(merged)
            closed.append((level, index, merged))
        self.size += 1
        return closed

    def root(self) -> bytes:
        if not self.edge:
            return EMPTY_ROOT
        root = self.edge[-1]
        for left in reversed(self.edge[:-1]):
            root = node_hash(left, root)
        return root


# --- inclusion (RFC 9162 §2.1.3) ----------------------------------------------------------

def inclusion_path(index: int, size: int, subtree: Subtrees) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()  # the recursion appends from the leaf up
    return path


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]
                        ) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root the path leads to, or None if it cannot be a path of
    leaf ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes],
                     root: bytes) -> bool:
    return root_from_inclusion(index, size, leaf, path) == root


# --- consistency (RFC 9162 §2.1.4) --------------------------------------------------------

def consistency_path(first: int, second: int, subtree: Subtrees) -> list[bytes]:
    """PROOF(m, D[n]): shows the tree of ``first`` leaves is a prefix of ``second``."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    if first in (0, second):
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, second, first, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        proof.append(subtree(start, end))
    proof.reverse()
    return proof


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is a complete subtree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
