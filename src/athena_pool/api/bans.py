"""Bans, as the stratum side records them (`storage.bans_store`): a public list with masked IPs and
truncated addresses, and for the admin the full list, lifting a ban and banning by hand."""

from __future__ import annotations

import ipaddress
from typing import Any

from aiohttp import web

from athena_pool.api.context import client_ip, context
from athena_pool.api.errors import bad_request, not_found
from athena_pool.api.jsonio import json_response, read_json
from athena_pool.api.pagination import decode_cursor, encode_cursor, page, page_limit
from athena_pool.api.params import account_text, worker_text
from athena_pool.api.views import truncate_address
from athena_pool.storage.bans_store import BanRecord, BanScope

V1 = "/api/v1"
MAX_BAN_S = 365 * 86_400
MAX_REASON_CHARS = 200


def mask_ip(ip: str) -> str:
    """203.0.113.7 -> 203.0.113.x; IPv6 keeps its /48."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "x"
    if isinstance(address, ipaddress.IPv4Address):
        return ".".join(ip.split(".")[:3]) + ".x"
    return str(ipaddress.ip_network(f"{address}/48", strict=False))


def public_ban_json(ban: BanRecord) -> dict[str, Any]:
    return {
        "id": ban.ban_id,
        "scope": ban.scope.value,
        "ip": mask_ip(ban.ip),
        "address": truncate_address(ban.address) if ban.address else "",
        "worker": ban.worker,
        "reason": ban.reason,
        "created_ms": ban.created_ms,
        "until_ms": ban.until_ms,
    }


async def _page(request: web.Request) -> tuple[list[BanRecord], str | None]:
    ctx = context(request)
    limit = page_limit(request, ctx.settings.page_size_default, ctx.settings.page_size_max)
    cursor = decode_cursor(request.query.get("cursor"))
    offset = 0 if cursor is None else max(0, min(cursor[0], 10**9))
    bans = await ctx.bans.list_bans(ctx.now_ms(), limit=limit + 1, offset=offset)
    more = len(bans) > limit
    return bans[:limit], encode_cursor(offset + limit, "") if more else None


async def public_bans(request: web.Request) -> web.Response:
    bans, next_cursor = await _page(request)
    return json_response(page([public_ban_json(b) for b in bans], next_cursor))


async def admin_bans(request: web.Request) -> web.Response:
    ctx = context(request)
    await ctx.auth.require(request, client_ip(request))
    bans, next_cursor = await _page(request)
    return json_response(page([b.to_json() for b in bans], next_cursor))


async def lift_ban(request: web.Request) -> web.Response:
    ctx = context(request)
    await ctx.auth.require(request, client_ip(request))
    ban_id = request.match_info["ban_id"]
    if len(ban_id) != 32 or any(c not in "0123456789abcdef" for c in ban_id):
        raise bad_request("ban_id: 32 hex characters")
    if not await ctx.bans.remove_ban(ban_id):
        raise not_found("no such ban")
    return json_response({"lifted": ban_id})


async def add_ban(request: web.Request) -> web.Response:
    """`{"scope": "ip"|"wallet"|"worker", "ip": ..., "address"?, "worker"?, "reason"?, "duration_s": ...}`"""
    ctx = context(request)
    await ctx.auth.require(request, client_ip(request))
    body = await read_json(request)
    allowed = {"scope", "ip", "reason", "duration_s", "address", "worker"}
    try:
        scope = BanScope(str(body.get("scope")))
        ip = str(ipaddress.ip_address(str(body.get("ip", ""))))
    except ValueError:
        raise bad_request("scope (ip, wallet or worker) and ip (an IP address) are required") from None
    if scope is BanScope.IP:
        allowed -= {"address", "worker"}
    elif scope is BanScope.WALLET:
        allowed -= {"worker"}
    unknown = set(body) - allowed
    if unknown:
        raise bad_request(f"fields not used by a {scope.value} ban: {', '.join(sorted(unknown))[:200]}")
    duration = body.get("duration_s")
    if not isinstance(duration, int) or isinstance(duration, bool) or not 1 <= duration <= MAX_BAN_S:
        raise bad_request(f"duration_s: whole seconds, 1 to {MAX_BAN_S}")
    address = account_text(_text(body.get("address")), "address") if scope is not BanScope.IP else ""
    worker = worker_text(_text(body.get("worker"))) if scope is BanScope.WORKER else ""
    reason = body.get("reason", "banned by the operator")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise bad_request(f"reason: a string of at most {MAX_REASON_CHARS} characters")
    now = ctx.now_ms()
    ban = BanRecord(scope, ip, address, worker, reason, now, now + duration * 1000, "api")
    await ctx.bans.add_ban(ban, now)
    return json_response({"ban": ban.to_json()}, status=201)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise bad_request("address and worker must be strings")
    return value


def add_ban_routes(app: web.Application) -> None:
    app.router.add_get(f"{V1}/bans", public_bans)
    app.router.add_get(f"{V1}/admin/bans", admin_bans)
    app.router.add_post(f"{V1}/admin/bans", add_ban)
    app.router.add_post(f"{V1}/admin/bans/{{ban_id}}/lift", lift_ban)
