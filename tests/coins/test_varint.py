from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from athena_pool.coins.errors import BlobError
from athena_pool.coins.varint import (
    MAX_VARINT,
    VarintError,
    VarintTruncatedError,
    decode_varint,
    encode_varint,
    varint_size,
)

# block-format.md section 1, plus Athena's address prefix as turtlecoin-utils reports it (ca9f97c218).
EXAMPLES = [
    (0, "00"),
    (127, "7f"),
    (128, "8001"),
    (300, "ac02"),
    (1667941829, "c58bab9b06"),
    (6581243850, "ca9f97c218"),
    (MAX_VARINT, "ffffffffffffffffff01"),
]


@pytest.mark.parametrize(("value", "encoded_hex"), EXAMPLES)
def test_encode_examples(value: int, encoded_hex: str) -> None:
    assert encode_varint(value).hex() == encoded_hex
    assert varint_size(value) == len(encoded_hex) // 2


@pytest.mark.parametrize(("value", "encoded_hex"), EXAMPLES)
def test_decode_examples(value: int, encoded_hex: str) -> None:
    data = bytes.fromhex(encoded_hex)
    assert decode_varint(data) == (value, len(data))


def test_decode_at_offset_returns_the_next_offset() -> None:
    assert decode_varint(bytes.fromhex("ffac02ff"), 1) == (300, 3)


@pytest.mark.parametrize("overlong_hex", ["8000", "ff00", "ac8200", "808000"])
def test_overlong_forms_are_rejected(overlong_hex: str) -> None:
    with pytest.raises(VarintError, match="overlong"):
        decode_varint(bytes.fromhex(overlong_hex))


TOO_BIG_HEX = ["ffffffffffffffffff02", "80808080808080808080", "ffffffffffffffffff7f"]


@pytest.mark.parametrize("too_big_hex", TOO_BIG_HEX)
def test_values_above_64_bits_are_rejected(too_big_hex: str) -> None:
    with pytest.raises(VarintError, match="64 bits"):
        decode_varint(bytes.fromhex(too_big_hex))


@pytest.mark.parametrize("truncated_hex", ["", "80", "ffff"])
def test_truncated_varint(truncated_hex: str) -> None:
    with pytest.raises(VarintTruncatedError):
        decode_varint(bytes.fromhex(truncated_hex))


def test_varint_errors_are_blob_errors_and_value_errors() -> None:
    assert issubclass(VarintError, BlobError)
    assert issubclass(BlobError, ValueError)


@pytest.mark.parametrize("value", [-1, MAX_VARINT + 1])
def test_encode_rejects_out_of_range(value: int) -> None:
    with pytest.raises(VarintError):
        encode_varint(value)


@given(st.integers(min_value=0, max_value=MAX_VARINT))
def test_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded) == (value, len(encoded))
    assert len(encoded) == max(1, -(-value.bit_length() // 7))


@given(st.binary(min_size=1, max_size=12))
def test_decoding_arbitrary_bytes_either_round_trips_or_raises(data: bytes) -> None:
    try:
        value, end = decode_varint(data)
    except VarintError:
        return
    assert encode_varint(value) == data[:end]
