"""Tagged fields of a transaction's `extra` (block-format.md section 2.2).

Only the tags a pool needs are understood. Parsing stops at the first unknown or malformed field and keeps
the rest as one opaque field: TurtleCoin v6 writes 04/05/06 keys without length bytes, so a parser that
guessed at them could misread everything after.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from athena_pool.coins.blob_reader import HASH_SIZE, BlobReader
from athena_pool.coins.errors import BlobError
from athena_pool.coins.varint import encode_varint


class ExtraTag(IntEnum):
    PADDING = 0x00
    TX_PUBKEY = 0x01
    NONCE = 0x02
    MERGE_MINING = 0x03
    POOL_NONCE = 0x07


# The fields a daemon fills with zeros for the pool to write its extra nonce into.
RESERVED_SPACE_TAGS = (ExtraTag.NONCE, ExtraTag.POOL_NONCE)
MAX_NONCE_FIELD_SIZE = 255


@dataclass(frozen=True)
class ExtraField:
    """One field; offsets count from the first byte of `extra`. `payload` excludes tag and length."""

    tag: int
    offset: int
    payload_offset: int
    payload: bytes
    opaque: bool = False

    @property
    def end(self) -> int:
        return self.payload_offset + len(self.payload)


@dataclass(frozen=True)
class MergeMiningTag:
    depth: int
    merkle_root: bytes


def _read_padding(reader: BlobReader) -> bytes:
    return reader.read_bytes(reader.remaining, "extra padding")


def _read_pubkey(reader: BlobReader) -> bytes:
    return reader.read_hash("extra tx public key")


def _read_sized(reader: BlobReader) -> bytes:
    size = reader.read_varint("extra field length")
    return reader.read_bytes(size, "extra field body")


def _read_merge_mining(reader: BlobReader) -> bytes:
    body = _read_sized(reader)
    parse_merge_mining_body(body)
    return body


_FIELD_READERS: dict[int, Callable[[BlobReader], bytes]] = {
    ExtraTag.PADDING: _read_padding,
    ExtraTag.TX_PUBKEY: _read_pubkey,
    ExtraTag.NONCE: _read_sized,
    ExtraTag.MERGE_MINING: _read_merge_mining,
    ExtraTag.POOL_NONCE: _read_sized,
}


def _read_field(extra: bytes, offset: int) -> ExtraField:
    tag = extra[offset]
    read_payload = _FIELD_READERS.get(tag)
    if read_payload is None:
        raise BlobError(f"unknown extra tag 0x{tag:02x}")
    reader = BlobReader(extra, offset + 1)
    payload = read_payload(reader)
    return ExtraField(tag=tag, offset=offset, payload_offset=reader.offset - len(payload), payload=payload)


def parse_extra(extra: bytes) -> tuple[ExtraField, ...]:
    """Split `extra` into fields; anything from the first field that cannot be read on is opaque."""
    fields: list[ExtraField] = []
    offset = 0
    while offset < len(extra):
        try:
            field = _read_field(extra, offset)
        except BlobError:
            tail = extra[offset + 1 :]
            fields.append(ExtraField(extra[offset], offset, offset + 1, tail, opaque=True))
            break
        fields.append(field)
        offset = field.end
    return tuple(fields)


def parse_merge_mining_body(body: bytes) -> MergeMiningTag:
    """The body of a 03 field: varint(depth) then the 32-byte merkle root, nothing more."""
    reader = BlobReader(body)
    depth = reader.read_varint("merge-mining depth")
    root = reader.read_hash("merge-mining merkle root")
    reader.expect_end("merge-mining tag")
    return MergeMiningTag(depth=depth, merkle_root=root)


def merge_mining_body(depth: int, merkle_root: bytes) -> bytes:
    return encode_varint(depth) + merkle_root


def merge_mining_field(depth: int, merkle_root: bytes) -> bytes:
    """A complete 03 field: tag, varint(body length), body."""
    if len(merkle_root) != HASH_SIZE:
        raise ValueError(f"merge-mining root must be {HASH_SIZE} bytes, got {len(merkle_root)}")
    body = merge_mining_body(depth, merkle_root)
    return bytes([ExtraTag.MERGE_MINING]) + encode_varint(len(body)) + body


def nonce_field(reserve_size: int) -> bytes:
    """The reserved space a daemon writes for `reserve_size` > 0: 02 varint(r) 00*r."""
    if not 0 < reserve_size <= MAX_NONCE_FIELD_SIZE:
        raise ValueError(f"reserve size must be 1..{MAX_NONCE_FIELD_SIZE}, got {reserve_size}")
    return bytes([ExtraTag.NONCE]) + encode_varint(reserve_size) + bytes(reserve_size)


def pubkey_field(tx_public_key: bytes) -> bytes:
    if len(tx_public_key) != HASH_SIZE:
        raise ValueError(f"tx public key must be {HASH_SIZE} bytes, got {len(tx_public_key)}")
    return bytes([ExtraTag.TX_PUBKEY]) + tx_public_key


def _first_with_tag(fields: Sequence[ExtraField], tags: Sequence[int]) -> ExtraField | None:
    return next((field for field in fields if not field.opaque and field.tag in tags), None)


def find_reserved_field(fields: Sequence[ExtraField]) -> ExtraField | None:
    """The first 02 (extra nonce) or 07 (TurtleCoin v6 pool nonce) field."""
    return _first_with_tag(fields, RESERVED_SPACE_TAGS)


def find_merge_mining_tag(fields: Sequence[ExtraField]) -> MergeMiningTag | None:
    field = _first_with_tag(fields, (ExtraTag.MERGE_MINING,))
    return None if field is None else parse_merge_mining_body(field.payload)


def find_tx_public_key(fields: Sequence[ExtraField]) -> bytes | None:
    field = _first_with_tag(fields, (ExtraTag.TX_PUBKEY,))
    return None if field is None else field.payload
