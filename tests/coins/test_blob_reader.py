from __future__ import annotations

import pytest

from athena_pool.coins.blob_reader import BlobReader
from athena_pool.coins.errors import BlobError


def test_reads_fields_in_order() -> None:
    reader = BlobReader(bytes.fromhex("ac02") + bytes(range(32)) + b"\x07")
    assert reader.read_varint("amount") == 300
    assert reader.read_hash("key") == bytes(range(32))
    assert reader.read_byte("tag") == 7
    assert reader.at_end()
    reader.expect_end("everything")


def test_truncation_names_offset_and_field() -> None:
    reader = BlobReader(bytes(10))
    reader.read_bytes(4, "nonce")
    with pytest.raises(BlobError, match=r"^blob truncated at offset 10 while reading prev_id$"):
        reader.read_hash("prev_id")


def test_truncated_varint_names_the_field() -> None:
    reader = BlobReader(bytes.fromhex("0580"))
    reader.read_varint("major version")
    with pytest.raises(BlobError, match=r"^blob truncated at offset 2 while reading timestamp$"):
        reader.read_varint("timestamp")


def test_overlong_varint_names_offset_and_field() -> None:
    reader = BlobReader(bytes.fromhex("018000"))
    reader.read_byte("tag")
    with pytest.raises(BlobError, match=r"bad varint at offset 1 while reading height: overlong"):
        reader.read_varint("height")


def test_count_that_cannot_fit_is_reported_as_truncation() -> None:
    reader = BlobReader(bytes.fromhex("05") + bytes(64))
    with pytest.raises(BlobError, match="while reading tx hash count: count 5 at offset 0 needs 160"):
        reader.read_count("tx hash count", 32)


def test_trailing_bytes_are_reported() -> None:
    reader = BlobReader(bytes(3))
    reader.read_byte("tag")
    with pytest.raises(BlobError, match="2 unexpected bytes at offset 1 after the tx hashes"):
        reader.expect_end("the tx hashes")
