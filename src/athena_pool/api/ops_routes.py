"""Operations: `/health` (for load balancers and monitoring), `/metrics` (Prometheus) and the OpenAPI
description at `/api/v1/openapi.json`."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from athena_pool.api import metrics
from athena_pool.api.context import context
from athena_pool.api.jsonio import json_response
from athena_pool.api.openapi import OPENAPI_KEY

REDIS_PING_TIMEOUT_S = 2.0


def add_ops_routes(app: web.Application) -> None:
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/api/v1/openapi.json", openapi)


async def health(request: web.Request) -> web.Response:
    """200 "ok" or "degraded" (the daemon, the wallet or every stratum instance missing); 503 "down" when
    Redis does not answer or no statistics could be read yet. No error details: those are for the admin."""
    ctx = context(request)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(REDIS_PING_TIMEOUT_S):
            redis_ok = bool(await ctx.api_store.redis.ping())
    except Exception:  # the answer is the state
        redis_ok = False
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    snapshot, age = ctx.stats.snapshot, ctx.stats.age_s()
    fresh = age is not None and age <= 3 * ctx.settings.update_interval_s + 5
    services = {name: bool(status.get("ok")) for name, status in snapshot.status.items()} if snapshot else {}
    stratum = len(snapshot.live.instances) if snapshot else 0
    checks: dict[str, Any] = {
        "redis": {"ok": redis_ok, "latency_ms": latency_ms},
        "stats": {"ok": fresh, "age_s": age},
        "stratum": {"ok": stratum > 0, "instances": stratum},
        "services": services,
    }
    if not redis_ok or snapshot is None:
        return json_response({"status": "down", "checks": checks}, status=503)
    degraded = not fresh or stratum == 0 or not all(services.values())
    return json_response({"status": "degraded" if degraded else "ok", "checks": checks})


async def prometheus(request: web.Request) -> web.Response:
    body = metrics.render(context(request)).encode()
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})


async def openapi(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI_KEY])
