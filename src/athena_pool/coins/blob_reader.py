"""A cursor over a blob that names the field being read when the blob runs out."""

from __future__ import annotations

from athena_pool.coins.errors import BlobError
from athena_pool.coins.varint import VarintError, VarintTruncatedError, decode_varint

HASH_SIZE = 32


class BlobReader:
    """Sequential reader; every read names its field so errors say exactly where parsing stopped."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self._data = data
        self.offset = offset

    @property
    def remaining(self) -> int:
        return len(self._data) - self.offset

    def at_end(self) -> bool:
        return self.offset >= len(self._data)

    def read_bytes(self, size: int, what: str) -> bytes:
        if size > self.remaining:
            raise BlobError(f"blob truncated at offset {len(self._data)} while reading {what}")
        chunk = self._data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def read_byte(self, what: str) -> int:
        return self.read_bytes(1, what)[0]

    def read_hash(self, what: str) -> bytes:
        return self.read_bytes(HASH_SIZE, what)

    def read_varint(self, what: str) -> int:
        start = self.offset
        try:
            value, self.offset = decode_varint(self._data, start)
        except VarintTruncatedError:
            raise BlobError(f"blob truncated at offset {len(self._data)} while reading {what}") from None
        except VarintError as error:
            raise BlobError(f"bad varint at offset {start} while reading {what}: {error}") from None
        return value

    def read_count(self, what: str, item_size: int) -> int:
        """Read a vector length, refusing counts the rest of the blob cannot possibly hold."""
        start = self.offset
        count = self.read_varint(what)
        if count * item_size > self.remaining:
            raise BlobError(
                f"blob truncated at offset {len(self._data)} while reading {what}: "
                f"count {count} at offset {start} needs {count * item_size} more bytes"
            )
        return count

    def expect_end(self, what: str) -> None:
        if not self.at_end():
            raise BlobError(f"{self.remaining} unexpected bytes at offset {self.offset} after {what}")
