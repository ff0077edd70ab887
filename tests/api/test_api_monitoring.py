"""Charts (bounded keys), live stratum figures, service probes, log lines, /metrics and /health."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from api_support import ADMIN_SECRET, LIMITS, RedisServer, Seeded, api_settings, seed_pool, served, share

from athena_pool.api.charts import ChartsCollector
from athena_pool.api.live import LiveSources, LiveStatsPublisher
from athena_pool.api.logring import RingLogHandler
from athena_pool.api.server import ApiParts
from athena_pool.api.settings import ChartSettings
from athena_pool.api.snapshot import SnapshotBuilder
from athena_pool.api.stats_cache import StatsCache
from athena_pool.storage import Store
from athena_pool.storage.api_store import ApiStore, ChartSeries
from athena_pool.storage.bans_store import BanStore
from athena_pool.storage.keys import KeySpace
from athena_pool.storage.ledger import Ledger
from athena_pool.storage.payment_store import PaymentStore
from athena_pool.stratum.registry import StratumStats

BEARER = {"Authorization": f"Bearer {ADMIN_SECRET}"}
SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+-]+$'
)


async def test_charts_stay_bounded(redis_client: aioredis.Redis, prefix: str, seeded: Seeded) -> None:
    """However long the collector runs: pool charts keep `retention / step` points, per-address charts
    expire, at most `max_workers_per_miner` worker charts per address, idle workers age out."""
    store = Store(redis_client, prefix, LIMITS)
    workers = [f"rig-{n}" for n in range(10)]
    await store.record_shares(
        "many-workers", [share(seeded.alice.address, w, 1_000, seeded.now_ms - 1_000) for w in workers]
    )
    settings = api_settings(
        charts=ChartSettings(interval_s=60, step_s=60, retention_s=600, max_workers_per_miner=4)
    )
    api_store = ApiStore(redis_client, prefix)
    builder = SnapshotBuilder(
        store,
        api_store,
        Ledger(redis_client, KeySpace(prefix)),
        PaymentStore(redis_client, prefix),
        BanStore(redis_client, prefix),
        settings,
        lambda: seeded.now_ms / 1000,
    )
    snapshot = await builder.build()
    now = [seeded.now_ms / 1000]
    collector = ChartsCollector(api_store, StatsCache(builder.build, 1.0), settings.charts, lambda: now[0])
    for _ in range(30):
        await collector.collect(snapshot)
        now[0] += 60
    charts = await api_store.pool_charts(ChartSeries)
    assert {len(points) for points in charts.values()} == {settings.charts.max_points}
    assert charts[ChartSeries.MINERS_SOLO][-1][1] == 1.0
    assert len(await api_store.miner_chart(seeded.alice.address)) == settings.charts.max_points
    assert 0 < await redis_client.pttl(api_store.keys.chart_miner(seeded.alice.address)) <= 600_000
    worker_charts = await api_store.worker_charts(seeded.alice.address)
    assert len(worker_charts) == 4
    assert await redis_client.pttl(api_store.keys.chart_workers(seeded.alice.address)) > 0
    # Later, only rig1 still mines: the others age out of the hash after the retention.
    quiet = type(snapshot.miners[seeded.alice.address])(
        seeded.alice.address, seeded.now_ms, 10.0, 0.0, {"rig1": 10.0}, {}
    )
    for _ in range(12):
        await collector.collect(
            type(snapshot)(**{**snapshot.__dict__, "miners": {seeded.alice.address: quiet}})
        )
        now[0] += 60
    assert set(await api_store.worker_charts(seeded.alice.address)) == {"rig1"}


async def test_charts_reach_the_api(api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded) -> None:
    """The collector runs inside the API (interval 0.2 s in the tests): the charts fill."""
    while True:
        async with http.get(api.url + "/api/v1/charts/pool") as response:
            series = (await response.json())["series"]
        if series["hashrate"] and series["workers"]:
            break
    assert series["hashrate"][-1][1] > 0 and series["difficulty"][-1][1] == 900_000
    async with http.get(api.url + f"/api/v1/miners/{seeded.alice.address}/chart") as response:
        assert (await response.json())["hashrate"]


async def test_live_figures_are_published_and_withdrawn(redis_client: aioredis.Redis, prefix: str) -> None:
    stats = StratumStats(1, {3333: 1}, 1, 1, 5.0, {"accepted": 4}, {}, 0, {})
    publisher = LiveStatsPublisher(
        redis_client, prefix, LiveSources(stratum=lambda: stats), instance_id="p1", interval_s=0.05
    )
    store = ApiStore(redis_client, prefix)
    async with publisher:
        await publisher.publish_once()
        live = await store.read_live(forget_before_ms=0)
        assert live["p1"]["connections_by_port"] == {"3333": 1} and live["p1"]["shares"] == {"accepted": 4}
    assert await store.read_live(forget_before_ms=0) == {}
    await store.write_live("crashed", {"updated_ms": 1})
    assert await store.read_live(forget_before_ms=1_000) == {}
    assert not await redis_client.hexists(store.keys.live_stratum, "crashed")


async def test_probes_logs_metrics_and_health(
    redis_client: aioredis.Redis, prefix: str, seeded: Seeded, http: aiohttp.ClientSession
) -> None:
    async def daemon() -> Mapping[str, Any]:
        return {
            "height": 509,
            "hash": "cd" * 32,
            "difficulty": 900_000,
            "timestamp": 1_700_000_000,
            "reward": 123,
        }

    async def wallet() -> Mapping[str, Any]:
        raise ConnectionRefusedError("wallet down")

    ring = RingLogHandler(capacity=50)
    logger = logging.getLogger("athena_pool.test_monitoring")
    logger.addHandler(ring)
    logger.setLevel(logging.INFO)
    try:
        logger.info("pool started")
        logger.warning('miner "<b>x</b>" was banned')
        settings = api_settings(health_interval_s=0.1)
        async with served(
            redis_client, prefix, settings, probes={"daemon": daemon, "wallet": wallet}, log_ring=ring
        ) as api:
            while True:
                async with http.get(api.url + "/stats") as response:
                    stats = await response.json()
                if stats["health"]["athena"]["wallet"] is not None:
                    break
            assert stats["health"]["athena"] == {"daemon": "ok", "wallet": "fail", "price": None}
            assert stats["lastblock"] == {
                "difficulty": 900_000,
                "height": 509,
                "timestamp": 1_700_000_000,
                "reward": 123,
                "hash": "cd" * 32,
            }
            async with http.get(api.url + "/health") as response:
                health = await response.json()
            assert response.status == 200 and health["status"] == "degraded"
            assert health["checks"]["services"] == {"daemon": True, "wallet": False}
            assert "wallet down" not in str(health)  # details are for the admin only
            async with http.get(api.url + "/api/v1/admin/health", headers=BEARER) as response:
                admin_health = await response.json()
            assert "wallet down" in admin_health["services"]["wallet"]["error"]
            async with http.get(
                api.url + "/api/v1/admin/logs", headers=BEARER, params={"level": "WARNING"}
            ) as r:
                lines = (await r.json())["items"]
            assert any(line["message"] == 'miner "<b>x</b>" was banned' for line in lines)
            assert all(line["level"] in ("WARNING", "ERROR", "CRITICAL") for line in lines)
            async with http.get(api.url + "/metrics") as response:
                assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
                text = await response.text()
    finally:
        logger.removeHandler(ring)
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert samples and all(SAMPLE.match(line) for line in samples), [
        s for s in samples if not SAMPLE.match(s)
    ]
    expected = [
        'athena_stratum_connections{instance="test-pool"} 3',
        'athena_stratum_port_connections{instance="test-pool",port="3333"} 2',
        'athena_stratum_rejects_total{instance="test-pool",reason="low_difficulty"} 2',
        'athena_template_age_seconds{instance="test-pool"} 1.5',
        'athena_pool_shares_total{kind="valid"} 160',
        'athena_pool_blocks_found_total{reward_type="solo"} 1',
        'athena_service_up{service="wallet"} 0',
        'athena_service_up{service="daemon"} 1',
        'athena_payment_batches_open{state="manual_review"} 1',
        "athena_network_difficulty 900000",
        "athena_ledger_blocks_orphaned_total 1",
    ]
    for line in expected:
        assert line in samples, line
    assert any(line.startswith('athena_rpc_probe_seconds{service="daemon"} ') for line in samples)
    assert any(line.startswith('athena_api_requests_total{route="/stats",status="200"} ') for line in samples)


async def test_health_is_down_when_redis_is(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    server = RedisServer(tmp_path)
    client = server.client()
    try:
        await seed_pool(client, "outage")
        async with served(client, "outage") as api:
            async with http.get(api.url + "/health") as response:
                assert response.status == 200
            server.stop()
            async with http.get(api.url + "/health") as response:
                assert response.status == 503
                body = await response.json()
            assert body["status"] == "down" and body["checks"]["redis"]["ok"] is False
            async with http.get(api.url + "/api/v1/pool") as response:
                assert response.status == 200  # the last statistics are still served meanwhile
    finally:
        server.stop()
        await client.aclose()
