"""`/api/v1/admin`: behind the admin secret (see `auth`). Login and logout, stats, miners, ports, health,
log lines, bans, and the payment batches that wait for an operator's decision."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from aiohttp import web

from athena_pool.api.context import ApiContext, client_ip, context
from athena_pool.api.errors import ApiError, bad_request, not_found, unavailable
from athena_pool.api.jsonio import json_response, read_json
from athena_pool.api.logview import recent_lines
from athena_pool.api.pagination import decode_cursor, encode_cursor, page, page_limit
from athena_pool.api.params import hash_hex, parse_int
from athena_pool.api.v1_public import V1
from athena_pool.payments.review import ReviewError, resolve_as_not_sent, resolve_as_sent
from athena_pool.storage.payment_store import BatchRecord, BatchState

ADMIN = f"{V1}/admin"
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
log = logging.getLogger(__name__)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def add_v1_admin_routes(app: web.Application) -> None:
    router = app.router
    router.add_post(f"{ADMIN}/login", login)
    router.add_post(f"{ADMIN}/logout", logout)
    router.add_get(f"{ADMIN}/stats", stats)
    router.add_get(f"{ADMIN}/miners", miners)
    router.add_get(f"{ADMIN}/ports", ports)
    router.add_get(f"{ADMIN}/health", health)
    router.add_get(f"{ADMIN}/logs", logs)
    router.add_get(f"{ADMIN}/payments/review", review)
    router.add_post(f"{ADMIN}/payments/review/{{batch_id}}/resolve", resolve)


async def _admin(request: web.Request) -> ApiContext:
    ctx = context(request)
    await ctx.auth.require(request, client_ip(request))
    return ctx


def _limit(ctx: ApiContext, request: web.Request) -> int:
    return page_limit(request, ctx.settings.page_size_default, ctx.settings.page_size_max)


async def login(request: web.Request) -> web.Response:
    ctx = context(request)
    ip = client_ip(request)
    body = await read_json(request)
    session = await ctx.auth.login(ip, body.get("secret"))
    response = json_response({"ok": True, "csrf_token": session.csrf, "expires_ms": session.expires_ms})
    ctx.auth.session_cookie(response, session)
    return response


async def logout(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    await ctx.auth.logout(request)
    response = json_response({"ok": True})
    ctx.auth.clear_cookie(response)
    return response


async def stats(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    s = ctx.stats.current()
    balances, pending = await ctx.payments.balances(), await ctx.payments.pending()
    ledger, totals = s.ledger, s.payout_totals
    return json_response(
        {
            "updated_ms": s.taken_ms,
            "owed": sum(balances.values()),
            "reserved_in_batches": sum(pending.values()),
            "ledger": {
                "rewards_total": ledger.rewards_total,
                "credited_total": ledger.credited_total,
                "fees_total": ledger.fees_total,
                "donations_total": ledger.donations_total,
                "finder_total": ledger.finder_total,
                "blocks_unlocked": ledger.blocks_unlocked,
                "blocks_orphaned": ledger.blocks_orphaned,
            },
            "payouts": {
                "paid": totals.paid,
                "fees_charged": totals.fees_charged,
                "network_fees": totals.network_fees,
                "transactions": totals.transactions,
            },
            "open_batches": dict(s.open_batches),
            "blocks": {"candidates": s.candidates, "matured": s.matured},
            "miners": {"known": s.miners_known, "active": len(s.miners)},
            "hashrate": s.hashrate_prop + s.hashrate_solo,
            "connections": s.live.connections,
            "stratum_instances": len(s.live.instances),
        }
    )


async def miners(request: web.Request) -> web.Response:
    """Every miner, most recently seen first, with its money."""
    ctx = await _admin(request)
    limit = _limit(ctx, request)
    entries = await ctx.api_store.miners_page(decode_cursor(request.query.get("cursor")), limit)
    money = await ctx.api_store.accounts_money([e.member for e in entries])
    snapshot = ctx.stats.current()
    items = []
    for entry in entries:
        live, cash = snapshot.miners.get(entry.member), money[entry.member]
        items.append(
            {
                "address": entry.member,
                "last_seen_ms": entry.score,
                "hashrate": live.hashrate if live else 0.0,
                "workers": len(live.worker_hashrates()) if live else 0,
                "balance": cash.balance,
                "pending": cash.pending,
                "paid": cash.paid,
                "payout_threshold_own": cash.threshold,
            }
        )
    last = entries[-1] if len(entries) == limit else None
    return json_response(page(items, encode_cursor(last.score, last.member) if last else None))


async def ports(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    live = ctx.stats.current().live
    by_port = live.connections_by_port
    items = [
        {
            "port": p.port,
            "difficulty": p.difficulty,
            "description": p.description,
            "hidden": p.hidden,
            "fixed_difficulty": p.fixed_difficulty,
            "tls": p.tls,
            "connections": by_port.get(p.port, 0),
        }
        for p in ctx.ports
    ]
    instances = {
        i: {"updated_ms": f.get("updated_ms"), "connections_by_port": f.get("connections_by_port", {})}
        for i, f in live.instances.items()
    }
    return json_response({"items": items, "instances": instances})


async def health(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    started = time.perf_counter()
    redis_ok = True
    try:
        await ctx.api_store.redis.ping()
    except Exception:  # the answer is the state
        redis_ok = False
    snapshot = ctx.stats.snapshot
    return json_response(
        {
            "redis": {"ok": redis_ok, "latency_ms": round((time.perf_counter() - started) * 1000, 3)},
            "stats_age_s": ctx.stats.age_s(),
            "services": dict(snapshot.status) if snapshot else {},
            "stratum": dict(snapshot.live.instances) if snapshot else {},
            "unlocker": await ctx.ledger.unlocker_status() if redis_ok else {},
        }
    )


async def logs(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    limit = parse_int(request.query.get("limit", "100"), "limit", 1, max(ctx.settings.log_lines, 1))
    level = request.query.get("level", "DEBUG").upper()
    if level not in LOG_LEVELS:
        raise bad_request(f"level: one of {', '.join(LOG_LEVELS)}")
    lines = await recent_lines(ctx)
    wanted = LOG_LEVELS.index(level)
    chosen = [line for line in lines if _level_index(line) >= wanted][:limit]
    items = [{k: line.get(k) for k in ("t", "level", "logger", "message", "instance")} for line in chosen]
    return json_response({"items": items})


def _level_index(line: dict[str, Any]) -> int:
    level = str(line.get("level", "INFO"))
    return LOG_LEVELS.index(level) if level in LOG_LEVELS else 1


def batch_json(batch: BatchRecord) -> dict[str, Any]:
    return {
        "batch_id": batch.batch_id,
        "state": batch.state.value,
        "reason": batch.reason,
        "created_ms": batch.created_ms,
        "attempt": batch.attempt,
        "start_height": batch.start_height,
        "start_ms": batch.start_ms,
        "tx_hash": batch.tx_hash,
        "fee": batch.fee,
        "real_fee": batch.real_fee,
        "payment_id": batch.payment_id,
        "total_gross": batch.total_gross,
        "total_net": batch.total_net,
        "items": [
            {"account": i.account, "address": i.address, "gross": i.gross, "charge": i.charge, "net": i.net}
            for i in batch.items
        ],
        "state_times": dict(batch.state_times),
    }


async def review(request: web.Request) -> web.Response:
    """Batches in manual review: the wallet may or may not have sent them; funds stay reserved."""
    ctx = await _admin(request)
    limit = _limit(ctx, request)
    cursor = decode_cursor(request.query.get("cursor"))
    waiting = [b for b in await ctx.payments.open_batches() if b.state is BatchState.MANUAL_REVIEW]
    if cursor is not None:
        waiting = [b for b in waiting if (b.created_ms, b.batch_id) > cursor]
    chosen = waiting[:limit]
    last = chosen[-1] if len(waiting) > limit else None
    return json_response(
        page([batch_json(b) for b in chosen], encode_cursor(last.created_ms, last.batch_id) if last else None)
    )


async def resolve(request: web.Request) -> web.Response:
    """The operator's decision on a batch in manual review, checked against the wallet by the payments
    code (`payments.review`): `{"action": "paid", "tx_hash": ...}` finalizes it with that transaction
    (the wallet must know it, with the batch's destinations and amounts); `{"action": "not_sent"}` gives
    the amounts back to the balances (refused while a transfer in the wallet could be it). Taken under the
    payment lease, so it never races the payment processor."""
    ctx = await _admin(request)
    batch_id = request.match_info["batch_id"]
    if not _BATCH_ID.fullmatch(batch_id):
        raise bad_request("batch_id: not a batch id")
    body = await read_json(request)
    action = body.get("action")
    if action not in ("paid", "not_sent"):
        raise bad_request('action: "paid" (with tx_hash) or "not_sent"')
    tx_hash = hash_hex(str(body.get("tx_hash", "")), "tx_hash") if action == "paid" else None
    if await ctx.payments.get_batch(batch_id) is None:
        raise not_found("no such payment batch")
    if ctx.wallet is None:
        raise unavailable("this API process has no wallet connection: resolve from the payments role", 3600)
    try:
        if tx_hash is not None:
            batch = await resolve_as_sent(ctx.payments, ctx.wallet, batch_id, tx_hash, clock=ctx.clock)
        else:
            batch = await resolve_as_not_sent(ctx.payments, ctx.wallet, batch_id, clock=ctx.clock)
    except ReviewError as exc:
        raise ApiError(409, str(exc)) from None
    log.warning("payment batch %s resolved by the operator: %s", batch_id, action)
    return json_response({"batch": batch_json(batch)})
