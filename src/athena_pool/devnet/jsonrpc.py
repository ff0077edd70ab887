"""JSON-RPC plumbing shared by the devnet daemon and wallet: envelopes, errors, param readers.

Both real programs answer HTTP 200 with a JSON-RPC error object for every application error, echo `id`
when the request had one, and always say `"jsonrpc": "2.0"`; so do we.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INTERNAL_ERROR = -32603
JsonObject = dict[str, Any]


@dataclass
class RpcError(Exception):
    code: int
    message: str
    data: JsonObject | None = field(default=None)

    def as_json(self) -> JsonObject:
        error: JsonObject = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def envelope(request: Mapping[str, Any] | None) -> JsonObject:
    response: JsonObject = {"jsonrpc": "2.0"}
    if request is not None and "id" in request:
        response["id"] = request["id"]
    return response


def result_response(request: Mapping[str, Any], result: object) -> web.Response:
    return web.json_response({**envelope(request), "result": result})


def error_response(request: Mapping[str, Any] | None, error: RpcError) -> web.Response:
    body = {**envelope(request), "error": error.as_json()}
    if request is None:
        body["id"] = None  # nothing could be parsed, so there is no id to echo
    return web.json_response(body)


async def read_json_object(request: web.Request) -> JsonObject:
    """The request body as a JSON object, or RpcError(PARSE_ERROR) ("Parse error", as both programs say)."""
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise RpcError(PARSE_ERROR, "Parse error") from None
    if not isinstance(body, dict):
        raise RpcError(PARSE_ERROR, "Parse error")
    return body


class ParamError(ValueError):
    """A parameter of the wrong type or out of range; each server turns it into its own error."""


def unsigned(
    params: Mapping[str, Any], name: str, default: int | None = None, maximum: int = 2**64 - 1
) -> int:
    value = params.get(name, default)
    if value is None:
        raise ParamError(f"{name} is required")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ParamError(f"{name} must be an integer 0..{maximum}")
    return value


def text(params: Mapping[str, Any], name: str, default: str | None = None, max_length: int = 4096) -> str:
    value = params.get(name, default)
    if value is None:
        raise ParamError(f"{name} is required")
    if not isinstance(value, str) or len(value) > max_length:
        raise ParamError(f"{name} must be a string of at most {max_length} characters")
    return value


def as_object(value: object, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParamError(f"{what} must be an object")
    return value
