"""Structured blocks and templates, shared by every blob family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from athena_pool.coins.blob_reader import HASH_SIZE
from athena_pool.coins.transaction import MinerTx

NONCE_SIZE = 4


class ReservedSpace(NamedTuple):
    """The zero-filled payload a daemon leaves in the coinbase extra: blob offset of its first byte, size."""

    offset: int
    size: int


@dataclass(frozen=True)
class ParentBlock:
    """The merge-mining parent of a forknote2 block (major >= 2).

    It has no timestamp or nonce of its own here: those are the shared fields of child and parent and
    live in `Block.timestamp` / `Block.nonce`, serialized inside the parent section.
    """

    major_version: int
    minor_version: int
    prev_id: bytes
    tx_count: int
    miner_tx_branch: tuple[bytes, ...]
    miner_tx: MinerTx
    blockchain_branch: tuple[bytes, ...]


@dataclass(frozen=True)
class Block:
    """A full block or a daemon template (a template is a block whose nonce is still zero)."""

    major_version: int
    minor_version: int
    timestamp: int
    prev_id: bytes
    nonce: bytes
    miner_tx: MinerTx
    tx_hashes: tuple[bytes, ...]
    parent: ParentBlock | None = None

    def __post_init__(self) -> None:
        if len(self.prev_id) != HASH_SIZE:
            raise ValueError(f"prev_id must be {HASH_SIZE} bytes, got {len(self.prev_id)}")
        if len(self.nonce) != NONCE_SIZE:
            raise ValueError(f"nonce must be {NONCE_SIZE} bytes, got {len(self.nonce)}")

    @property
    def height(self) -> int:
        return self.miner_tx.height

    @property
    def tx_count(self) -> int:
        """Transactions including the miner tx: the number of merkle tree leaves."""
        return 1 + len(self.tx_hashes)
