"""The one face every blob family shows, and the logic the families share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

from athena_pool.coins.blob_reader import BlobReader
from athena_pool.coins.block import NONCE_SIZE, Block, ReservedSpace
from athena_pool.coins.errors import BlobError, NoReservedSpaceError
from athena_pool.coins.extra import find_reserved_field
from athena_pool.coins.hashing import HASH_SIZE, cn_fast_hash, tree_hash
from athena_pool.coins.transaction import extra_offset_in_tx, miner_tx_hash
from athena_pool.coins.varint import encode_varint


class BlobFamily(Protocol):
    """Template → hashing blob → block → block id for one block layout. Every method takes raw blob bytes."""

    name: str

    def parse(self, blob: bytes) -> Block: ...

    def serialize(self, block: Block) -> bytes: ...

    def reserved_space(self, blob: bytes) -> ReservedSpace:
        """(blob offset of the first reserved byte, size), found by parsing the coinbase extra."""
        ...

    def with_extra_nonce(self, blob: bytes, offset: int, data: bytes) -> bytes:
        """A copy with `data` written `offset` bytes into the reserved space (bounds-checked)."""
        ...

    def hashing_blob(self, blob: bytes) -> bytes:
        """convert_blob: what the pool sends miners for this template or job blob."""
        ...

    def pow_blob(self, blob: bytes) -> bytes:
        """What consensus hashes for the blob as it stands (= hashing_blob for a pool-assembled block)."""
        ...

    def nonce_offset(self, blob: bytes) -> int:
        """Offset of the nonce in `hashing_blob` (39 normally, 35 when the timestamp is 0)."""
        ...

    def blob_nonce_offset(self, blob: bytes) -> int:
        """Offset of the nonce in the full blob (39 or 73 in practice)."""
        ...

    def assemble_block(self, blob: bytes, nonce: bytes) -> bytes:
        """construct_block_blob: the block to submit for a job blob and the miner's 4 nonce bytes."""
        ...

    def block_id(self, blob: bytes) -> bytes: ...

    def height(self, blob: bytes) -> int: ...

    def major_version(self, blob: bytes) -> int: ...

    def minor_version(self, blob: bytes) -> int: ...

    def timestamp(self, blob: bytes) -> int: ...

    def prev_id(self, blob: bytes) -> bytes: ...


def merkle_root(block: Block) -> bytes:
    """Root over the miner tx hash followed by the tx hashes in block order."""
    return tree_hash([miner_tx_hash(block.miner_tx), *block.tx_hashes])


def length_prefixed_hash(data: bytes) -> bytes:
    """H(varint(len(data)) || data): how block ids and aux header hashes are formed."""
    return cn_fast_hash(encode_varint(len(data)) + data)


def read_tx_hashes(reader: BlobReader) -> tuple[bytes, ...]:
    count = reader.read_count("tx hash count", HASH_SIZE)
    return tuple(reader.read_hash(f"tx hash {index}") for index in range(count))


def serialize_tx_hashes(tx_hashes: tuple[bytes, ...]) -> bytes:
    return encode_varint(len(tx_hashes)) + b"".join(tx_hashes)


def check_nonce(nonce: bytes) -> None:
    if len(nonce) != NONCE_SIZE:
        raise BlobError(f"nonce must be {NONCE_SIZE} bytes, got {len(nonce)}")


class FamilyBase(ABC):
    """Shared behaviour; a family supplies the layout (parse/serialize) and its hashing rules."""

    name: str

    @abstractmethod
    def parse(self, blob: bytes) -> Block: ...

    @abstractmethod
    def serialize(self, block: Block) -> bytes: ...

    @abstractmethod
    def miner_tx_offset(self, block: Block) -> int:
        """Blob offset of the first byte of the (child) miner tx."""

    def reserved_space(self, blob: bytes) -> ReservedSpace:
        """Found by parsing the coinbase extra for tag 02 (or 07); the daemon's offset is never used."""
        block = self.parse(blob)
        field = find_reserved_field(block.miner_tx.extra_fields)
        if field is None:
            raise NoReservedSpaceError(
                "the coinbase extra has no reserved space (no 02 or 07 field): was reserve_size 0?"
            )
        extra_offset = self.miner_tx_offset(block) + extra_offset_in_tx(block.miner_tx)
        return ReservedSpace(extra_offset + field.payload_offset, len(field.payload))

    def with_extra_nonce(self, blob: bytes, offset: int, data: bytes) -> bytes:
        """Copy of `blob` with `data` written `offset` bytes into the reserved space."""
        space = self.reserved_space(blob)
        if offset < 0 or offset + len(data) > space.size:
            raise BlobError(
                f"{len(data)} bytes at offset {offset} do not fit the {space.size}-byte reserved space"
            )
        start = space.offset + offset
        return blob[:start] + data + blob[start + len(data) :]

    def height(self, blob: bytes) -> int:
        return self.parse(blob).height

    def major_version(self, blob: bytes) -> int:
        return self.parse(blob).major_version

    def minor_version(self, blob: bytes) -> int:
        return self.parse(blob).minor_version

    def timestamp(self, blob: bytes) -> int:
        return self.parse(blob).timestamp

    def prev_id(self, blob: bytes) -> bytes:
        return self.parse(blob).prev_id
