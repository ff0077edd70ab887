"""`/api/v1`: the pool, the network, the configuration, ports, charts, blocks (with their payout proof),
payments, the miners list and bans. Lists are pages: `limit` and an opaque `cursor`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from athena_pool import __version__
from athena_pool.api.context import ApiContext, context
from athena_pool.api.errors import bad_request, not_found, unavailable
from athena_pool.api.jsonio import json_response
from athena_pool.api.pagination import decode_cursor, encode_cursor, page, page_limit
from athena_pool.api.params import hash_hex, parse_int
from athena_pool.api.payout_proof import Credit, Payment, allocate
from athena_pool.api.snapshot import PoolSnapshot, payment_data
from athena_pool.api.views import block_json, chart_json, pool_payment_json, truncate_address
from athena_pool.storage import RewardType, ShareKind
from athena_pool.storage.api_store import ChartSeries
from athena_pool.storage.keys import block_member

V1 = "/api/v1"
CREDIT_HISTORY_READ = 1_000
OWNERSHIP_PROOF = (
    "A settings change is signed with a key of the address: Monero wallets sign it (SigV2); Athena and "
    "TurtleCoin miners use the offline signer `python -m athena_pool.api.ownership.sign`."
)


def add_v1_public_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(f"{V1}/pool", pool)
    router.add_get(f"{V1}/network", network)
    router.add_get(f"{V1}/config", config)
    router.add_get(f"{V1}/ports", ports)
    router.add_get(f"{V1}/charts/pool", pool_charts)
    router.add_get(f"{V1}/blocks", blocks)
    router.add_get(f"{V1}/blocks/{{height}}/{{hash}}", block)
    router.add_get(f"{V1}/blocks/{{height}}/{{hash}}/credits", block_credits)
    router.add_get(f"{V1}/payments", payments)
    router.add_get(f"{V1}/miners", miners)


def _limit(ctx: ApiContext, request: web.Request) -> int:
    return page_limit(request, ctx.settings.page_size_default, ctx.settings.page_size_max)


async def pool(request: web.Request) -> web.Response:
    ctx = context(request)
    s = ctx.stats.current()
    prop, solo = s.block_totals(RewardType.PROP), s.block_totals(RewardType.SOLO)
    difficulty = s.network.difficulty if s.network else 0
    shares = prop.shares + solo.shares
    return json_response(
        {
            "updated_ms": s.taken_ms,
            "hashrate": {
                "prop": s.hashrate_prop,
                "solo": s.hashrate_solo,
                "total": s.hashrate_prop + s.hashrate_solo,
            },
            "miners": {
                "prop": s.miners_of(RewardType.PROP),
                "solo": s.miners_of(RewardType.SOLO),
                "total": len(s.miners),
            },
            "workers": {"prop": s.workers_of(RewardType.PROP), "solo": s.workers_of(RewardType.SOLO)},
            "connections": s.live.connections,
            "round": {
                "hashes": s.round_hashes,
                "effort": s.round_hashes / difficulty if difficulty else None,
            },
            "blocks": {
                "found_prop": s.pool.blocks_found[RewardType.PROP],
                "found_solo": s.pool.blocks_found[RewardType.SOLO],
                "candidates": s.candidates,
                "matured": s.matured,
                "last_found_ms": {
                    "prop": s.pool.last_block_ms[RewardType.PROP] or None,
                    "solo": s.pool.last_block_ms[RewardType.SOLO] or None,
                },
            },
            "luck": {
                "blocks": prop.blocks + solo.blocks,
                "effort": shares / (prop.difficulty + solo.difficulty)
                if prop.difficulty + solo.difficulty
                else None,
            },
            "shares": {kind.value: s.pool.counts[kind] for kind in ShareKind},
            "payments": {
                "total": s.payments_count,
                "accounts_paid": s.accounts_paid,
                "paid_total": s.payout_totals.paid,
            },
        }
    )


async def network(request: web.Request) -> web.Response:
    ctx = context(request)
    s = ctx.stats.current()
    if s.network is None:
        raise unavailable("the network is not known yet: no block template so far")
    n = s.network
    return json_response(
        {
            "height": n.height,
            "difficulty": n.difficulty,
            "hashrate": n.difficulty / ctx.coin.target_block_seconds,
            "last_block_hash": n.last_block_hash,
            "last_block_time_s": n.last_block_time_s,
            "updated_ms": n.updated_ms,
        }
    )


def config_json(ctx: ApiContext) -> dict[str, Any]:
    coin, facts, payout = ctx.coin, ctx.settings.pool, ctx.settings.payout
    return {
        "coin": coin.name,
        "symbol": coin.symbol,
        "decimal_places": coin.decimal_places,
        "atomic_units_per_coin": coin.atomic_units_per_coin,
        "algorithm": coin.pow_algorithm,
        "block_target_s": coin.target_block_seconds,
        "unlock_depth": ctx.unlock_depth(),
        "pool_host": facts.pool_host,
        "hashrate_window_s": ctx.settings.hashrate_window_s,
        "fees": {
            "pool_percent": facts.fee_percent,
            "solo_percent": facts.solo_fee_percent,
            "finder_reward_percent": facts.finder_reward_percent,
            "donation_percent": facts.donation_percent,
        },
        "payments": {
            "scheme": facts.payment_scheme,
            "interval_s": facts.payments_interval_s,
            "min_threshold": payout.min_atomic,
            "max_threshold": payout.max_atomic,
            "default_threshold": payout.default_atomic,
            "transfer_fee": facts.transfer_fee_atomic,
            "denomination": facts.denomination_atomic,
        },
        "ports": [_port_json(ctx, p.port) for p in ctx.ports if not p.hidden],
        "login": {
            "payment_id_separator": ".",
            "payment_ids_allowed": coin.supports_payment_ids,
            "fixed_difficulty_separator": "+",
            "solo_prefix": "solo:",
        },
        "explorers": {"block": facts.blockchain_explorer, "transaction": facts.transaction_explorer},
        "links": [{"name": name, "url": url} for name, url in facts.links],
        "ownership_proof": OWNERSHIP_PROOF,
        "version": __version__,
    }


def _port_json(ctx: ApiContext, number: int, connections: dict[int, int] | None = None) -> dict[str, Any]:
    port = next(p for p in ctx.ports if p.port == number)
    data: dict[str, Any] = {
        "port": port.port,
        "difficulty": port.difficulty,
        "description": port.description,
        "fixed_difficulty": port.fixed_difficulty,
        "tls": port.tls,
    }
    if connections is not None:
        data["connections"] = connections.get(port.port, 0)
    return data


async def config(request: web.Request) -> web.Response:
    return json_response(config_json(context(request)))


async def ports(request: web.Request) -> web.Response:
    ctx = context(request)
    live = ctx.stats.current().live.connections_by_port
    return json_response({"items": [_port_json(ctx, p.port, live) for p in ctx.ports if not p.hidden]})


async def pool_charts(request: web.Request) -> web.Response:
    ctx = context(request)
    s = ctx.stats.current()
    return json_response(
        {
            "step_s": ctx.settings.charts.step_s,
            "series": {series.value: chart_json(s.charts.get(series, ())) for series in ChartSeries},
        }
    )


async def blocks(request: web.Request) -> web.Response:
    ctx = context(request)
    limit = _limit(ctx, request)
    cursor = decode_cursor(request.query.get("cursor"))
    status = request.query.get("status")
    if status not in (None, "candidate", "matured"):
        raise bad_request("status: candidate or matured")
    records = await ctx.api_store.blocks_page(
        cursor, limit, candidates=status != "matured", matured=status != "candidate"
    )
    snapshot = ctx.stats.current()
    items = [block_json(r, snapshot, ctx.unlock_depth()) for r in records]
    last = records[-1].candidate if len(records) == limit else None
    next_cursor = encode_cursor(last.height, block_member(last.height, last.hash_hex)) if last else None
    return json_response(page(items, next_cursor))


def _block_id(request: web.Request) -> tuple[int, str]:
    height = parse_int(request.match_info["height"], "height", 0, 2**53)
    return height, hash_hex(request.match_info["hash"])


async def block(request: web.Request) -> web.Response:
    ctx = context(request)
    height, hash_text = _block_id(request)
    record = await ctx.store.get_block(height, hash_text)
    if record is None:
        raise not_found("no such block found by this pool")
    credits = await ctx.api_store.block_credits_page(height, hash_text)
    data = block_json(record, ctx.stats.current(), ctx.unlock_depth())
    data["credits_total"] = sum(credits.values())
    data["credited_accounts"] = len(credits)
    return json_response(data)


async def block_credits(request: web.Request) -> web.Response:
    """The payout proof: who was credited how much by this block, and which payments paid it."""
    ctx = context(request)
    height, hash_text = _block_id(request)
    if await ctx.store.get_block(height, hash_text) is None:
        raise not_found("no such block found by this pool")
    limit = _limit(ctx, request)
    cursor = decode_cursor(request.query.get("cursor"))
    credits = sorted(
        (await ctx.api_store.block_credits_page(height, hash_text)).items(),
        key=lambda item: (-item[1], item[0]),
    )
    if cursor is not None:
        credits = [c for c in credits if (-c[1], c[0]) > (-cursor[0], cursor[1])]
    chosen = credits[:limit]
    items = [await _credit_proof(ctx, (height, hash_text), account, amount) for account, amount in chosen]
    last = chosen[-1] if len(chosen) == limit and len(credits) > limit else None
    return json_response(page(items, encode_cursor(last[1], last[0]) if last else None))


async def _credit_proof(
    ctx: ApiContext, block_id: tuple[int, str], account: str, amount: int
) -> dict[str, Any]:
    history = await ctx.api_store.miner_credits(account, CREDIT_HISTORY_READ)
    credits = [Credit((int(c["height"]), str(c["hash"])), int(c["amount"])) for c in history]
    position = next((i for i, c in enumerate(credits) if c.block == block_id), None)
    result: dict[str, Any] = {"address": account, "amount": amount, "unpaid": 0, "paid": [], "unknown": 0}
    if position is None:
        result["unknown"] = amount
        return result
    entries = await ctx.api_store.miner_payments_page(account, None, CREDIT_HISTORY_READ)
    payments = []
    for entry in entries:
        data = payment_data(entry)
        gross = int(data.get("amount", 0)) + int(data.get("charge", 0))
        payments.append(Payment(str(data.get("tx", "")), gross, entry.score))
    money = (await ctx.api_store.accounts_money([account]))[account]
    allocation = allocate(credits[: position + 1], payments, money.balance + money.pending)[position]
    result["unpaid"] = allocation.unpaid
    result["unknown"] = allocation.unknown
    result["paid"] = [
        {"tx_hash": p.tx_hash, "amount": part, "time_ms": p.time_ms} for p, part in allocation.paid
    ]
    return result


async def payments(request: web.Request) -> web.Response:
    ctx = context(request)
    limit = _limit(ctx, request)
    entries = await ctx.api_store.pool_payments_page(decode_cursor(request.query.get("cursor")), limit)
    last = entries[-1] if len(entries) == limit else None
    return json_response(
        page(
            [pool_payment_json(e) for e in entries], encode_cursor(last.score, last.member) if last else None
        )
    )


def _ranked(snapshot: PoolSnapshot) -> list[tuple[str, float, int]]:
    return sorted(
        ((a, m.hashrate, len(m.worker_hashrates())) for a, m in snapshot.miners.items()),
        key=lambda row: (-row[1], row[0]),
    )


async def miners(request: web.Request) -> web.Response:
    """Active miners by hashrate (addresses truncated, as on the reference pool's top-10 page)."""
    ctx = context(request)
    limit = _limit(ctx, request)
    cursor = decode_cursor(request.query.get("cursor"))
    start = 0 if cursor is None else max(0, cursor[0])
    ranked = _ranked(ctx.stats.current())[start : start + limit]
    items = [
        {"rank": start + i + 1, "miner": truncate_address(a), "hashrate": rate, "workers": workers}
        for i, (a, rate, workers) in enumerate(ranked)
    ]
    more = len(ranked) == limit and start + limit < len(ctx.stats.current().miners)
    return json_response(page(items, encode_cursor(start + limit, "") if more else None))
