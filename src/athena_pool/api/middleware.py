"""Middlewares, outermost first: CORS, security headers, request counting, errors as JSON."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import MappingProxyType

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from athena_pool.api.context import RequestCounters
from athena_pool.api.errors import ApiError
from athena_pool.api.jsonio import JSON_CONTENT_TYPE, json_response

log = logging.getLogger(__name__)

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Content-Type, Authorization, X-CSRF-Token"
_HTTP_MESSAGES: Mapping[int, str] = MappingProxyType(
    {
        404: "no such endpoint",
        405: "method not allowed here",
        413: "request body too large",
    }
)


def middlewares(cors_origins: tuple[str, ...], counters: RequestCounters) -> list[Middleware]:
    return [cors(cors_origins), security_headers, counting(counters), errors_as_json]


def cors(origins: tuple[str, ...]) -> Middleware:
    allow_any = "*" in origins

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = origin is not None and (allow_any or origin in origins)
        if request.method == "OPTIONS" and allowed and "Access-Control-Request-Method" in request.headers:
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = await handler(request)
        if allowed and origin is not None:
            response.headers["Access-Control-Allow-Origin"] = "*" if allow_any else origin
            if not allow_any:
                response.headers["Access-Control-Allow-Credentials"] = "true"
                response.headers["Vary"] = "Origin"
        return response

    return middleware


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.content_type in (JSON_CONTENT_TYPE, "text/plain"):
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def counting(counters: RequestCounters) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        resource = request.match_info.route.resource
        counters.count(resource.canonical if resource is not None else "unmatched", response.status)
        return response

    return middleware


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return json_response({"error": exc.message}, status=exc.status, headers=exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        message = _HTTP_MESSAGES.get(exc.status, exc.reason)
        return json_response({"error": message}, status=exc.status, headers=headers)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("API error on %s %s", request.method, request.rel_url.path[:200])
        return json_response(
            {"error": "internal error; the operator can find it in the pool's log"}, status=500
        )
