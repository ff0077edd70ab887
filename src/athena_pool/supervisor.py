"""The composition root: builds every part of the pool from the config, runs it, stops it in order.

Start order: Redis (a local one when none is configured), the devnet when enabled, the share recorder,
the job manager (which waits for a first template), the stratum listeners, the demo miner. Shutdown runs
the other way: no new miners, shares in flight judged and flushed to Redis, then the back ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Collection, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from athena_pool.aio import cancel_until_done
from athena_pool.api import (
    LiveSources,
    LiveStatsPublisher,
    RingLogHandler,
    daemon_probe,
    serve_api,
    wallet_probe,
)
from athena_pool.api.charts import ChartsCollector
from athena_pool.api.server import build_context
from athena_pool.api.settings import AdminSecret, ApiSettings, PayoutBounds
from athena_pool.coins import get_coin, get_family
from athena_pool.coins.addresses import AddressError, decode_address
from athena_pool.coins.profiles import Coin
from athena_pool.config import PoolConfig, secret_values
from athena_pool.devnet.keys import generate_address
from athena_pool.devnet.runner import DevnetOptions, RunningDevnet, start_devnet
from athena_pool.jobs.contracts import NoTemplateError
from athena_pool.jobs.judge import PoolShareJudge
from athena_pool.jobs.manager import JobConfig, JobManager, NetworkState, NetworkStateHook, new_instance_id
from athena_pool.jobs.tip_relay import TipRelay
from athena_pool.logs import SecretMasker
from athena_pool.miner.client import Miner, MinerOptions
from athena_pool.payments.processor import PaymentProcessor
from athena_pool.payments.settings import WalletSettings
from athena_pool.pow import PowVerifier, algorithm_info, create_algorithm
from athena_pool.rpc.daemon import DaemonClient, create_daemon_client
from athena_pool.rpc.jsonrpc import JsonRpcClient
from athena_pool.rpc.timings import RpcTimings
from athena_pool.storage import KeySpace, NetworkStats, ShareRecorder, Store
from athena_pool.storage.bans_store import BanStore
from athena_pool.storage.durability import check_appendonly
from athena_pool.storage.local_server import local_redis
from athena_pool.storage.payment_store import PaymentStore
from athena_pool.stratum.server import StratumServer
from athena_pool.sync_wait import wait_until_synced
from athena_pool.unlocker import BlockUnlocker, create_unlocker
from athena_pool.web import add_web_routes

log = logging.getLogger("athena_pool")

TEMPLATE_WAIT_LOG_S = 10.0


ROLES = ("pool", "api", "unlocker", "payments", "charts")
PAYMENTS_STOP_TIMEOUT_S = 30.0


@dataclass
class Backends:
    """What every role shares: the coin, Redis, the daemon."""

    coin: Coin
    redis_url: str
    redis: aioredis.Redis
    store: Store
    daemon_url: str
    daemon: DaemonClient
    pool_address: str
    wallet_url: str | None
    devnet: RunningDevnet | None
    rpc_timings: RpcTimings  # every daemon and wallet call of this process, for the metrics


@dataclass
class StratumRole:
    recorder: ShareRecorder
    jobs: JobManager
    judge: PoolShareJudge
    stratum: StratumServer
    miner: Miner | None
    verifier: PowVerifier
    started_s: float  # wall clock just before the stratum listeners opened: no share of this run is older


@dataclass
class RunningPool:
    """Handles on the running parts, for the console and for tests; a role not running is None."""

    config: PoolConfig
    backends: Backends
    stratum_role: StratumRole | None
    unlocker: BlockUnlocker | None
    payments: PaymentProcessor | None
    api_url: str | None
    failed: asyncio.Event  # set when a background task dies: the runner stops the pool

    @property
    def coin(self) -> Coin:
        return self.backends.coin

    @property
    def store(self) -> Store:
        return self.backends.store

    @property
    def daemon_url(self) -> str:
        return self.backends.daemon_url

    @property
    def pool_address(self) -> str:
        return self.backends.pool_address

    @property
    def stratum(self) -> StratumServer:
        return self._pool_role().stratum

    @property
    def jobs(self) -> JobManager:
        return self._pool_role().jobs

    @property
    def recorder(self) -> ShareRecorder:
        return self._pool_role().recorder

    @property
    def miner(self) -> Miner | None:
        return self._pool_role().miner

    @property
    def stratum_ports(self) -> list[int]:
        return [listening.port for listening in self.stratum.listening]

    def _pool_role(self) -> StratumRole:
        if self.stratum_role is None:
            raise RuntimeError("the pool role is not running in this process")
        return self.stratum_role


@contextlib.asynccontextmanager
async def run_pool(config: PoolConfig, roles: Collection[str] = ROLES) -> AsyncIterator[RunningPool]:
    """The roles asked for, running until the block exits; shutdown in reverse order of start."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(sorted(unknown))}; known: {', '.join(ROLES)}")
    failed = asyncio.Event()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        ring = _recent_log_lines(config, stack)
        backends = await _start_backends(config, stack)
        stratum_role = await _start_stratum_role(config, backends, stack, failed) if "pool" in roles else None
        # This process's log lines reach the admin one way: published to Redis with the stratum figures
        # (an API anywhere reads them there), or else read from the ring by this process's own API.
        published_ring, local_ring = (ring, None) if stratum_role is not None else (None, ring)
        # Every process publishes (its RPC timings at least): the API may run in another one.
        await stack.enter_async_context(
            _live_stats_publisher(config, backends, stratum_role, published_ring, tuple(sorted(roles)))
        )
        unlocker = None
        if "unlocker" in roles and config.unlocker.enabled:
            # A daemon still syncing would make the pool's blocks look orphaned.
            await _wait_for_daemon(config, backends)
            unlocker = create_unlocker(
                redis=backends.redis,
                store=backends.store,
                daemon=backends.daemon,
                coin=backends.coin,
                settings=config.unlocker,
            )
            _background(stack, "unlocker", unlocker.run(), failed)
        payments = None
        if "payments" in roles and config.payments.enabled:
            payments = await _start_payments(config, backends, stack, failed)
        api_url = None
        if "api" in roles:
            api_url = await _start_api(
                config,
                backends,
                stratum_role,
                local_ring,
                stack,
                charts="charts" in roles,
                payments="payments" in roles,
            )
            log.info("API and web page: %s/", api_url)
        elif "charts" in roles:
            await _start_charts(config, backends, stack)
        yield RunningPool(config, backends, stratum_role, unlocker, payments, api_url, failed)


async def _start_backends(config: PoolConfig, stack: contextlib.AsyncExitStack) -> Backends:
    coin = get_coin(config.coin)
    redis_url = config.redis.url
    if redis_url is None:
        redis_url = await stack.enter_async_context(
            local_redis(config.data_dir / "redis", config.redis.local_port)
        )
    daemon_url, pool_address, wallet_url = config.daemon.url, config.pool_address, None
    devnet = None
    if config.devnet.enabled:
        devnet = await stack.enter_async_context(start_devnet(_devnet_options(config)))
        daemon_url, wallet_url = devnet.daemon_url, devnet.wallet_url
        pool_address = pool_address or devnet.pool_address
        log.info("devnet daemon %s, wallet %s", devnet.daemon_url, devnet.wallet_url)
    if pool_address is None:  # PoolConfig demands one unless the devnet makes it
        raise ValueError("pool_address is required")
    _check_pool_address(pool_address, coin)

    redis = aioredis.from_url(redis_url, decode_responses=False)
    stack.push_async_callback(redis.aclose)
    if config.redis.url is not None:  # the pool's own local redis-server always runs with appendonly
        await check_appendonly(redis)
    store = Store(redis, config.redis.prefix or coin.name, config.redis.limits)
    http = await stack.enter_async_context(aiohttp.ClientSession())
    timings = RpcTimings()
    rpc = JsonRpcClient(
        daemon_url, session=http, timeout=config.daemon.timeout, timings=timings.endpoint("daemon")
    )
    daemon = create_daemon_client(coin.rpc_dialect.value, rpc)
    return Backends(
        coin, redis_url, redis, store, daemon_url, daemon, pool_address, wallet_url, devnet, timings
    )


async def _start_stratum_role(
    config: PoolConfig, backends: Backends, stack: contextlib.AsyncExitStack, failed: asyncio.Event
) -> StratumRole:
    coin = backends.coin
    await _wait_for_daemon(config, backends)
    recorder = ShareRecorder(backends.store, config.data_dir / "shares.spill", config.recorder)
    await stack.enter_async_context(recorder)
    verifier = PowVerifier(create_algorithm(coin.pow_algorithm, config.pow), threads=config.hash_threads)
    stack.callback(verifier.close)

    instance_id = new_instance_id()
    jobs = JobManager(
        backends.daemon,
        get_family(coin.blob_family),
        verifier.algorithm.name,
        JobConfig(backends.pool_address, **vars(config.jobs)),
        instance_id=instance_id,
        on_network_state=_network_stats_writer(backends.store),
        # RandomX: the next seed's state is built before the switch, so shares after it wait for nothing.
        on_next_seed=verifier.prepare_seed if verifier.prepares_seeds else None,
    )
    jobs.start()
    stack.push_async_callback(jobs.stop)
    await _wait_for_first_template(jobs, backends.daemon_url)
    # Other pool processes (cluster workers, other hosts) move to a new block as soon as this one sees it.
    channel = KeySpace(config.redis.prefix or coin.name).jobs_tip_channel
    tip_relay = TipRelay(backends.redis, channel, jobs, instance_id.hex())
    await tip_relay.start()
    stack.push_async_callback(tip_relay.close)

    judge = PoolShareJudge(jobs, verifier, backends.daemon)
    # Coin facts the stratum server needs come from the coin profile, not from the operator.
    stratum_config = replace(
        config.stratum,
        payment_ids_allowed=coin.supports_payment_ids,
        algo_aliases=frozenset(algorithm_info(coin.pow_algorithm).aliases),
    )
    stratum = StratumServer(
        config=stratum_config,
        job_source=jobs,
        judge=judge,
        share_sink=recorder,
        validate_address=lambda text: decode_address(text, coin.address_network),
        # Bans are shared by every pool process through Redis, and visible to the API.
        ban_store=BanStore(backends.redis, config.redis.prefix or coin.name),
        hash_threads=verifier.threads,
    )
    started_s = time.time()
    await stratum.start()
    stack.push_async_callback(stratum.close)

    for part in (jobs, recorder, tip_relay, stratum):
        _watch(part.background_tasks(), failed)

    miner = None
    if config.demo_miner.enabled:
        miner = await stack.enter_async_context(Miner(_demo_miner_options(config, stratum, coin)))
    return StratumRole(recorder, jobs, judge, stratum, miner, verifier, started_s)


async def _start_payments(
    config: PoolConfig, backends: Backends, stack: contextlib.AsyncExitStack, failed: asyncio.Event
) -> PaymentProcessor:
    settings = replace(config.payments, wallet=_wallet_settings(config, backends))
    client = settings.wallet.create_client(backends.rpc_timings.endpoint("wallet"))
    stack.push_async_callback(client.close)
    if config.sync_wait.enabled:
        await wait_until_synced(
            backends.daemon,
            client,
            settings=config.sync_wait,
            daemon_name=f"daemon {backends.daemon_url}",
            wallet_name=f"wallet {settings.wallet.url}",
        )
    store = PaymentStore(backends.redis, config.redis.prefix or backends.coin.name)
    processor = PaymentProcessor(store, client, backends.coin, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(processor.run_forever(stop), name="payments")
    task.add_done_callback(lambda done: _report_death("payments", done, failed))

    async def finish_pass_then_stop() -> None:
        # A pass is never cut in the middle on purpose: every step is durable, but a finished pass
        # leaves nothing for the next start to reconcile.
        stop.set()
        # asyncio.wait, not wait_for: a task that already died must not raise its error again here.
        await asyncio.wait({task}, timeout=PAYMENTS_STOP_TIMEOUT_S)
        if not task.done():
            await cancel_until_done(task)

    stack.push_async_callback(finish_pass_then_stop)
    return processor


def _recent_log_lines(
    config: PoolConfig, stack: contextlib.ExitStack | contextlib.AsyncExitStack
) -> RingLogHandler:
    """The last log lines, secrets masked, for the admin page."""
    ring = RingLogHandler(config.api.log_lines, mask=SecretMasker(secret_values(config)).mask)
    root = logging.getLogger("athena_pool")
    root.addHandler(ring)
    stack.callback(root.removeHandler, ring)
    return ring


def _live_stats_publisher(
    config: PoolConfig,
    backends: Backends,
    role: StratumRole | None,
    ring: RingLogHandler | None,
    roles: tuple[str, ...],
) -> LiveStatsPublisher:
    """The process's live figures (its stratum server's, if it runs the pool role, and its RPC timings),
    written to Redis for the API (maybe in another process)."""
    base = LiveSources() if role is None else _stratum_sources(role)
    sources = replace(base, rpc=backends.rpc_timings.figures, roles=roles)
    prefix = config.redis.prefix or backends.coin.name
    return LiveStatsPublisher(
        backends.redis,
        prefix,
        sources,
        interval_s=5.0,
        log_ring=ring,
        log_lines_kept=config.api.log_lines,
    )


def _stratum_sources(role: StratumRole) -> LiveSources:
    def template_age() -> float | None:
        try:
            return time.monotonic() - role.jobs.current_template().created_at
        except NoTemplateError:
            return None

    return LiveSources(
        stratum=role.stratum.stats,
        started_s=role.started_s,
        recorder=lambda: role.recorder.stats,
        hash_timings=lambda: role.verifier.timings,
        template_age_s=template_age,
        daemon_available=lambda: role.jobs.daemon_available,
        job_broadcast=lambda: role.stratum.last_broadcast,
    )


def _api_settings(config: PoolConfig, coin: Coin, *, charts: bool) -> ApiSettings:
    """The API's settings with the pool's own facts (fees, payout bounds) filled in from their sections."""
    min_payout = config.payments.min_payout or coin.atomic_units_per_coin
    unlocker = config.unlocker
    solo_fee = (
        unlocker.solo_fee_percent if unlocker.solo_fee_percent is not None else unlocker.pool_fee_percent
    )
    pool_facts = replace(
        config.api.pool,
        fee_percent=float(unlocker.pool_fee_percent),
        solo_fee_percent=float(solo_fee),
        finder_reward_percent=float(unlocker.finder_reward_percent),
        donation_percent=float(unlocker.donation_percent),
        payment_scheme=unlocker.scheme,
        payments_interval_s=int(config.payments.interval),
        transfer_fee_atomic=config.payments.fee,
        denomination_atomic=config.payments.denomination,
        unlock_depth=unlocker.unlock_depth,
    )
    bounds = PayoutBounds(
        min_atomic=min_payout, max_atomic=config.payments.max_threshold, default_atomic=min_payout
    )
    charts_settings = replace(config.api.charts, enabled=charts and config.api.charts.enabled)
    return replace(config.api, payout=bounds, pool=pool_facts, charts=charts_settings)


def _wallet_settings(config: PoolConfig, backends: Backends) -> WalletSettings:
    """The wallet the payments (and the API beside them) talk to: the devnet's own when it runs here."""
    if config.devnet.enabled and backends.wallet_url is not None:
        # The devnet's own wallet holds the pool address's coinbase outputs.
        return replace(
            config.payments.wallet,
            dialect="walletd",
            url=backends.wallet_url,
            rpc_password=config.devnet.rpc_password,
        )
    return config.payments.wallet


def _api_uses_wallet(config: PoolConfig, *, payments_here: bool, devnet_here: bool = False) -> bool:
    """Whether the API probes the wallet (and lets the admin resolve held payment batches against it).

    Only where it can log in: beside the payments role, where the wallet's credentials reached this
    process anyway, or beside the embedded devnet (whose password it has). deploy/ hands the wallet's RPC
    password to the payments role alone, so an API process of its own would ask without it and show a
    healthy wallet as down on /stats and /health."""
    if not config.payments.enabled:
        return False
    if config.devnet.enabled:
        return devnet_here
    wallet = config.payments.wallet
    return payments_here or bool(wallet.rpc_password or wallet.rpc_user)


async def _start_api(
    config: PoolConfig,
    backends: Backends,
    stratum_role: StratumRole | None,
    ring: RingLogHandler | None,
    stack: contextlib.AsyncExitStack,
    *,
    charts: bool,
    payments: bool,
) -> str:
    coin = backends.coin
    if stratum_role is not None:
        ports = [replace(port.config, port=port.port) for port in stratum_role.stratum.listening]
    else:
        ports = list(config.stratum.ports)
    probes = {"daemon": daemon_probe(backends.daemon)}
    wallet = None
    if _api_uses_wallet(config, payments_here=payments, devnet_here=backends.wallet_url is not None):
        wallet = _wallet_settings(config, backends).create_client(backends.rpc_timings.endpoint("wallet"))
        stack.push_async_callback(wallet.close)
        probes["wallet"] = wallet_probe(wallet)
    secret = AdminSecret(config.secrets.admin_secret) if config.secrets.admin_secret else None
    url: str = await stack.enter_async_context(
        serve_api(
            _api_settings(config, coin, charts=charts),
            redis=backends.redis,
            coin=coin,
            key_prefix=config.redis.prefix or coin.name,
            limits=config.redis.limits,
            ports=ports,
            probes=probes,
            log_ring=ring,
            admin_secret=secret,
            wallet=wallet,
            configure_app=add_web_routes,
        )
    )
    return url


async def _start_charts(config: PoolConfig, backends: Backends, stack: contextlib.AsyncExitStack) -> None:
    """The charts role without an HTTP server: the collector reads the same stats the API would."""
    coin = backends.coin
    settings = _api_settings(config, coin, charts=True)
    context = build_context(
        settings,
        redis=backends.redis,
        coin=coin,
        key_prefix=config.redis.prefix or coin.name,
        ports=list(config.stratum.ports),
        admin_secret=None,
    )
    await context.stats.start()
    stack.push_async_callback(context.stats.close)
    collector = ChartsCollector(context.api_store, context.stats, settings.charts, time.time)
    await collector.start()
    stack.push_async_callback(collector.close)


async def _wait_for_daemon(config: PoolConfig, backends: Backends) -> None:
    if config.sync_wait.enabled:
        await wait_until_synced(
            backends.daemon, settings=config.sync_wait, daemon_name=f"daemon {backends.daemon_url}"
        )


def _report_death(name: str, done: asyncio.Task[None], failed: asyncio.Event) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.critical("%s stopped: %r", name, done.exception(), exc_info=done.exception())
        failed.set()


def _watch(tasks: Collection[asyncio.Task[None]], failed: asyncio.Event) -> None:
    """A part's own long-running tasks: if one dies, the whole pool stops (exit code 1), never limps on."""
    for task in tasks:
        task.add_done_callback(lambda done: _report_death(done.get_name(), done, failed))


def _background(
    stack: contextlib.AsyncExitStack, name: str, work: Coroutine[Any, Any, None], failed: asyncio.Event
) -> None:
    """Run `work` until shutdown; if it dies, say so and set `failed` so the whole pool stops."""
    task = asyncio.create_task(work, name=name)
    task.add_done_callback(lambda done: _report_death(name, done, failed))

    async def stop() -> None:
        await cancel_until_done(task)

    stack.push_async_callback(stop)


def _devnet_options(config: PoolConfig) -> DevnetOptions:
    settings = config.devnet
    return DevnetOptions(
        host=settings.host,
        daemon_port=settings.daemon_port,
        wallet_port=settings.wallet_port,
        data_dir=config.data_dir / "devnet",
        difficulty=settings.difficulty,
        block_time=settings.block_time,
        pool_address=config.pool_address,
        rpc_password=settings.rpc_password,
    )


def _demo_miner_options(config: PoolConfig, stratum: StratumServer, coin: Coin) -> MinerOptions:
    """The demo miner mines to an address of its own, so its balance shows apart from the pool's."""
    address_file = config.data_dir / "demo-miner.address"
    address = _read_or_create_address(address_file, coin)
    first = stratum.listening[0]
    return MinerOptions(
        host="127.0.0.1",
        port=first.port,
        user=address,
        rig_id=config.demo_miner.worker,
        threads=config.demo_miner.threads,
        algo=coin.pow_algorithm,
        report_interval=5.0,  # only feeds its hashrate meter: no reporter prints it
    )


def _read_or_create_address(path: Path, coin: Coin) -> str:
    if path.exists():
        return path.read_text().strip()
    address = generate_address(random.SystemRandom(), coin.address_network)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(address + "\n")
    return address


def _check_pool_address(address: str, coin: Coin) -> None:
    try:
        decode_address(address, coin.address_network)
    except AddressError as exc:
        raise ValueError(f"pool_address is not a valid {coin.name} address: {exc}") from None


def _network_stats_writer(store: Store) -> NetworkStateHook:
    async def write(state: NetworkState) -> None:
        last_time = state.last_block.timestamp if state.last_block else 0
        stats = NetworkStats(state.height, state.difficulty, state.last_block_hash, last_time, _now_ms())
        await store.set_network_stats(stats)

    return write


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _wait_for_first_template(jobs: JobManager, daemon_url: str) -> None:
    while True:
        try:
            async with asyncio.timeout(TEMPLATE_WAIT_LOG_S):  # not wait_for: see athena_pool.aio
                await jobs.wait_for_template()
            return
        except TimeoutError:
            problem = jobs.last_problem or "no answer yet"
            log.warning("waiting for a block template from %s: %s", daemon_url, problem)
