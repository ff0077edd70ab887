"""The API over a real pool: the composition root's `run_pool` on the devnet (local Redis, devnet daemon,
the built-in miner mining real cn-lite/1 shares), with the API and the live-stats publisher wired as the
composition root will wire them. The miner's worker is named like an XSS payload."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from api_support import ADMIN_SECRET, XSS_WORKER, api_settings, free_port

from athena_pool.api import LiveSources, LiveStatsPublisher, daemon_probe, serve_api
from athena_pool.api.settings import AdminSecret, ApiSettings
from athena_pool.config import (
    ConsoleSettings,
    DemoMinerSettings,
    DevnetSettings,
    JobSettings,
    PoolConfig,
    RedisSettings,
    Secrets,
)
from athena_pool.payments.settings import PaymentSettings, WalletSettings
from athena_pool.stratum.config import PortConfig, StratumConfig
from athena_pool.stratum.vardiff import VardiffConfig
from athena_pool.supervisor import RunningPool, run_pool


def devnet_config(data_dir: Path) -> PoolConfig:
    vardiff = VardiffConfig(min_difficulty=20, target_time=2.0, retarget_time=4.0)
    return PoolConfig(
        coin="athena",
        data_dir=data_dir,
        redis=RedisSettings(local_port=free_port()),
        jobs=JobSettings(refresh_interval=0.5),
        stratum=StratumConfig(
            ports=(PortConfig(port=0, difficulty=40, description="devnet", vardiff=vardiff),)
        ),
        devnet=DevnetSettings(enabled=True, daemon_port=0, wallet_port=0, difficulty=600, block_time=3600),
        demo_miner=DemoMinerSettings(enabled=True, threads=1, worker=XSS_WORKER),
        console=ConsoleSettings(interval=0),
        api=ApiSettings(host="127.0.0.1", port=0),
        payments=PaymentSettings(
            enabled=True, interval=3600, min_payout=100_000, fee=10_000, wallet=WalletSettings("walletd")
        ),
        secrets=Secrets(admin_secret=ADMIN_SECRET),
    )


def live_sources(pool: RunningPool) -> LiveSources:
    """What the composition root hands the publisher."""

    def template_age() -> float | None:
        try:
            return time.monotonic() - pool.jobs.current_template().created_at
        except Exception:
            return None

    return LiveSources(
        stratum=pool.stratum.stats,
        recorder=lambda: pool.recorder.stats,
        template_age_s=template_age,
        daemon_available=lambda: pool.jobs.daemon_available,
    )


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 120) -> Any:
    """Polls for a state the test needs (shares, a block); not an assertion about timing."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.25)


async def test_the_api_shows_a_real_pool_mining_on_the_devnet(tmp_path: Path) -> None:
    config = devnet_config(tmp_path / "data")
    async with run_pool(config) as pool:
        assert pool.miner is not None
        miner = pool.miner.options.user
        redis = pool.backends.redis
        # Ports as bound (port 0 in the config above becomes a real port).
        ports = [replace(listening.config, port=listening.port) for listening in pool.stratum.listening]
        daemon = pool.backends.daemon
        settings = api_settings(health_interval_s=0.5)
        async with (
            LiveStatsPublisher(redis, pool.coin.name, live_sources(pool), interval_s=0.5) as publisher,
            serve_api(
                settings,
                redis=redis,
                coin=pool.coin,
                ports=ports,
                probes={"daemon": daemon_probe(daemon)},
                admin_secret=AdminSecret(ADMIN_SECRET),
            ) as url,
            aiohttp.ClientSession() as http,
        ):

            async def get(path: str) -> Any:
                async with http.get(url + path) as response:
                    assert response.status == 200, await response.text()
                    return await response.json()

            async def xss_worker_listed() -> Any:
                await pool.recorder.flush(5)
                async with http.get(url + f"/api/v1/miners/{miner}/workers") as response:
                    if response.status != 200:
                        return None
                    return [w for w in (await response.json())["items"] if w["name"] == XSS_WORKER]

            workers = await eventually(xss_worker_listed, "the miner's worker in the API")
            assert workers[0]["hashes"] > 0 and workers[0]["shares"]["valid"] > 0
            blocks = await eventually(lambda: get_items(get, "/api/v1/blocks"), "a block found by the pool")
            assert blocks[0]["finder"] == miner and blocks[0]["finder_worker"] == XSS_WORKER
            stats = await eventually(lambda: hashrate_stats(get), "a pool hashrate")
            assert stats["pool"]["miners"] == 1
            assert stats["network"]["height"] >= blocks[0]["height"]
            height = blocks[0]["height"]
            lastblock = await eventually(lambda: daemon_last_block(get, height), "the daemon probe")
            assert lastblock["reward"] > 0 and len(lastblock["hash"]) == 64
            address = await get(f"/stats_address?address={miner}")
            assert XSS_WORKER in [w["name"] for w in address["workers"]]
            ports_live = await eventually(lambda: connected_ports(get), "the miner's connection")
            assert ports_live[0]["port"] == ports[0].port
            async with http.get(url + "/metrics") as response:
                metrics = await response.text()
            assert f'athena_stratum_connections{{instance="{publisher.instance_id}"}} 1' in metrics
            assert f'athena_template_age_seconds{{instance="{publisher.instance_id}"}}' in metrics
            # Services are shared through Redis: this API sees the wallet that the pool's own API probes.
            health = await eventually(lambda: with_wallet_probe(get), "the wallet probe in /health")
            assert health["checks"]["services"] == {"daemon": True, "wallet": True}
            await the_pools_own_api_talks_to_the_devnet_wallet(http, pool)


async def with_wallet_probe(get: Callable[[str], Awaitable[Any]]) -> Any:
    health = await get("/health")
    return health if "wallet" in health["checks"].get("services", {}) else None


async def the_pools_own_api_talks_to_the_devnet_wallet(
    http: aiohttp.ClientSession, pool: RunningPool
) -> None:
    """The API run_pool itself serves beside the embedded devnet and the payments: the devnet's wallet is
    its wallet (health probe, and the admin's manual-review resolution needs it)."""
    assert pool.api_url is not None

    async def services() -> Any:
        async with http.get(pool.api_url + "/health") as response:
            checks: dict[str, Any] = (await response.json())["checks"]
            return checks.get("services") if "wallet" in checks.get("services", {}) else None

    assert await eventually(services, "the wallet probe") == {"daemon": True, "wallet": True}
    await the_pools_own_api_shows_each_log_line_once(http, pool.api_url)


async def the_pools_own_api_shows_each_log_line_once(http: aiohttp.ClientSession, api_url: str) -> None:
    """The pool process publishes its log lines to Redis and serves the API that reads them: a line shows
    once, from the publishing instance (not a second time from the API's own process)."""
    marker = f"log line {time.time_ns()}"
    logging.getLogger("athena_pool.test").warning(marker)

    async def marked() -> list[Any] | None:
        async with http.get(
            api_url + "/api/v1/admin/logs", headers={"Authorization": f"Bearer {ADMIN_SECRET}"}
        ) as response:
            assert response.status == 200, await response.text()
            lines = [line for line in (await response.json())["items"] if line["message"] == marker]
        return lines if any(line["instance"] != "api" for line in lines) else None

    lines = await eventually(marked, "the log line published")
    assert len(lines) == 1, lines


async def get_items(get: Callable[[str], Awaitable[Any]], path: str) -> list[Any]:
    items: list[Any] = (await get(path))["items"]
    return items


async def hashrate_stats(get: Callable[[str], Awaitable[Any]]) -> Any:
    stats = await get("/stats")
    return stats if stats["pool"]["hashrate"] > 0 else None


async def daemon_last_block(get: Callable[[str], Awaitable[Any]], height: int) -> Any:
    """`lastblock` once the daemon probe has seen the chain reach `height`."""
    stats = await get("/stats")
    ok = stats["health"]["athena"]["daemon"] == "ok" and (stats["lastblock"]["height"] or 0) >= height
    return stats["lastblock"] if ok else None


async def connected_ports(get: Callable[[str], Awaitable[Any]]) -> Any:
    items = (await get("/api/v1/ports"))["items"]
    return items if items and items[0]["connections"] >= 1 else None
