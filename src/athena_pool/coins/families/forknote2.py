"""Family (b) `forknote2`: Bytecoin-style blocks with a merge-mining parent, major >= 2 (section 7).

Used by Athena, TurtleCoin and Iridium. The child header has no timestamp or nonce: both live only in the
parent section. The miner hashes the parent's PoW blob, which commits to the child through the
merge-mining tag in the parent coinbase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from athena_pool.coins.blob_reader import BlobReader
from athena_pool.coins.block import NONCE_SIZE, Block, ParentBlock
from athena_pool.coins.errors import BlobError
from athena_pool.coins.extra import find_merge_mining_tag, merge_mining_field, nonce_field, pubkey_field
from athena_pool.coins.families.base import (
    FamilyBase,
    check_nonce,
    length_prefixed_hash,
    merkle_root,
    read_tx_hashes,
    serialize_tx_hashes,
)
from athena_pool.coins.hashing import HASH_SIZE, tree_depth, tree_hash_from_branch
from athena_pool.coins.transaction import (
    MinerTx,
    TxOutput,
    miner_tx_hash,
    read_miner_tx,
    serialize_miner_tx,
)
from athena_pool.coins.varint import encode_varint

FIRST_PARENT_MAJOR_VERSION = 2
# The parent a pool builds (cryptoforknote-util semantics): major 1, minor 0, the child's prev_id, one
# transaction, no branches, and a v1 coinbase whose extra is only the merge-mining tag at depth 0.
POOL_PARENT_MAJOR_VERSION = 1
POOL_PARENT_MINOR_VERSION = 0
POOL_PARENT_TX_VERSION = 1
# A daemon template's parent: major/minor 0 (a daemon bug writes BLOCK_MINOR_VERSION_0 into the major),
# zero prev_id and a v0 coinbase carrying a zero merge-mining root until the block is mined.
DAEMON_PARENT_VERSION = 0


def _read_branch(reader: BlobReader, depth: int, what: str) -> tuple[bytes, ...]:
    return tuple(reader.read_hash(f"{what} {index}") for index in range(depth))


def _serialize_parent(block: Block, parent: ParentBlock) -> bytes:
    return (
        _parent_header(block, parent)
        + encode_varint(parent.tx_count)
        + b"".join(parent.miner_tx_branch)
        + serialize_miner_tx(parent.miner_tx)
        + b"".join(parent.blockchain_branch)
    )


def _parent_header(block: Block, parent: ParentBlock) -> bytes:
    return (
        encode_varint(parent.major_version)
        + encode_varint(parent.minor_version)
        + encode_varint(block.timestamp)
        + parent.prev_id
        + block.nonce
    )


def _child_header(block: Block) -> bytes:
    return encode_varint(block.major_version) + encode_varint(block.minor_version) + block.prev_id


def _require_parent(block: Block) -> ParentBlock:
    if block.parent is None:
        raise BlobError("a forknote2 block needs a parent block")
    return block.parent


def child_hashing_blob(block: Block) -> bytes:
    """major || minor || prev_id || merkle root || varint(tx count): what the parent commits to."""
    return _child_header(block) + merkle_root(block) + encode_varint(block.tx_count)


def aux_header_hash(block: Block) -> bytes:
    """The merge-mining root a depth-0 parent carries: H(varint(len) || child hashing blob)."""
    return length_prefixed_hash(child_hashing_blob(block))


def parent_pow_blob(block: Block, parent: ParentBlock) -> bytes:
    """Parent header || parent merkle root (from its branch) || varint(parent tx count)."""
    leaf = miner_tx_hash(parent.miner_tx)
    root = tree_hash_from_branch(parent.miner_tx_branch, leaf)
    return _parent_header(block, parent) + root + encode_varint(parent.tx_count)


def pool_parent(block: Block) -> ParentBlock:
    """The parent a pool builds for mining and for submission; convert and construct must agree on it."""
    coinbase = MinerTx(
        version=POOL_PARENT_TX_VERSION,
        unlock_time=0,
        input_heights=(),
        outputs=(),
        extra=merge_mining_field(0, aux_header_hash(block)),
    )
    return ParentBlock(
        major_version=POOL_PARENT_MAJOR_VERSION,
        minor_version=POOL_PARENT_MINOR_VERSION,
        prev_id=block.prev_id,
        tx_count=1,
        miner_tx_branch=(),
        miner_tx=coinbase,
        blockchain_branch=(),
    )


def aux_chain_root(block: Block, genesis_id: bytes) -> bytes:
    """The merge-mining root consensus expects, for comparison with the parent's 03 tag.

    The blockchain branch is walked with the child chain's genesis hash as the path.
    """
    parent = _require_parent(block)
    return tree_hash_from_branch(parent.blockchain_branch, aux_header_hash(block), genesis_id)


class Forknote2Family(FamilyBase):
    """cnBlobType 2: TurtleCoin majors 2-7, Athena 2-4, Iridium."""

    name = "forknote2"

    def parse(self, blob: bytes) -> Block:
        reader = BlobReader(blob)
        major = reader.read_varint("major version")
        if major < FIRST_PARENT_MAJOR_VERSION:
            raise BlobError(f"major version {major} has no parent block: use the cryptonote_v1 family")
        minor = reader.read_varint("minor version")
        prev_id = reader.read_hash("prev_id")
        parent, timestamp, nonce = self._read_parent(reader)
        miner_tx = read_miner_tx(reader)
        tx_hashes = read_tx_hashes(reader)
        reader.expect_end("the tx hashes")
        return Block(major, minor, timestamp, prev_id, nonce, miner_tx, tx_hashes, parent)

    def _read_parent(self, reader: BlobReader) -> tuple[ParentBlock, int, bytes]:
        major = reader.read_varint("parent major version")
        minor = reader.read_varint("parent minor version")
        timestamp = reader.read_varint("timestamp")
        prev_id = reader.read_hash("parent prev_id")
        nonce = reader.read_bytes(NONCE_SIZE, "nonce")
        tx_count = reader.read_varint("parent tx count")
        if tx_count < 1:
            raise BlobError("parent tx count is 0; a parent block always holds its coinbase")
        branch = _read_branch(reader, tree_depth(tx_count), "parent miner tx branch hash")
        miner_tx = read_miner_tx(reader)
        tag = find_merge_mining_tag(miner_tx.extra_fields)
        if tag is None:
            raise BlobError("the parent coinbase extra has no merge-mining (03) tag")
        chain_branch = _read_branch(reader, tag.depth, "parent blockchain branch hash")
        return ParentBlock(major, minor, prev_id, tx_count, branch, miner_tx, chain_branch), timestamp, nonce

    def serialize(self, block: Block) -> bytes:
        parent = _require_parent(block)
        return (
            _child_header(block)
            + _serialize_parent(block, parent)
            + serialize_miner_tx(block.miner_tx)
            + serialize_tx_hashes(block.tx_hashes)
        )

    def miner_tx_offset(self, block: Block) -> int:
        return len(_child_header(block)) + len(_serialize_parent(block, _require_parent(block)))

    def hashing_blob(self, blob: bytes) -> bytes:
        """convert_blob (7.2): the PoW blob of the pool-built parent, keeping the template's nonce."""
        block = self.parse(blob)
        return parent_pow_blob(block, pool_parent(block))

    def pow_blob(self, blob: bytes) -> bytes:
        """The PoW blob of the parent as stored in `blob` (on chain: what the block was mined on)."""
        block = self.parse(blob)
        return parent_pow_blob(block, _require_parent(block))

    def nonce_offset(self, blob: bytes) -> int:
        """Nonce offset in `hashing_blob` (39 with a 5-byte timestamp)."""
        block = self.parse(blob)
        return len(_parent_header(block, pool_parent(block))) - NONCE_SIZE

    def blob_nonce_offset(self, blob: bytes) -> int:
        """Nonce offset in the full blob (73 in practice)."""
        block = self.parse(blob)
        return len(_child_header(block)) + len(_parent_header(block, _require_parent(block))) - NONCE_SIZE

    def assemble_block(self, blob: bytes, nonce: bytes) -> bytes:
        """construct_block_blob (7.3): the template's child with a pool-built parent carrying `nonce`."""
        check_nonce(nonce)
        block = self.parse(blob)
        mined = replace(block, nonce=nonce)
        return self.serialize(replace(mined, parent=pool_parent(mined)))

    def block_id(self, blob: bytes) -> bytes:
        """H(varint(L) || child hashing blob || parent_hashing_all), L the total length hashed after it."""
        block = self.parse(blob)
        parent = _require_parent(block)
        parent_hashing_all = (
            parent_pow_blob(block, parent)
            + b"".join(parent.miner_tx_branch)
            + serialize_miner_tx(parent.miner_tx)
            + b"".join(parent.blockchain_branch)
        )
        return length_prefixed_hash(child_hashing_blob(block) + parent_hashing_all)


@dataclass(frozen=True)
class CoinbaseParts:
    """What a daemon puts in the coinbase of a template it builds."""

    unlock_time: int
    outputs: Sequence[tuple[int, bytes]]
    tx_public_key: bytes
    reserve_size: int


@dataclass(frozen=True)
class TemplateParts:
    major_version: int
    minor_version: int
    prev_id: bytes
    timestamp: int
    height: int
    coinbase: CoinbaseParts
    tx_hashes: Sequence[bytes] = ()


def _template_extra(coinbase: CoinbaseParts) -> bytes:
    reserved = nonce_field(coinbase.reserve_size) if coinbase.reserve_size else b""
    return pubkey_field(coinbase.tx_public_key) + reserved


def _daemon_parent() -> ParentBlock:
    coinbase = MinerTx(
        version=DAEMON_PARENT_VERSION,
        unlock_time=0,
        input_heights=(),
        outputs=(),
        extra=merge_mining_field(0, bytes(HASH_SIZE)),
    )
    return ParentBlock(DAEMON_PARENT_VERSION, DAEMON_PARENT_VERSION, bytes(HASH_SIZE), 1, (), coinbase, ())


def build_template(parts: TemplateParts) -> bytes:
    """A template blob in the daemon-native form (7.1), for the simulated Athena daemon.

    The coinbase is v1 with one generation input at `height`, key outputs, and an extra of the tx public
    key followed by the reserved space `02 varint(r) 00*r` (absent when r is 0).
    """
    if parts.major_version < FIRST_PARENT_MAJOR_VERSION:
        raise ValueError(f"forknote2 templates need major version >= 2, got {parts.major_version}")
    coinbase = MinerTx(
        version=POOL_PARENT_TX_VERSION,
        unlock_time=parts.coinbase.unlock_time,
        input_heights=(parts.height,),
        outputs=tuple(TxOutput(amount, key) for amount, key in parts.coinbase.outputs),
        extra=_template_extra(parts.coinbase),
    )
    block = Block(
        major_version=parts.major_version,
        minor_version=parts.minor_version,
        timestamp=parts.timestamp,
        prev_id=parts.prev_id,
        nonce=bytes(NONCE_SIZE),
        miner_tx=coinbase,
        tx_hashes=tuple(parts.tx_hashes),
        parent=_daemon_parent(),
    )
    return Forknote2Family().serialize(block)
