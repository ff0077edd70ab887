"""The reference pool's endpoints, same paths, parameters and JSON shapes (see `compat_payloads`).

Differences, all on purpose:
* `/live_stats` and `/stats_address?longpoll=true` are bounded (`WaiterGate`) and time out.
* `/set_miner_payout_level` and `/set_email_notifications` need a signature instead of "an IP seen for
  the address": without `signature` they answer with the message to sign (`status`, `challenge`,
  `message`); with `signature` and `challenge` they apply the change. Malformed parameters get a 400;
  a well-formed request that is refused gets, as in the reference, a 200 with the reason in `status`
  (which is what its settings page shows).
* Admin endpoints take `Authorization: Bearer <secret>` or the admin session cookie, never `?password=`.
* E-mail addresses are only ever shown masked.
* athena-pool has no Telegram bot and sends no e-mail: the Telegram endpoints and the admin's test
  notifications answer 501 with that reason, never a pretended success.
* `/admin_log?file=` answers JSON (`{"file", "lines"}`), not raw text: every answer of the API is JSON.
  The "files" are the recent log lines of each pool process (`/admin_monitoring` lists them).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from athena_pool.api import compat_payloads as payloads
from athena_pool.api.context import ApiContext, client_ip, context
from athena_pool.api.errors import ApiError, bad_request, not_found
from athena_pool.api.jsonio import dumps, json_response
from athena_pool.api.logview import file_lines, log_files, recent_lines
from athena_pool.api.ownership.service import SettingsChange, check_email
from athena_pool.api.params import account_text, parse_int
from athena_pool.api.self_service import apply_change, coins_to_atomic, effective_threshold
from athena_pool.api.snapshot import PoolSnapshot, payment_data
from athena_pool.api.views import load_miner, mask_email, truncate_address
from athena_pool.storage import RewardType

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NO_TELEGRAM = "telegram notifications are not supported by this pool: it has no Telegram bot"
NO_EMAIL = "e-mail notifications are not supported by this pool: it sends no e-mail"
NOT_FOUND = "Not found"  # the reference's answer for an unknown address: {"error": "Not found"}
_CHALLENGE = re.compile(r"[0-9a-f]{32}")
MAX_ADMIN_USERS = 1_000
MAX_LOG_NAME = 80


def add_compat_routes(app: web.Application) -> None:
    public: dict[str, Handler] = {
        "/stats": stats,
        "/live_stats": live_stats,
        "/stats_address": stats_address,
        "/get_payments": get_payments,
        "/get_blocks": get_blocks,
        "/get_top10miners": top10_miners,
        "/get_miner_payout_level": get_payout_level,
        "/get_email_notifications": get_email,
        "/block_explorers": block_explorers,
        "/get_apis": get_apis,
        "/get_market": get_market,
        "/set_miner_payout_level": set_payout_level,
        "/set_email_notifications": set_email,
        "/get_telegram_notifications": telegram_notifications,
        "/set_telegram_notifications": telegram_notifications,
    }
    for path, handler in public.items():
        app.router.add_get(path, handler)
    admin: dict[str, Handler] = {
        "/admin_stats": admin_stats,
        "/admin_users": admin_users,
        "/admin_ports": admin_ports,
        "/admin_monitoring": admin_monitoring,
        "/admin_log": admin_log,
        "/test_email_notification": send_test_email,
        "/test_telegram_notification": send_test_telegram,
        "/miners_hashrate": miners_hashrate,
        "/workers_hashrate": workers_hashrate,
    }
    for path, handler in admin.items():
        app.router.add_get(path, handler)


# Pool statistics


async def _stats_body(ctx: ApiContext, snapshot: PoolSnapshot, address: str | None) -> dict[str, Any]:
    payments = ctx.stats.memo("compat-pool-payments", lambda: _pool_payments(snapshot))
    body = dict(ctx.stats.memo("compat-stats", lambda: payloads.stats_payload(ctx, snapshot, payments)))
    round_hashes = 0
    if address and snapshot.miners.get(address) is not None:
        round_hashes = await ctx.api_store.round_share(address)
    body["miner"] = payloads.miner_brief(snapshot, address, round_hashes)
    return body


def _pool_payments(snapshot: PoolSnapshot) -> list[tuple[str, int]]:
    return [payloads.pool_payment_member(e, payment_data(e)) for e in snapshot.payments_recent]


def _optional_address(request: web.Request) -> str | None:
    address = request.query.get("address")
    try:
        return account_text(address) if address else None
    except ApiError:
        return None


async def stats(request: web.Request) -> web.Response:
    ctx = context(request)
    return json_response(await _stats_body(ctx, ctx.stats.current(), _optional_address(request)))


async def live_stats(request: web.Request) -> web.Response:
    ctx = context(request)
    async with ctx.gate.slot(client_ip(request)):
        await ctx.stats.wait_next(ctx.settings.long_poll.timeout_s)
    return json_response(await _stats_body(ctx, ctx.stats.current(), _optional_address(request)))


# One address


async def stats_address(request: web.Request) -> web.Response:
    ctx = context(request)
    account = account_text(request.query.get("address"))
    if request.query.get("longpoll") == "true":
        if await ctx.store.miner_stats(account) is None:
            return json_response({"error": NOT_FOUND})
        async with ctx.gate.slot(client_ip(request)):
            await ctx.stats.wait_next(ctx.settings.long_poll.timeout_s)
    details = await load_miner(ctx, ctx.stats.current(), account)
    if details is None:
        return json_response({"error": NOT_FOUND})
    entries = await ctx.api_store.miner_payments_page(account, None, ctx.settings.compat_list_size)
    payments = [payloads.miner_payment_member(e, payment_data(e)) for e in entries]
    return json_response(payloads.address_payload(ctx, details, payments))


async def get_payments(request: web.Request) -> web.Response:
    ctx = context(request)
    time_s = parse_int(request.query.get("time", ""), "time", 0, 10**11)
    cursor = (time_s * 1000, "")
    if "address" in request.query:
        account = account_text(request.query["address"])
        entries = await ctx.api_store.miner_payments_page(account, cursor, ctx.settings.compat_list_size)
        return json_response(
            payloads.flat(payloads.miner_payment_member(e, payment_data(e)) for e in entries)
        )
    entries = await ctx.api_store.pool_payments_page(cursor, ctx.settings.compat_list_size)
    return json_response(payloads.flat(payloads.pool_payment_member(e, payment_data(e)) for e in entries))


async def get_blocks(request: web.Request) -> web.Response:
    ctx = context(request)
    height = parse_int(request.query.get("height", ""), "height", 0, 2**53)
    records = await ctx.api_store.blocks_page((height, ""), ctx.settings.compat_list_size, candidates=False)
    return json_response(payloads.blocks_flat(records))


async def top10_miners(request: web.Request) -> web.Response:
    ctx = context(request)
    snapshot = ctx.stats.current()
    top = sorted(snapshot.miners.values(), key=lambda m: (m.hashrate, m.address), reverse=True)[:10]
    activities = await ctx.api_store.activities([m.address for m in top])
    rows = []
    for miner in top:
        activity = activities[miner.address]
        rows.append(
            {
                "miner": truncate_address(miner.address),
                "hashrate": round(miner.hashrate),
                "lastShare": str((activity.last_share_ms if activity else 0) // 1000),
                "hashes": str(activity.hashes if activity else 0),
            }
        )
    return json_response(rows)


# Miner settings


async def get_payout_level(request: web.Request) -> web.Response:
    ctx = context(request)
    account = account_text(request.query.get("address"))
    money = (await ctx.api_store.accounts_money([account]))[account]
    level = effective_threshold(ctx, money.threshold) / ctx.coin.atomic_units_per_coin
    return json_response({"status": "done", "level": level})


async def get_email(request: web.Request) -> web.Response:
    ctx = context(request)
    email = await ctx.api_store.get_email(account_text(request.query.get("address")))
    return json_response({"status": "done", "email": mask_email(email)})


def _well_formed(params: dict[str, str], required: tuple[str, ...], limits: dict[str, int]) -> str:
    """Malformed parameters are a 400; what is well formed but refused gets the reference's 200 status."""
    for name in required:
        if not params.get(name):
            raise bad_request(f"{name}: required")
    for name, limit in limits.items():
        if len(params.get(name, "")) > limit:
            raise bad_request(f"{name}: at most {limit} characters")
    challenge = params.get("challenge")
    if challenge is not None and not _CHALLENGE.fullmatch(challenge):
        raise bad_request("challenge: the id the first call returned (32 hex characters)")
    return account_text(params.get("address"))


async def _settings_change(
    request: web.Request, account: str, change_of: Callable[[ApiContext, dict[str, str]], SettingsChange]
) -> web.Response:
    ctx = context(request)
    params = dict(request.query)
    try:
        change = change_of(ctx, params)
        ip = client_ip(request)
        signature, challenge = params.get("signature"), params.get("challenge")
        if not signature or not challenge:
            issued = await ctx.ownership.issue(account, change, ip)
            status = (
                "Prove that you own this address: sign this exact message with your wallet "
                f"(Monero: sign; Athena/TurtleCoin: the pool's offline signer) and send it back as "
                f"'signature' with 'challenge': {issued['message']}"
            )
            return json_response({"status": status, **issued})
        signed = await ctx.ownership.redeem(account, challenge, signature, ip)
        await apply_change(ctx, account, signed)
    except ApiError as exc:
        if exc.status == 429:
            raise
        return json_response({"status": exc.message})
    return json_response({"status": "done"})


def _payout_change(ctx: ApiContext, params: dict[str, str]) -> SettingsChange:
    return SettingsChange(payout_threshold=coins_to_atomic(ctx, params["level"]))


def _email_change(ctx: ApiContext, params: dict[str, str]) -> SettingsChange:
    if params["action"] == "disable":
        return SettingsChange(email="")
    email = check_email(params.get("email", ""))
    if not email:
        raise bad_request("No email address specified")
    return SettingsChange(email=email)


async def set_payout_level(request: web.Request) -> web.Response:
    params = dict(request.query)
    account = _well_formed(params, ("address", "level"), {"level": 40, "signature": 200})
    return await _settings_change(request, account, _payout_change)


async def set_email(request: web.Request) -> web.Response:
    params = dict(request.query)
    account = _well_formed(params, ("address", "action"), {"email": 254, "signature": 200})
    if params["action"] not in ("enable", "disable"):
        raise bad_request("action: enable or disable")
    return await _settings_change(request, account, _email_change)


async def telegram_notifications(request: web.Request) -> web.Response:
    raise ApiError(501, NO_TELEGRAM)


# Small static answers


async def block_explorers(request: web.Request) -> web.Response:
    ctx = context(request)
    facts = ctx.settings.pool
    explorers = {
        "blockchainExplorer": facts.blockchain_explorer,
        "transactionExplorer": facts.transaction_explorer,
    }
    return json_response({ctx.coin.name: explorers})


async def get_apis(request: web.Request) -> web.Response:
    return json_response({})


async def get_market(request: web.Request) -> web.Response:
    return json_response([])


# Admin (authenticated)


async def _admin(request: web.Request) -> ApiContext:
    ctx = context(request)
    await ctx.auth.require(request, client_ip(request))
    return ctx


async def admin_stats(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    snapshot = ctx.stats.current()
    balances, pending = await ctx.payments.balances(), await ctx.payments.pending()
    prop, solo = snapshot.block_totals(RewardType.PROP), snapshot.block_totals(RewardType.SOLO)
    unlocked_solo = [
        b
        for b in snapshot.recent_blocks
        if b.status == "unlocked" and b.candidate.reward_type is RewardType.SOLO
    ]
    return json_response(
        {
            "totalOwed": sum(balances.values()) + sum(pending.values()),
            "totalPaid": snapshot.payout_totals.paid,
            "totalRevenue": snapshot.ledger.rewards_total,
            "totalRevenueSolo": sum(int(b.fields.get("reward", 0)) for b in unlocked_solo),
            "totalDiff": prop.difficulty,
            "totalDiffSolo": solo.difficulty,
            "totalShares": prop.shares,
            "totalSharesSolo": solo.shares,
            "blocksOrphaned": snapshot.ledger.blocks_orphaned,
            "blocksUnlocked": snapshot.ledger.blocks_unlocked,
            "blocksUnlockedSolo": len(unlocked_solo),
            "totalWorkers": snapshot.miners_known,
        }
    )


async def admin_users(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    snapshot = ctx.stats.current()
    entries = await ctx.api_store.miners_page(None, MAX_ADMIN_USERS)
    accounts = [e.member for e in entries]
    money = await ctx.api_store.accounts_money(accounts)
    round_prop = await ctx.store.round_shares(RewardType.PROP)
    activities = await ctx.api_store.activities(accounts)
    users = {}
    for account in accounts:
        activity = activities[account]
        live = snapshot.miners.get(account)
        users[account] = {
            "pending": str(money[account].balance),
            "paid": str(money[account].paid),
            "lastShare": str((activity.last_share_ms if activity else 0) // 1000),
            "hashes": str(activity.hashes if activity else 0),
            "childWallet": None,
            "hashrate": round(live.hashrate) if live else 0,
            "roundScore": round_prop.get(account, 0),
            "roundHashes": round_prop.get(account, 0),
        }
    return json_response(users)


async def admin_ports(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    live = ctx.stats.current().live.connections_by_port
    return json_response(
        {
            f"{ctx.coin.name}:ports:{p.port}": {"port": str(p.port), "users": str(live.get(p.port, 0))}
            for p in ctx.ports
        }
    )


async def admin_monitoring(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    monitoring = {}
    for name, status in ctx.stats.current().status.items():
        monitoring[name] = {
            "lastCheck": str(int(status.get("checked_ms") or 0) // 1000),
            "lastStatus": "ok" if status.get("ok") else "fail",
            "lastResponse": payloads_text(status.get("info") if status.get("ok") else status.get("error")),
            "lastFail": str(int(status.get("last_fail_ms") or 0) // 1000),
            "lastFailResponse": payloads_text(status.get("error")),
        }
    return json_response({"monitoring": monitoring, "logs": log_files(await recent_lines(ctx))})


async def admin_log(request: web.Request) -> web.Response:
    """One of the log "files" `/admin_monitoring` lists: its recent lines, oldest first."""
    ctx = await _admin(request)
    name = request.query.get("file", "")
    if not name or len(name) > MAX_LOG_NAME:
        raise bad_request("file: required, one of the names /admin_monitoring lists in logs")
    lines = file_lines(await recent_lines(ctx), name)
    if not lines:
        raise not_found("no such log file: /admin_monitoring lists them in logs")
    return json_response({"file": name, "lines": lines})


async def send_test_email(request: web.Request) -> web.Response:
    await _admin(request)
    raise ApiError(501, NO_EMAIL)


async def send_test_telegram(request: web.Request) -> web.Response:
    await _admin(request)
    raise ApiError(501, NO_TELEGRAM)


def payloads_text(value: object) -> str:
    return value if isinstance(value, str) else dumps(value)


async def miners_hashrate(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    miners = ctx.stats.current().miners
    return json_response({"minersHashrate": {a: round(m.hashrate) for a, m in miners.items()}})


async def workers_hashrate(request: web.Request) -> web.Response:
    ctx = await _admin(request)
    rates = {
        f"{address}~{worker}": round(rate)
        for address, miner in ctx.stats.current().miners.items()
        for worker, rate in miner.worker_hashrates().items()
    }
    return json_response({"workersHashrate": rates})
