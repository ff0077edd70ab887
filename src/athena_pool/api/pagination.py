"""Pages: `limit` (bounded) and an opaque `cursor`, the position after which the next page starts.

A cursor is `{score}` or `{score}.{member as UTF-8, in hex}`: every string of that shape is a position,
so a client can only ever get a page (perhaps empty) or a 400 for a malformed cursor, never an error
that depends on what the cursor points at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from athena_pool.api.errors import bad_request
from athena_pool.api.params import parse_int
from athena_pool.storage.api_store import Cursor

MAX_MEMBER_BYTES = 540
CURSOR_PATTERN = rf"^(-?[0-9]{{1,19}}(\.([0-9a-f]{{2}}){{0,{MAX_MEMBER_BYTES}}})?)?$"
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(score: int, member: str) -> str:
    raw = member.encode("utf-8", "surrogatepass")[:MAX_MEMBER_BYTES]
    return f"{score}.{raw.hex()}" if raw else str(score)


def decode_cursor(text: str | None) -> Cursor | None:
    if not text:
        return None
    if not _CURSOR.fullmatch(text):
        raise bad_request("cursor: not a cursor this API gave out (use next_cursor as it is)")
    score, _, member = text.partition(".")
    return int(score), bytes.fromhex(member).decode("utf-8", "replace")


def page_limit(request: web.Request, default: int, maximum: int) -> int:
    text = request.query.get("limit")
    return default if text is None else parse_int(text, "limit", 1, maximum)


def page(items: Sequence[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": list(items), "next_cursor": next_cursor}
