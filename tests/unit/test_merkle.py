"""RFC 9162 Merkle tree hashing and proofs (``services/reporting/merkle.py``) against a
naive recomputation from the definition."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from services.reporting import merkle

SIZES = st.integers(min_value=1, max_value=70)


def leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(str(i).encode()) for i in range(n)]


def subtrees(hashes: list[bytes]) -> merkle.Subtrees:
    return lambda start, end: merkle.naive_root(hashes[start:end])


def test_known_answers() -> None:
    assert merkle.naive_root([]) == hashlib.sha256(b"").digest()
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert a == hashlib.sha256(b"\x00a").digest()
    assert merkle.naive_root([a, b]) == hashlib.sha256(b"\x01" + a + b).digest()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=0, max_value=140))
def test_the_frontier_gives_the_root_of_every_prefix_and_closes_complete_subtrees(
        n: int) -> None:
    hashes = leaves(n)
    frontier = merkle.Frontier()
    closed: dict[tuple[int, int], bytes] = {}
    for leaf in hashes:
        for level, index, digest in frontier.append(leaf):
            closed[level, index] = digest
        assert frontier.root() == merkle.naive_root(hashes[:frontier.size])
    assert frontier.root() == merkle.naive_root(hashes)
    for (level, index), digest in closed.items():
        width = 1 << level
        assert digest == merkle.naive_root(hashes[index * width:(index + 1) * width])
    assert len(closed) == sum(n >> level for level in range(1, n.bit_length() + 1))
    # A frontier is reloaded from its edge's stored subtrees.
    edge = [merkle.naive_root(hashes[index << level:(index + 1) << level])
            for level, index in merkle.Frontier.edge_ranges(n)]
    assert merkle.Frontier(n, edge).edge == frontier.edge


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=SIZES)
def test_inclusion_proofs_verify_and_fail_for_any_other_leaf_index_or_root(
        data: st.DataObject, n: int) -> None:
    hashes = leaves(n)
    root = merkle.naive_root(hashes)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    path = merkle.inclusion_path(m, n, subtrees(hashes))
    assert len(path) <= max(n - 1, 0).bit_length()
    assert merkle.verify_inclusion(m, n, hashes[m], path, root)
    other = data.draw(st.integers(min_value=0, max_value=n - 1))
    if hashes[other] != hashes[m]:
        assert not merkle.verify_inclusion(m, n, hashes[other], path, root)
    assert not merkle.verify_inclusion(n, n, hashes[m], path, root)
    assert not merkle.verify_inclusion(m, n, hashes[m], path, merkle.leaf_hash(b"x"))
    if path:
        assert not merkle.verify_inclusion(m, n, hashes[m], path[:-1], root)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), second=SIZES)
def test_consistency_proofs_verify_prefixes_and_fail_for_a_changed_history(
        data: st.DataObject, second: int) -> None:
    hashes = leaves(second)
    first = data.draw(st.integers(min_value=1, max_value=second))
    proof = merkle.consistency_path(first, second, subtrees(hashes))
    first_root, second_root = merkle.naive_root(hashes[:first]), merkle.naive_root(hashes)
    assert merkle.verify_consistency(first, second, first_root, second_root, proof)
    # A history rewritten inside the first tree is caught.
    changed = data.draw(st.integers(min_value=0, max_value=first - 1))
    forged = [*hashes[:changed], merkle.leaf_hash(b"forged"), *hashes[changed + 1:]]
    assert not merkle.verify_consistency(first, second, merkle.naive_root(forged[:first]),
                                         second_root, proof)
    forged_proof = merkle.consistency_path(first, second, subtrees(forged))
    assert not merkle.verify_consistency(first, second, first_root,
                                         merkle.naive_root(forged), forged_proof)
    if proof:
        assert not merkle.verify_consistency(first, second, first_root, second_root,
                                             proof[:-1])
