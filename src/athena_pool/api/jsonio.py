"""JSON in and out: every API response goes through `json_response`, every body through `read_json`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from athena_pool.api.errors import ApiError, bad_request

JSON_CONTENT_TYPE = "application/json"


_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def dumps(data: Any) -> str:
    """Compact JSON, ASCII only, with `<`, `>` and `&` escaped as \\u003c, \\u003e and \\u0026.

    Those characters can only occur inside JSON strings, so the escapes change no value: a worker named
    `<img src=x onerror=...>` is the same string to every JSON parser, but the body never holds a tag,
    whatever a browser or a careless page does with it."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=False).translate(_HTML_SAFE)


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        text=dumps(data),
        status=status,
        content_type=JSON_CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object. The body size is bounded by the app's client_max_size."""
    if request.content_type != JSON_CONTENT_TYPE:
        raise ApiError(415, "send the body as application/json")
    try:
        data = await request.json()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "request body too large") from None
    except (ValueError, UnicodeDecodeError):
        raise bad_request("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object")
    return data
