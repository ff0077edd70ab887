"""CryptoNote varints: unsigned LEB128, read strictly as monerod does.

Seven bits per byte, least significant group first, the high bit set on every byte but the last.
A strict reader rejects overlong forms (a final zero byte after a continuation) and values above 64 bits,
because two encodings of one value would give two different blob hashes for the same block.
"""

from __future__ import annotations

from athena_pool.coins.errors import BlobError

MAX_VARINT = (1 << 64) - 1
# A 64-bit value needs at most ten 7-bit groups.
MAX_VARINT_BYTES = 10


class VarintError(BlobError):
    """A varint that is truncated, overlong or larger than 64 bits."""


class VarintTruncatedError(VarintError):
    """The data ended inside a varint."""


def encode_varint(value: int) -> bytes:
    """Encode an unsigned integer below 2**64 as a varint."""
    if value < 0 or value > MAX_VARINT:
        raise VarintError(f"varint value {value} is outside 0..2**64-1")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Decode the varint starting at `offset`; return (value, offset just past it)."""
    value = 0
    for index in range(MAX_VARINT_BYTES):
        position = offset + index
        if position >= len(data):
            raise VarintTruncatedError(f"varint truncated at offset {position}")
        byte = data[position]
        if index > 0 and byte == 0:
            raise VarintError(f"overlong varint at offset {offset}: a zero byte ends a continuation")
        value |= (byte & 0x7F) << (7 * index)
        if value > MAX_VARINT:
            raise VarintError(f"varint at offset {offset} exceeds 64 bits")
        if not byte & 0x80:
            return value, position + 1
    raise VarintError(f"varint at offset {offset} exceeds 64 bits")


def varint_size(value: int) -> int:
    """How many bytes `encode_varint(value)` takes."""
    return len(encode_varint(value))
