"""CryptoNote base58 (block-wise, 8 bytes to 11 characters)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from athena_pool.coins.base58 import Base58Error, decode, encode

# Block encodings from Monero's base58 unit tests.
EXAMPLES = [
    ("", ""),
    ("00", "11"),
    ("39", "1z"),
    ("ff", "5Q"),
    ("0000", "111"),
    ("0039", "11z"),
    ("0100", "15R"),
    ("ffff", "LUv"),
    ("000000", "11111"),
    ("000039", "1111z"),
    ("010000", "11LUw"),
    ("ffffff", "2UzHL"),
    ("0000000000000000", "11111111111"),
    ("ffffffffffffffff", "jpXCZedGfVQ"),
    ("06156013762879f7ffffffffff", "22222222222VtB5VXc"),
]


@pytest.mark.parametrize(("data_hex", "text"), EXAMPLES)
def test_examples(data_hex: str, text: str) -> None:
    assert encode(bytes.fromhex(data_hex)) == text
    assert decode(text) == bytes.fromhex(data_hex)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("11l1", "invalid base58 character 'l' at position 2"),
        ("0", "invalid base58 character '0' at position 0"),
        ("jpXCZedGfVQ ", "invalid base58 character ' ' at position 11"),
        ("1O", "invalid base58 character 'O' at position 1"),
    ],
)
def test_bad_characters_are_named_with_their_position(text: str, message: str) -> None:
    with pytest.raises(Base58Error, match=f"^{message}$"):
        decode(text)


@pytest.mark.parametrize("length", [1, 4, 8, 12, 15, 19])
def test_impossible_lengths(length: int) -> None:
    tail = length % 11
    with pytest.raises(
        Base58Error, match=f"invalid base58 length {length}: a final block of {tail} characters"
    ):
        decode("1" * length)


@pytest.mark.parametrize(("text", "size"), [("5R", 1), ("LUw", 2), ("2UzHM", 3), ("jpXCZedGfVR", 8)])
def test_overflowing_blocks(text: str, size: int) -> None:
    with pytest.raises(Base58Error, match=f"base58 block at position 0 overflows {size} bytes"):
        decode(text)


def test_overflow_is_located_in_later_blocks() -> None:
    with pytest.raises(Base58Error, match="block at position 11 overflows 8 bytes"):
        decode("11111111111zzzzzzzzzzz")


@given(st.binary(max_size=200))
def test_round_trip(data: bytes) -> None:
    text = encode(data)
    assert decode(text) == data
    full_blocks, tail = divmod(len(data), 8)
    assert len(text) == 11 * full_blocks + (0, 2, 3, 5, 6, 7, 9, 10, 11)[tail]
