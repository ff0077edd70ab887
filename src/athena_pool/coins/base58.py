"""CryptoNote base58: 8-byte blocks become 11 characters, a final partial block a fixed shorter length.

Unlike Bitcoin's base58 this is block-wise, so leading zero bytes need no special case and the text length
alone tells how many bytes it decodes to.
"""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
FULL_BLOCK_SIZE = 8
FULL_ENCODED_BLOCK_SIZE = 11
# Index = bytes in a block, value = characters that block encodes to.
ENCODED_BLOCK_SIZES = (0, 2, 3, 5, 6, 7, 9, 10, 11)
_DIGIT_VALUES = {character: value for value, character in enumerate(ALPHABET)}


class Base58Error(ValueError):
    """Text that is not valid CryptoNote base58."""


def _encode_block(block: bytes) -> str:
    number = int.from_bytes(block, "big")
    characters = []
    for _ in range(ENCODED_BLOCK_SIZES[len(block)]):
        number, digit = divmod(number, len(ALPHABET))
        characters.append(ALPHABET[digit])
    return "".join(reversed(characters))


def encode(data: bytes) -> str:
    blocks = (data[start : start + FULL_BLOCK_SIZE] for start in range(0, len(data), FULL_BLOCK_SIZE))
    return "".join(_encode_block(block) for block in blocks)


def _decoded_size(encoded_size: int, total_length: int) -> int:
    try:
        return ENCODED_BLOCK_SIZES.index(encoded_size)
    except ValueError:
        raise Base58Error(
            f"invalid base58 length {total_length}: a final block of {encoded_size} characters is impossible"
        ) from None


def _decode_block(text: str, start: int, size: int) -> bytes:
    number = 0
    for position in range(start, start + ENCODED_BLOCK_SIZES[size]):
        number = number * len(ALPHABET) + _DIGIT_VALUES[text[position]]
    if number >> (8 * size):
        raise Base58Error(f"base58 block at position {start} overflows {size} bytes")
    return number.to_bytes(size, "big")


def _check_characters(text: str) -> None:
    for position, character in enumerate(text):
        if character not in _DIGIT_VALUES:
            raise Base58Error(f"invalid base58 character {character!r} at position {position}")


def decode(text: str) -> bytes:
    _check_characters(text)
    full_blocks, tail_length = divmod(len(text), FULL_ENCODED_BLOCK_SIZE)
    tail_size = _decoded_size(tail_length, len(text))
    decoded = [
        _decode_block(text, index * FULL_ENCODED_BLOCK_SIZE, FULL_BLOCK_SIZE) for index in range(full_blocks)
    ]
    if tail_size:
        decoded.append(_decode_block(text, full_blocks * FULL_ENCODED_BLOCK_SIZE, tail_size))
    return b"".join(decoded)
