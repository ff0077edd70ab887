"""`/api/v1/miners/{address}`: one address's stats, workers, chart, payments, credits and settings.

Settings change in two steps, behind a proof of ownership (see `ownership.service`):
`POST .../settings/challenge` with the wanted change returns a message; `POST .../settings` with that
challenge and the message's signature applies it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from athena_pool.api.context import ApiContext, client_ip, context
from athena_pool.api.errors import bad_request, not_found
from athena_pool.api.jsonio import json_response, read_json
from athena_pool.api.ownership.service import SettingsChange, check_email
from athena_pool.api.pagination import decode_cursor, encode_cursor, page, page_limit
from athena_pool.api.params import account_text
from athena_pool.api.self_service import apply_change, effective_threshold
from athena_pool.api.v1_public import V1
from athena_pool.api.views import (
    MinerDetails,
    WorkerDetails,
    activity_json,
    chart_json,
    load_miner,
    mask_email,
    miner_payment_json,
)

MINER = f"{V1}/miners/{{address}}"
MAX_CREDITS = 1_000
MAX_SIGNATURE_FIELD = 300


def add_v1_miner_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(MINER, miner)
    router.add_get(f"{MINER}/workers", workers)
    router.add_get(f"{MINER}/chart", chart)
    router.add_get(f"{MINER}/payments", payments)
    router.add_get(f"{MINER}/credits", credits)
    router.add_get(f"{MINER}/settings", settings)
    router.add_post(f"{MINER}/settings/challenge", settings_challenge)
    router.add_post(f"{MINER}/settings", settings_change)


def _account(request: web.Request) -> str:
    return account_text(request.match_info["address"])


def _limit(ctx: ApiContext, request: web.Request) -> int:
    return page_limit(request, ctx.settings.page_size_default, ctx.settings.page_size_max)


async def _details(ctx: ApiContext, account: str) -> MinerDetails:
    details = await load_miner(ctx, ctx.stats.current(), account)
    if details is None:
        raise not_found("this address has never mined on this pool")
    return details


def worker_json(worker: WorkerDetails) -> dict[str, Any]:
    return {
        "name": worker.name,
        "hashrate": worker.hashrate,
        "hashrate_1h": worker.hashrate_1h,
        "hashrate_6h": worker.hashrate_6h,
        "hashrate_24h": worker.hashrate_24h,
        **activity_json(worker.activity),
    }


async def miner(request: web.Request) -> web.Response:
    ctx = context(request)
    account = _account(request)
    d = await _details(ctx, account)
    online = sum(1 for w in d.workers if w.hashrate > 0)
    return json_response(
        {
            "address": account,
            "hashrate": {
                "current": d.hashrate,
                "1h": d.hashrate_1h,
                "6h": d.hashrate_6h,
                "24h": d.hashrate_24h,
            },
            "activity": activity_json(d.activity),
            "money": {
                "balance": d.money.balance,
                "pending": d.money.pending,
                "paid": d.money.paid,
                "fees_charged": d.money.fees_charged,
                "payout_threshold": effective_threshold(ctx, d.money.threshold),
            },
            "round": {"prop": d.round_prop, "solo": d.round_solo},
            "workers": {"online": online, "total": len(d.workers)},
        }
    )


async def workers(request: web.Request) -> web.Response:
    """Workers, most recently seen first; cursor = (last_seen_ms, name) of the previous page's last one."""
    ctx = context(request)
    limit = _limit(ctx, request)
    cursor = decode_cursor(request.query.get("cursor"))
    d = await _details(ctx, _account(request))
    listed = list(d.workers)
    if cursor is not None:
        listed = [w for w in listed if (w.activity.last_seen_ms, w.name) < cursor]
    chosen = listed[:limit]
    last = chosen[-1] if len(listed) > limit else None
    next_cursor = encode_cursor(last.activity.last_seen_ms, last.name) if last else None
    return json_response(page([worker_json(w) for w in chosen], next_cursor))


async def chart(request: web.Request) -> web.Response:
    ctx = context(request)
    account = _account(request)
    d = await _details(ctx, account)
    entries = await ctx.api_store.miner_payments_page(account, None, ctx.settings.page_size_max)
    paid = [[e.score, miner_payment_json(e)["amount"]] for e in reversed(entries)]
    return json_response(
        {"step_s": ctx.settings.charts.step_s, "hashrate": chart_json(d.chart), "payments": paid}
    )


async def payments(request: web.Request) -> web.Response:
    ctx = context(request)
    account = _account(request)
    limit = _limit(ctx, request)
    entries = await ctx.api_store.miner_payments_page(
        account, decode_cursor(request.query.get("cursor")), limit
    )
    last = entries[-1] if len(entries) == limit else None
    return json_response(
        page(
            [miner_payment_json(e) for e in entries], encode_cursor(last.score, last.member) if last else None
        )
    )


async def credits(request: web.Request) -> web.Response:
    """Blocks that credited this address, newest first (the unlocker keeps the newest 1000)."""
    ctx = context(request)
    account = _account(request)
    limit = _limit(ctx, request)
    cursor = decode_cursor(request.query.get("cursor"))
    start = 0 if cursor is None else min(max(0, cursor[0]), MAX_CREDITS)
    history = await ctx.api_store.miner_credits(account, min(start + limit + 1, MAX_CREDITS))
    chosen = history[start : start + limit]
    items = [
        {
            "height": int(c["height"]),
            "hash": str(c["hash"]),
            "amount": int(c["amount"]),
            "scheme": str(c["scheme"]),
            "time_ms": int(c["time_ms"]),
        }
        for c in chosen
    ]
    more = len(history) > start + limit
    return json_response(page(items, encode_cursor(start + limit, "") if more else None))


async def settings(request: web.Request) -> web.Response:
    ctx = context(request)
    account = _account(request)
    money = (await ctx.api_store.accounts_money([account]))[account]
    bounds = ctx.settings.payout
    return json_response(
        {
            "payout_threshold": effective_threshold(ctx, money.threshold),
            "payout_threshold_own": money.threshold,
            "payout_threshold_default": bounds.default_atomic,
            "payout_threshold_min": bounds.min_atomic,
            "payout_threshold_max": bounds.max_atomic,
            "email": mask_email(await ctx.api_store.get_email(account)),
        }
    )


def _change_from(body: dict[str, Any]) -> SettingsChange:
    unknown = set(body) - {"payout_threshold", "email"}
    if unknown:
        raise bad_request(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
    threshold = body.get("payout_threshold")
    if threshold is not None and (not isinstance(threshold, int) or isinstance(threshold, bool)):
        raise bad_request("payout_threshold: an integer number of atomic units")
    email = body.get("email")
    if email is not None and not isinstance(email, str):
        raise bad_request("email: a string (empty to remove it)")
    return SettingsChange(payout_threshold=threshold, email=None if email is None else check_email(email))


async def settings_challenge(request: web.Request) -> web.Response:
    ctx = context(request)
    account = _account(request)
    change = _change_from(await read_json(request))
    return json_response(await ctx.ownership.issue(account, change, client_ip(request)), status=201)


async def settings_change(request: web.Request) -> web.Response:
    ctx = context(request)
    account = _account(request)
    body = await read_json(request)
    challenge, signature = body.get("challenge"), body.get("signature")
    if (
        not isinstance(challenge, str)
        or not isinstance(signature, str)
        or len(signature) > MAX_SIGNATURE_FIELD
    ):
        raise bad_request("give the challenge id and the signature of its message, as strings")
    change = await ctx.ownership.redeem(account, challenge, signature, client_ip(request))
    await apply_change(ctx, account, change)
    applied = {"payout_threshold": change.payout_threshold, "email": mask_email(change.email)}
    return json_response({"applied": applied})
