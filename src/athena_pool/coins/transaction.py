"""Miner (coinbase) transactions: layout (section 2.1), serialization and hash (section 3)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from athena_pool.coins.blob_reader import HASH_SIZE, BlobReader
from athena_pool.coins.errors import BlobError
from athena_pool.coins.extra import ExtraField, parse_extra
from athena_pool.coins.hashing import cn_fast_hash
from athena_pool.coins.varint import encode_varint

TXIN_GEN = 0xFF
TXOUT_TO_KEY = 0x02
# Monero HF15+; Bytecoin-family chains use 03 for multisig outputs, which never appear in a coinbase.
TXOUT_TO_TAGGED_KEY = 0x03
RCT_TYPE_NULL = 0
# From v2 (RingCT) the hash covers H(prefix) || H(rct_base) || prunable hash. A coinbase's rct_base is
# the single byte 00 (RCTTypeNull) and its prunable hash is all zeros.
RCT_NULL_BASE_HASH = cn_fast_hash(bytes([RCT_TYPE_NULL]))
RCT_NULL_PRUNABLE_HASH = bytes(HASH_SIZE)
FIRST_RCT_VERSION = 2
# Smallest encodings, used to reject absurd counts before looping over them.
MIN_INPUT_SIZE = 2
MIN_OUTPUT_SIZE = 1 + 1 + HASH_SIZE


@dataclass(frozen=True)
class TxOutput:
    amount_atomic: int
    key: bytes
    view_tag: int | None = None

    def __post_init__(self) -> None:
        if len(self.key) != HASH_SIZE:
            raise ValueError(f"output key must be {HASH_SIZE} bytes, got {len(self.key)}")
        if self.view_tag is not None and not 0 <= self.view_tag <= 0xFF:
            raise ValueError(f"view tag must be one byte, got {self.view_tag}")


@dataclass(frozen=True)
class MinerTx:
    """A coinbase: only generation inputs (their heights), key outputs, raw extra and the v2 RCT type."""

    version: int
    unlock_time: int
    input_heights: tuple[int, ...]
    outputs: tuple[TxOutput, ...]
    extra: bytes
    rct_type: int | None = None

    def __post_init__(self) -> None:
        if (self.rct_type is None) != (self.version < FIRST_RCT_VERSION):
            requirement = "needs an" if self.rct_type is None else "takes no"
            raise ValueError(f"a version {self.version} tx {requirement} RCT type")

    @property
    def height(self) -> int:
        if len(self.input_heights) != 1:
            count = len(self.input_heights)
            raise BlobError(f"a coinbase has exactly one generation input, this one has {count}")
        return self.input_heights[0]

    @cached_property
    def extra_fields(self) -> tuple[ExtraField, ...]:
        return parse_extra(self.extra)


def _read_input_height(reader: BlobReader, index: int) -> int:
    input_type = reader.read_byte(f"miner tx input {index} type")
    if input_type != TXIN_GEN:
        raise BlobError(
            f"miner tx input {index} has type 0x{input_type:02x}; only txin_gen (0xff) is allowed"
        )
    return reader.read_varint(f"miner tx input {index} height")


def _read_output(reader: BlobReader, index: int) -> TxOutput:
    amount = reader.read_varint(f"miner tx output {index} amount")
    target = reader.read_byte(f"miner tx output {index} target type")
    key = reader.read_hash(f"miner tx output {index} key")
    if target == TXOUT_TO_KEY:
        return TxOutput(amount, key)
    if target == TXOUT_TO_TAGGED_KEY:
        return TxOutput(amount, key, reader.read_byte(f"miner tx output {index} view tag"))
    raise BlobError(f"miner tx output {index} has target type 0x{target:02x}; expected 0x02 or 0x03")


def read_miner_tx(reader: BlobReader) -> MinerTx:
    """Read a coinbase; from version 2 one trailing varint (the RCT type) follows the extra."""
    version = reader.read_varint("miner tx version")
    unlock_time = reader.read_varint("miner tx unlock time")
    input_count = reader.read_count("miner tx input count", MIN_INPUT_SIZE)
    heights = tuple(_read_input_height(reader, index) for index in range(input_count))
    output_count = reader.read_count("miner tx output count", MIN_OUTPUT_SIZE)
    outputs = tuple(_read_output(reader, index) for index in range(output_count))
    extra = reader.read_bytes(reader.read_varint("miner tx extra length"), "miner tx extra")
    rct_type = reader.read_varint("miner tx RCT type") if version >= FIRST_RCT_VERSION else None
    return MinerTx(version, unlock_time, heights, outputs, extra, rct_type)


def _serialize_output(output: TxOutput) -> bytes:
    if output.view_tag is None:
        return encode_varint(output.amount_atomic) + bytes([TXOUT_TO_KEY]) + output.key
    return (
        encode_varint(output.amount_atomic)
        + bytes([TXOUT_TO_TAGGED_KEY])
        + output.key
        + bytes([output.view_tag])
    )


def _serialize_before_extra(tx: MinerTx) -> bytes:
    parts = [encode_varint(tx.version), encode_varint(tx.unlock_time), encode_varint(len(tx.input_heights))]
    parts += [bytes([TXIN_GEN]) + encode_varint(height) for height in tx.input_heights]
    parts.append(encode_varint(len(tx.outputs)))
    parts += [_serialize_output(output) for output in tx.outputs]
    parts.append(encode_varint(len(tx.extra)))
    return b"".join(parts)


def serialize_prefix(tx: MinerTx) -> bytes:
    """The transaction prefix: version through the end of extra."""
    return _serialize_before_extra(tx) + tx.extra


def serialize_miner_tx(tx: MinerTx) -> bytes:
    tail = b"" if tx.rct_type is None else encode_varint(tx.rct_type)
    return serialize_prefix(tx) + tail


def extra_offset_in_tx(tx: MinerTx) -> int:
    """Where the first byte of `extra` sits in the serialized transaction."""
    return len(_serialize_before_extra(tx))


def miner_tx_hash(tx: MinerTx) -> bytes:
    """Transaction id: H(prefix) up to v1; H(H(prefix) || H(00) || 0*32) from v2.

    Bytecoin-family parsers use the RCT-null constants for a v2 parent coinbase whatever its trailing
    varint says, so the constants are used here too rather than hashing the stored RCT type.
    """
    prefix = serialize_prefix(tx)
    if tx.version < FIRST_RCT_VERSION:
        return cn_fast_hash(prefix)
    return cn_fast_hash(cn_fast_hash(prefix) + RCT_NULL_BASE_HASH + RCT_NULL_PRUNABLE_HASH)
