from __future__ import annotations

import pytest
from coin_vectors import TREE_VECTORS_PATH
from hypothesis import given
from hypothesis import strategies as st

from athena_pool.coins.hashing import cn_fast_hash, tree_branch, tree_depth, tree_hash, tree_hash_from_branch

# turtlecoin-utils test.ts "Tree Hash" / "Tree Branch".
TRTL_LEAVES = [
    bytes.fromhex(leaf)
    for leaf in (
        "b542df5b6e7f5f05275c98e7345884e2ac726aeeb07e03e44e0389eb86cd05f0",
        "1b606a3f4a07d6489a1bcd07697bd16696b61c8ae982f61a90160f4e52828a7f",
        "c9fae8425d8688dc236bcdbc42fdb42d376c6ec190501aa84b04a4b4cf1ee122",
        "871fcd6823f6a879bb3f33951c8e8e891d4043880b02dfa1bb3be498b50e7578",
    )
]
TRTL_ROOT = "dff9b4e047803822e97fb25bb9acb8320648954e15a6ddf6fa757873793c535e"
TRTL_BRANCH = [
    "f49291f9b352701d97dffad838def8cefcc34d1e767e450558261b161ab78cb1",
    "1b606a3f4a07d6489a1bcd07697bd16696b61c8ae982f61a90160f4e52828a7f",
]


def _tree_vectors() -> list[tuple[str, list[bytes]]]:
    if not TREE_VECTORS_PATH.exists():
        return []
    cases = []
    for line in TREE_VECTORS_PATH.read_text().splitlines():
        root_hex, leaves_hex = line.split()
        leaves = bytes.fromhex(leaves_hex)
        cases.append((root_hex, [leaves[i : i + 32] for i in range(0, len(leaves), 32)]))
    return cases


TREE_VECTORS = _tree_vectors()
needs_tree_vectors = pytest.mark.skipif(not TREE_VECTORS, reason=f"{TREE_VECTORS_PATH} not found")


def test_cn_fast_hash_is_original_keccak() -> None:
    assert cn_fast_hash(b"\x00").hex() == "bc36789e7a1e281436464229828f817d6612f7b477d66591ff96a9e064bcc98a"
    assert cn_fast_hash(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@needs_tree_vectors
def test_tree_hash_matches_monero_vectors() -> None:
    assert len(TREE_VECTORS) >= 10
    for root_hex, leaves in TREE_VECTORS:
        assert tree_hash(leaves).hex() == root_hex, f"{len(leaves)} leaves"


@needs_tree_vectors
def test_branch_of_leaf_zero_rebuilds_every_monero_root() -> None:
    for root_hex, leaves in TREE_VECTORS:
        branch = tree_branch(leaves)
        assert len(branch) == tree_depth(len(leaves))
        assert tree_hash_from_branch(branch, leaves[0]).hex() == root_hex


def test_turtlecoin_utils_tree_vectors() -> None:
    assert tree_hash(TRTL_LEAVES).hex() == TRTL_ROOT
    assert [sibling.hex() for sibling in tree_branch(TRTL_LEAVES)] == TRTL_BRANCH


def test_small_trees() -> None:
    a, b, c = (bytes([value]) * 32 for value in (1, 2, 3))
    assert tree_hash([a]) == a
    assert tree_hash([a, b]) == cn_fast_hash(a + b)
    # Three leaves: c = 2, so leaf 0 is copied and leaves 1, 2 are paired.
    assert tree_hash([a, b, c]) == cn_fast_hash(a + cn_fast_hash(b + c))
    assert tree_branch([a]) == ()
    assert tree_branch([a, b]) == (b,)
    assert tree_branch([a, b, c]) == (cn_fast_hash(b + c),)


@pytest.mark.parametrize(("count", "depth"), [(1, 0), (2, 1), (3, 1), (4, 2), (5, 2), (514, 9), (1024, 10)])
def test_tree_depth(count: int, depth: int) -> None:
    assert tree_depth(count) == depth


def test_tree_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one leaf"):
        tree_hash([])
    with pytest.raises(ValueError, match="leaf 1 is 31 bytes"):
        tree_hash([bytes(32), bytes(31)])
    with pytest.raises(ValueError, match="at least 1"):
        tree_depth(0)


def test_branch_path_bits_choose_the_side() -> None:
    leaf, sibling = bytes([7]) * 32, bytes([9]) * 32
    assert tree_hash_from_branch([sibling], leaf) == cn_fast_hash(leaf + sibling)
    assert tree_hash_from_branch([sibling], leaf, b"\x01") == cn_fast_hash(sibling + leaf)
    assert tree_hash_from_branch([], leaf, b"\xff") == leaf
    # Bit d is read as path[d >> 3] >> (d & 7): depth 9 reads bit 1 of byte 1.
    branch = [bytes([n]) * 32 for n in range(10)]
    deep_right = tree_hash_from_branch(branch, leaf, b"\x00\x02")
    expected = leaf
    for depth_index in range(9, -1, -1):
        pair = branch[depth_index] + expected if depth_index == 9 else expected + branch[depth_index]
        expected = cn_fast_hash(pair)
    assert deep_right == expected


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40))
def test_branch_always_rebuilds_the_root(leaves: list[bytes]) -> None:
    branch = tree_branch(leaves)
    assert len(branch) == tree_depth(len(leaves))
    assert tree_hash_from_branch(branch, leaves[0]) == tree_hash(leaves)
