"""The whole pool on the devnet, with the API and the web front-end, running on its own event loop in a
thread, so synchronous browser tests (selenium) can look at it; and a headless Chromium.

A paying pool (`PoolThread(..., paying=True)`) also runs the unlocker and the payment processor on the
devnet's wallet, and its API holds a wallet connection, so the admin can resolve held payment batches."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from athena_pool.api.health import daemon_probe
from athena_pool.api.live import LiveSources, LiveStatsPublisher
from athena_pool.api.server import run_api
from athena_pool.api.settings import AdminSecret, ApiSettings, ChartSettings, PoolFacts
from athena_pool.config import (
    ConsoleSettings,
    DemoMinerSettings,
    DevnetSettings,
    JobSettings,
    PoolConfig,
    RedisSettings,
)
from athena_pool.payments.settings import PaymentSettings, WalletSettings
from athena_pool.rpc.wallet import WalletClient
from athena_pool.stratum.config import PortConfig, StratumConfig
from athena_pool.stratum.vardiff import VardiffConfig
from athena_pool.supervisor import RunningPool, run_pool
from athena_pool.unlocker import UnlockerSettings
from athena_pool.web import add_web_routes

T = TypeVar("T")

ADMIN_SECRET = "web-test-admin-secret-0123456789"
XSS_WORKER = "<img src=x onerror=alert(1)>"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BLOCK_EXPLORER = "https://explorer.example.org/block/{id}"
TX_EXPLORER = "https://explorer.example.org/tx/{id}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return "chromium is not installed (apt-get install chromium chromium-driver)"
    if not (Path(CHROMEDRIVER).exists() or shutil.which("chromedriver")):
        return "chromedriver is not installed (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    return None


def devnet_config(data_dir: Path) -> PoolConfig:
    vardiff = VardiffConfig(min_difficulty=20, target_time=2.0, retarget_time=4.0)
    return PoolConfig(
        coin="athena",
        data_dir=data_dir,
        redis=RedisSettings(local_port=free_port()),
        jobs=JobSettings(refresh_interval=0.5),
        stratum=StratumConfig(
            ports=(PortConfig(port=0, difficulty=40, vardiff=vardiff, description="CPU <b>miners</b>"),)
        ),
        devnet=DevnetSettings(enabled=True, daemon_port=0, wallet_port=0, difficulty=600, block_time=3600),
        # The real built-in miner mines through the real stratum port under a worker name that is an
        # HTML payload: the front-end must show it as text.
        demo_miner=DemoMinerSettings(enabled=True, threads=1, worker=XSS_WORKER),
        console=ConsoleSettings(interval=0),
    )


def paying_config(data_dir: Path) -> PoolConfig:
    """`devnet_config`, and the money path: blocks credited once 4 deep, balances paid every second from
    the devnet's wallet (Athena's minimum fee, 100.00 ATHX)."""
    return replace(
        devnet_config(data_dir),
        unlocker=UnlockerSettings(interval=1.0, scheme="prop", pool_fee_percent=Decimal(1)),
        payments=PaymentSettings(
            enabled=True, interval=1.0, min_payout=1_000, fee=10_000, wallet=WalletSettings()
        ),
    )


def api_settings() -> ApiSettings:
    return ApiSettings(
        host="127.0.0.1",
        port=0,
        update_interval_s=1.0,
        hashrate_window_s=120,
        charts=ChartSettings(interval_s=1.0, step_s=2, retention_s=3_600),
        pool=PoolFacts(
            pool_host="127.0.0.1",
            blockchain_explorer=BLOCK_EXPLORER,
            transaction_explorer=TX_EXPLORER,
            links=(("Telegram", "https://t.me/athena_pool_test"), ("Discord", "javascript:alert(1)")),
        ),
    )


@dataclass
class LivePool:
    url: str = ""
    miner_address: str = ""
    stratum_port: int = 0
    daemon_url: str = ""


class PoolThread:
    """run_pool + the live-stats publisher + run_api(configure_app=add_web_routes) in a thread."""

    def __init__(self, data_dir: Path, *, paying: bool = False) -> None:
        self._config = paying_config(data_dir) if paying else devnet_config(data_dir)
        # Not the "api" role: the API below is the one the pages use (and no fixed port is bound).
        self._roles = ("pool", "unlocker", "payments") if paying else ("pool", "unlocker")
        self.running: RunningPool | None = None
        self.live = LivePool()
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, name="web-test-pool", daemon=True)

    def __enter__(self) -> PoolThread:
        self._thread.start()
        if not self._ready.wait(180):
            raise RuntimeError("the pool did not start in 180 s")
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(90)

    def call(self, work: Callable[[RunningPool], Awaitable[T]], timeout: float = 60) -> T:
        """Runs `work(running pool)` on the pool's own event loop (its Redis client, its miner)."""
        if self._loop is None or self.running is None:
            raise RuntimeError("the pool is not running")
        running = self.running
        return asyncio.run_coroutine_threadsafe(_awaited(work(running)), self._loop).result(timeout)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # reported to the test thread
            self.error = exc
            self._ready.set()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = self._config
        async with contextlib.AsyncExitStack() as stack:
            pool = await stack.enter_async_context(run_pool(config, self._roles))
            prefix = config.redis.prefix or pool.coin.name
            publisher = LiveStatsPublisher(
                pool.backends.redis, prefix, LiveSources(stratum=pool.stratum.stats), interval_s=1.0
            )
            await stack.enter_async_context(publisher)
            ports = [replace(listening.config, port=listening.port) for listening in pool.stratum.listening]
            parts = await stack.enter_async_context(
                run_api(
                    api_settings(),
                    redis=pool.backends.redis,
                    coin=pool.coin,
                    key_prefix=prefix,
                    ports=ports,
                    admin_secret=AdminSecret(ADMIN_SECRET),
                    probes={"daemon": daemon_probe(pool.backends.daemon)},
                    wallet=await self._wallet(pool, stack),
                    configure_app=add_web_routes,
                )
            )
            assert pool.miner is not None
            self.running = pool
            self.live = LivePool(parts.url, pool.miner.options.user, ports[0].port, pool.daemon_url)
            await self._wait_for_data(parts.url, pool.miner.options.user)
            self._ready.set()
            await self._stop.wait()

    async def _wallet(self, pool: RunningPool, stack: contextlib.AsyncExitStack) -> WalletClient | None:
        """The payments role's wallet (the devnet's), for the admin's decisions on held batches."""
        if not self._config.payments.enabled or pool.backends.wallet_url is None:
            return None
        settings = WalletSettings(url=pool.backends.wallet_url, rpc_password=self._config.devnet.rpc_password)
        wallet = settings.create_client()
        stack.push_async_callback(wallet.close)
        return wallet

    async def _wait_for_data(self, url: str, address: str) -> None:
        """A block found, the miner's worker known, and a few chart points for the pool and the miner."""
        deadline = time.monotonic() + 150
        async with aiohttp.ClientSession() as http:
            while True:
                ok = False
                with contextlib.suppress(aiohttp.ClientError, KeyError, ValueError):
                    pool = await _get(http, f"{url}/api/v1/pool")
                    charts = await _get(http, f"{url}/api/v1/charts/pool")
                    mine = await _get(http, f"{url}/api/v1/miners/{address}/chart")
                    ok = (
                        pool["blocks"]["candidates"] + pool["blocks"]["matured"] >= 1
                        and len(charts["series"]["hashrate"]) >= 2
                        and len(mine["hashrate"]) >= 2
                    )
                if ok:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError("no block, or no chart points, after 150 s of mining on the devnet")
                await asyncio.sleep(0.5)


async def _awaited(work: Awaitable[T]) -> T:
    return await work


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        if response.status != 200:
            raise ValueError(f"{url}: HTTP {response.status}")
        return await response.json()
