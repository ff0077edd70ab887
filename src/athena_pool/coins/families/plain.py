"""Families (a) `monero` and (c) `cryptonote_v1`: header || miner tx || tx hashes (sections 2, 5, 6).

Both share one layout; Monero keeps it for every major version, and Bytecoin-family chains use it at major 1.
"""

from __future__ import annotations

from athena_pool.coins.blob_reader import BlobReader
from athena_pool.coins.block import NONCE_SIZE, Block
from athena_pool.coins.errors import BlobError
from athena_pool.coins.families.base import (
    FamilyBase,
    check_nonce,
    length_prefixed_hash,
    merkle_root,
    read_tx_hashes,
    serialize_tx_hashes,
)
from athena_pool.coins.hashing import cn_fast_hash
from athena_pool.coins.transaction import read_miner_tx, serialize_miner_tx
from athena_pool.coins.varint import encode_varint

# Monero block 202612 was accepted with an id computed by the original, buggy tree hash. monerod hard-codes
# it: that height plus this hash of the whole block blob give the recorded id, and any other block whose
# computed id equals it is rejected.
EXCEPTIONAL_BLOCK_HEIGHT = 202612
EXCEPTIONAL_BLOCK_BLOB_HASH = bytes.fromhex(
    "3a8a2b3a29b50fc86ff73dd087ea43c6f0d6b8f936c849194d5c84c737903966"
)
EXCEPTIONAL_BLOCK_ID = bytes.fromhex("bbd604d2ba11ba27935e006ed39c9bfdd99b76bf4a50654bc1e1e61217962698")


def serialize_header(block: Block) -> bytes:
    return (
        encode_varint(block.major_version)
        + encode_varint(block.minor_version)
        + encode_varint(block.timestamp)
        + block.prev_id
        + block.nonce
    )


class PlainFamily(FamilyBase):
    """The common implementation; subclasses only carry the family name."""

    def parse(self, blob: bytes) -> Block:
        reader = BlobReader(blob)
        major = reader.read_varint("major version")
        minor = reader.read_varint("minor version")
        timestamp = reader.read_varint("timestamp")
        prev_id = reader.read_hash("prev_id")
        nonce = reader.read_bytes(NONCE_SIZE, "nonce")
        miner_tx = read_miner_tx(reader)
        tx_hashes = read_tx_hashes(reader)
        reader.expect_end("the tx hashes")
        return Block(major, minor, timestamp, prev_id, nonce, miner_tx, tx_hashes)

    def serialize(self, block: Block) -> bytes:
        if block.parent is not None:
            raise BlobError(f"a {self.name} block has no parent block")
        body = serialize_miner_tx(block.miner_tx) + serialize_tx_hashes(block.tx_hashes)
        return serialize_header(block) + body

    def miner_tx_offset(self, block: Block) -> int:
        return len(serialize_header(block))

    def _hashing_blob_of(self, block: Block) -> bytes:
        return serialize_header(block) + merkle_root(block) + encode_varint(block.tx_count)

    def hashing_blob(self, blob: bytes) -> bytes:
        """convert_blob: header || merkle root || varint(tx count including the miner tx)."""
        return self._hashing_blob_of(self.parse(blob))

    def pow_blob(self, blob: bytes) -> bytes:
        """What consensus hashes; for this layout it is the hashing blob itself."""
        return self.hashing_blob(blob)

    def nonce_offset(self, blob: bytes) -> int:
        """The nonce sits at the same offset in the blob and in the hashing blob."""
        return self.blob_nonce_offset(blob)

    def blob_nonce_offset(self, blob: bytes) -> int:
        return len(serialize_header(self.parse(blob))) - NONCE_SIZE

    def assemble_block(self, blob: bytes, nonce: bytes) -> bytes:
        """construct_block_blob: the miner's 4 nonce bytes replace the template's; nothing else changes."""
        check_nonce(nonce)
        offset = self.blob_nonce_offset(blob)
        return blob[:offset] + nonce + blob[offset + NONCE_SIZE :]

    def block_id(self, blob: bytes) -> bytes:
        block = self.parse(blob)
        if block.height == EXCEPTIONAL_BLOCK_HEIGHT and cn_fast_hash(blob) == EXCEPTIONAL_BLOCK_BLOB_HASH:
            return EXCEPTIONAL_BLOCK_ID
        block_id = length_prefixed_hash(self._hashing_blob_of(block))
        if block_id == EXCEPTIONAL_BLOCK_ID:
            raise BlobError("this block's id collides with the hard-coded id of Monero block 202612")
        return block_id


class MoneroFamily(PlainFamily):
    """Monero (cnBlobType 0): v2 RingCT coinbase from HF4, view-tagged outputs from HF15."""

    name = "monero"


class CryptonoteV1Family(PlainFamily):
    """Original CryptoNote v1 blocks: Monero before major 4, any Bytecoin-family chain at major 1."""

    name = "cryptonote_v1"
