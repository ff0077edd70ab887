"""Keccak-256 (`cn_fast_hash`) and the CryptoNote merkle tree (block-format.md sections 1 and 4)."""

from __future__ import annotations

from collections.abc import Sequence

from Crypto.Hash import keccak

HASH_SIZE = 32


def cn_fast_hash(data: bytes) -> bytes:
    """Keccak-256 with the original Keccak padding (not SHA3-256)."""
    hasher = keccak.new(digest_bits=256)
    hasher.update(data)
    digest: bytes = hasher.digest()
    return digest


def _hash_pair(left: bytes, right: bytes) -> bytes:
    return cn_fast_hash(left + right)


def _check_leaves(hashes: Sequence[bytes]) -> None:
    if not hashes:
        raise ValueError("a merkle tree needs at least one leaf")
    for index, leaf in enumerate(hashes):
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"tree leaf {index} is {len(leaf)} bytes, expected {HASH_SIZE}")


def _largest_power_of_two_below(count: int) -> int:
    """The largest power of two strictly below `count` (count >= 2)."""
    return 1 << ((count - 1).bit_length() - 1)


def _first_level(hashes: Sequence[bytes]) -> list[bytes]:
    """Reduce n leaves to c = 2**k slots: the first 2c-n leaves are copied, the rest hashed in pairs.

    This is the fixed rule: the original CryptoNote code computed c differently and broke for some
    counts (Monero block 202612, 514 leaves, still carries the id made with that bug).
    """
    count = len(hashes)
    slots = _largest_power_of_two_below(count)
    copied = 2 * slots - count
    paired = [_hash_pair(hashes[i], hashes[i + 1]) for i in range(copied, count, 2)]
    return list(hashes[:copied]) + paired


def _halve(slots: list[bytes]) -> list[bytes]:
    return [_hash_pair(slots[2 * j], slots[2 * j + 1]) for j in range(len(slots) // 2)]


def tree_hash(hashes: Sequence[bytes]) -> bytes:
    """Merkle root of the miner tx hash followed by the block's tx hashes."""
    _check_leaves(hashes)
    if len(hashes) == 1:
        return hashes[0]
    if len(hashes) == 2:
        return _hash_pair(hashes[0], hashes[1])
    slots = _first_level(hashes)
    while len(slots) > 2:
        slots = _halve(slots)
    return _hash_pair(slots[0], slots[1])


def tree_depth(count: int) -> int:
    """Depth of leaf 0 in a tree of `count` leaves: floor(log2(count))."""
    if count < 1:
        raise ValueError(f"tree leaf count must be at least 1, got {count}")
    return count.bit_length() - 1


def tree_branch(hashes: Sequence[bytes]) -> tuple[bytes, ...]:
    """Siblings of leaf 0 on its path to the root: [0] is next to the root, [-1] next to the leaf."""
    _check_leaves(hashes)
    if len(hashes) == 1:
        return ()
    if len(hashes) == 2:
        return (hashes[1],)
    slots = _first_level(hashes)
    # When every leaf is paired (a power-of-two count) leaf 0 meets leaf 1 before the slot level.
    siblings_upwards = [hashes[1]] if len(hashes) == 2 * len(slots) else []
    while len(slots) > 1:
        siblings_upwards.append(slots[1])
        slots = _halve(slots)
    return tuple(reversed(siblings_upwards))


def _path_bit(path: bytes, depth_index: int) -> int:
    byte_index = depth_index >> 3
    if byte_index >= len(path):
        return 0
    return (path[byte_index] >> (depth_index & 7)) & 1


def tree_hash_from_branch(branch: Sequence[bytes], leaf: bytes, path: bytes = b"") -> bytes:
    """Root from a leaf and its branch; bit d of `path` set means the leaf side is on the right at depth d.

    `path` is read little-endian bit by bit; missing bytes count as zero, so b"" is the path of leaf 0.
    """
    current = leaf
    for depth_index in range(len(branch) - 1, -1, -1):
        sibling = branch[depth_index]
        if _path_bit(path, depth_index):
            current = _hash_pair(sibling, current)
        else:
            current = _hash_pair(current, sibling)
    return current
