"""Query and path parameters, checked once: every size a stranger controls is bounded here."""

from __future__ import annotations

import re

from aiohttp import web

from athena_pool.api.errors import bad_request

# An account is an address (base58) or `ADDRESS.PAYMENTID` (hex): nothing else is ever stored.
_ACCOUNT = re.compile(r"[1-9A-HJ-NP-Za-km-z]{10,200}(\.[0-9a-fA-F]{16,64})?")
_DIGITS = re.compile(r"[0-9]{1,19}")
_HASH_HEX = re.compile(r"[0-9a-f]{64}")
MAX_WORKER_CHARS = 64


def parse_int(text: str, name: str, low: int, high: int) -> int:
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise bad_request(f"{name}: expected a whole number from {low} to {high}")
    return int(text)


def query_int(request: web.Request, name: str, default: int | None, low: int, high: int) -> int | None:
    text = request.query.get(name)
    return default if text is None else parse_int(text, name, low, high)


def account_text(text: str | None, name: str = "address") -> str:
    """An address, or `ADDRESS.PAYMENTID`: shape only (the coin's decoder checks the rest where needed)."""
    if not text:
        raise bad_request(f"{name}: required")
    if not _ACCOUNT.fullmatch(text):
        raise bad_request(f"{name}: not a wallet address")
    return text


def hash_hex(text: str, name: str = "hash") -> str:
    if not _HASH_HEX.fullmatch(text):
        raise bad_request(f"{name}: expected 64 lower-case hex characters")
    return text


def worker_text(text: str) -> str:
    if not 1 <= len(text) <= MAX_WORKER_CHARS:
        raise bad_request(f"worker: 1 to {MAX_WORKER_CHARS} characters")
    return text
