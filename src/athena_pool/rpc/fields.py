"""Typed readers for the fields of a daemon's JSON answer.

Each reader returns the value with its promised type or raises `RpcBadResponse` naming the answer and the
field, so a daemon that changed its shape is reported as such instead of surfacing as a KeyError deep in
the pool.
"""

from __future__ import annotations

from typing import Any

from athena_pool.rpc.errors import RpcBadResponse, RpcUnavailable

HASH_HEX_LENGTH = 64
# A block template lists every tx hash of the block; far past any real block, small enough to bound memory.
MAX_BLOB_BYTES = 4 * 1024 * 1024
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def require_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RpcBadResponse(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def _field(obj: dict[str, Any], key: str, what: str) -> Any:
    if key not in obj:
        raise RpcBadResponse(f"{what}: field {key!r} is missing")
    return obj[key]


def require_int(obj: dict[str, Any], key: str, what: str, *, minimum: int = 0) -> int:
    value = _field(obj, key, what)
    # bool is an int in Python; a daemon sending `true` for a height is broken, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RpcBadResponse(f"{what}: field {key!r} must be an integer >= {minimum}, got {value!r:.40}")
    return value


def optional_int(obj: dict[str, Any], key: str, what: str, *, default: int = 0) -> int:
    return require_int(obj, key, what) if key in obj else default


def require_bool(obj: dict[str, Any], key: str, what: str) -> bool:
    value = _field(obj, key, what)
    if not isinstance(value, bool):
        raise RpcBadResponse(f"{what}: field {key!r} must be true or false, got {value!r:.40}")
    return value


def require_str(obj: dict[str, Any], key: str, what: str) -> str:
    value = _field(obj, key, what)
    if not isinstance(value, str):
        raise RpcBadResponse(f"{what}: field {key!r} must be a string, got {type(value).__name__}")
    return value


def require_hex(obj: dict[str, Any], key: str, what: str, *, max_bytes: int = MAX_BLOB_BYTES) -> bytes:
    """A non-empty, even-length hex string, decoded."""
    text = require_str(obj, key, what)
    if not text or len(text) % 2 or len(text) > 2 * max_bytes or not _HEX_DIGITS.issuperset(text):
        raise RpcBadResponse(f"{what}: field {key!r} is not hex of at most {max_bytes} bytes: {text[:40]!r}")
    return bytes.fromhex(text)


def require_hash_hex(obj: dict[str, Any], key: str, what: str) -> str:
    """A 32-byte hash as 64 hex characters, returned lower-case."""
    text = require_str(obj, key, what)
    if len(text) != HASH_HEX_LENGTH or not _HEX_DIGITS.issuperset(text):
        raise RpcBadResponse(f"{what}: field {key!r} is not a 64-hex-character hash: {text[:70]!r}")
    return text.lower()


def optional_hash(obj: dict[str, Any], key: str, what: str) -> bytes | None:
    """A 32-byte hash that may be absent or empty (monerod sends "" for an unknown next seed)."""
    if obj.get(key) in (None, ""):
        return None
    return bytes.fromhex(require_hash_hex(obj, key, what))


def parse_wide_hex(text: str, key: str, what: str) -> int:
    """monerod's 128-bit `wide_difficulty`, a "0x"-prefixed hex string."""
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    if not digits or len(digits) > 32 or not _HEX_DIGITS.issuperset(digits):
        raise RpcBadResponse(f"{what}: field {key!r} is not a 128-bit hex number: {text[:40]!r}")
    return int(digits, 16)


def require_status_ok(obj: dict[str, Any], what: str) -> None:
    """Daemons put "OK" in `status`; "BUSY" or anything else means the rest of the answer is not usable."""
    status = obj.get("status", "OK")
    if status == "BUSY":
        raise RpcUnavailable(f"{what}: daemon is busy (syncing or loading)")
    if status != "OK":
        raise RpcBadResponse(f"{what}: daemon status is {status!r:.40}, not 'OK'")
