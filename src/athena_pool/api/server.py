"""`run_api`: the HTTP API as an async context manager, for the composition root and for tests;
`serve_api` is the same, yielding only the base URL.

    async with serve_api(settings, redis=redis, coin=coin, key_prefix=prefix, ports=config.stratum.ports,
                         probes={"daemon": daemon_probe(daemon)}, log_ring=ring) as url:
        ...

It builds every part from what it is given (no globals), keeps the statistics fresh, optionally probes
the daemon and wallet and collects the charts, and serves until the block exits.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import ParamSpec

import redis.asyncio as aioredis
from aiohttp import web

from athena_pool.api.auth import AdminAuth
from athena_pool.api.bans import add_ban_routes
from athena_pool.api.charts import ChartsCollector
from athena_pool.api.clientip import TrustedProxies
from athena_pool.api.compat_routes import add_compat_routes
from athena_pool.api.context import CONTEXT, ApiContext, PortLike, RequestCounters, public_ports
from athena_pool.api.health import Probe, ServiceMonitor
from athena_pool.api.logring import RingLogHandler
from athena_pool.api.longpoll import WaiterGate
from athena_pool.api.middleware import middlewares
from athena_pool.api.openapi import OPENAPI_KEY, build_openapi
from athena_pool.api.ops_routes import add_ops_routes
from athena_pool.api.ownership.service import OwnershipService
from athena_pool.api.settings import AdminSecret, ApiSettings, load_admin_secret
from athena_pool.api.snapshot import SnapshotBuilder
from athena_pool.api.stats_cache import StatsCache
from athena_pool.api.v1_admin import add_v1_admin_routes
from athena_pool.api.v1_miners import add_v1_miner_routes
from athena_pool.api.v1_public import add_v1_public_routes
from athena_pool.coins.profiles import Coin
from athena_pool.rpc.wallet import WalletClient
from athena_pool.storage import Store, StoreLimits
from athena_pool.storage.api_store import ApiStore
from athena_pool.storage.bans_store import BanStore
from athena_pool.storage.keys import KeySpace
from athena_pool.storage.ledger import Ledger
from athena_pool.storage.payment_store import PaymentStore

log = logging.getLogger("athena_pool.api")

AppHook = Callable[[web.Application], None]
ApiUrlContext = AbstractAsyncContextManager[str]
P = ParamSpec("P")


@dataclass(frozen=True)
class ApiParts:
    """The running API's parts, for tests and the composition root."""

    context: ApiContext
    app: web.Application
    url: str


def build_context(
    settings: ApiSettings,
    *,
    redis: aioredis.Redis,
    coin: Coin,
    key_prefix: str,
    ports: Iterable[PortLike],
    tls_ports: Iterable[int] = (),
    limits: StoreLimits | None = None,
    admin_secret: AdminSecret | None,
    log_ring: RingLogHandler | None = None,
    wallet: WalletClient | None = None,
    clock: Callable[[], float] = time.time,
) -> ApiContext:
    limits = limits or StoreLimits()
    store = Store(redis, key_prefix, limits)
    api_store = ApiStore(redis, key_prefix)
    ledger = Ledger(redis, KeySpace(key_prefix))
    payments = PaymentStore(redis, key_prefix)
    bans = BanStore(redis, key_prefix)
    builder = SnapshotBuilder(store, api_store, ledger, payments, bans, settings, clock)
    return ApiContext(
        settings=settings,
        coin=coin,
        store=store,
        api_store=api_store,
        ledger=ledger,
        payments=payments,
        bans=bans,
        limits=limits,
        stats=StatsCache(builder.build, settings.update_interval_s, clock),
        gate=WaiterGate(settings.long_poll.max_waiters, settings.long_poll.max_waiters_per_ip),
        proxies=TrustedProxies(settings.trusted_proxies),
        auth=AdminAuth(admin_secret, api_store, settings.admin, clock),
        ownership=OwnershipService(api_store, coin, settings, clock),
        ports=public_ports(ports, tls_ports=tls_ports),
        log_ring=log_ring,
        counters=RequestCounters(),
        wallet=wallet,
        clock=clock,
    )


def build_app(ctx: ApiContext, configure_app: AppHook | None = None) -> web.Application:
    app = web.Application(
        middlewares=middlewares(ctx.settings.cors_origins, ctx.counters),
        client_max_size=ctx.settings.max_body_bytes,
    )
    app[CONTEXT] = ctx
    app[OPENAPI_KEY] = build_openapi(ctx.settings)
    add_ops_routes(app)
    add_compat_routes(app)
    add_v1_public_routes(app)
    add_v1_miner_routes(app)
    add_v1_admin_routes(app)
    add_ban_routes(app)
    if configure_app is not None:
        configure_app(app)
    return app


@contextlib.asynccontextmanager
async def run_api(
    settings: ApiSettings,
    *,
    redis: aioredis.Redis,
    coin: Coin,
    key_prefix: str | None = None,
    ports: Iterable[PortLike] = (),
    tls_ports: Iterable[int] = (),
    limits: StoreLimits | None = None,
    probes: Mapping[str, Probe] | None = None,
    log_ring: RingLogHandler | None = None,
    admin_secret: AdminSecret | None = None,
    wallet: WalletClient | None = None,
    configure_app: AppHook | None = None,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[ApiParts]:
    """Serves the API until the block exits; yields its parts (`ApiParts`: context, app, base URL).

    `key_prefix` defaults to the coin's name (as the pool's Redis keys). `admin_secret` defaults to
    what `settings.admin` points at (environment variable or file); without one the admin API answers
    503. `probes` (e.g. `{"daemon": daemon_probe(d), "wallet": wallet_probe(w)}`) are checked every
    `health_interval_s` by this process. `wallet` lets the admin resolve payment batches held for manual
    review (checked against the wallet). `configure_app` may add routes (the web front-end's files)."""
    limits = limits or StoreLimits()
    if settings.hashrate_window_s > limits.hashrate_window_s:
        raise ValueError(
            f"api.hashrate_window_s ({settings.hashrate_window_s}) is longer than the hashrate samples "
            f"storage keeps ({limits.hashrate_window_s} s)"
        )
    secret = admin_secret if admin_secret is not None else load_admin_secret(settings.admin)
    if secret is None:
        log.warning("no admin secret configured (%s): the admin API is disabled", settings.admin.secret_env)
    ctx = build_context(
        settings,
        redis=redis,
        coin=coin,
        key_prefix=key_prefix or coin.name,
        ports=ports,
        tls_ports=tls_ports,
        limits=limits,
        admin_secret=secret,
        log_ring=log_ring,
        wallet=wallet,
        clock=clock,
    )
    app = build_app(ctx, configure_app)
    async with contextlib.AsyncExitStack() as stack:
        await ctx.stats.start()
        stack.push_async_callback(ctx.stats.close)
        if probes:
            monitor = ServiceMonitor(
                ctx.api_store,
                probes,
                interval_s=settings.health_interval_s,
                timeout_s=settings.probe_timeout_s,
            )
            await stack.enter_async_context(monitor)
        if settings.charts.enabled:
            charts = ChartsCollector(
                ctx.api_store, ctx.stats, settings.charts, clock, block_window=settings.luck_window_blocks
            )
            await charts.start()
            stack.push_async_callback(charts.close)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
        await site.start()
        url = _url(site, settings.host)
        log.info("API listening on %s", url)
        yield ApiParts(ctx, app, url)


def _url_only(run: Callable[P, AbstractAsyncContextManager[ApiParts]]) -> Callable[P, ApiUrlContext]:
    """`run` with the same parameters, yielding only the base URL (what the composition root needs)."""

    @contextlib.asynccontextmanager
    async def serve(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[str]:
        async with run(*args, **kwargs) as parts:
            yield parts.url

    return serve


serve_api = _url_only(run_api)
serve_api.__doc__ = """`run_api` yielding only the API's base URL (`http://host:port`)."""


def _url(site: web.TCPSite, host: str) -> str:
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    port = next((s.getsockname()[1] for s in sockets if s.family in (socket.AF_INET, socket.AF_INET6)), 0)
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
