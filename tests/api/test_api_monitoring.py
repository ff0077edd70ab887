"""Charts (bounded keys), live stratum figures, service probes, log lines, /metrics and /health; job
broadcast and RPC latency figures crossing from the pool process to an API process; the hashrate of a
pool that has not been up for a whole window yet."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from api_support import (
    ADMIN_SECRET,
    COIN,
    LIMITS,
    PORTS,
    Seeded,
    api_settings,
    seed_pool,
    served,
    share,
    wallet,
)
from test_api_devnet import devnet_config, eventually

from athena_pool.api.charts import ChartsCollector
from athena_pool.api.live import LiveSources, LiveStatsPublisher
from athena_pool.api.logring import RingLogHandler
from athena_pool.api.server import ApiParts, run_api
from athena_pool.api.settings import AdminSecret, ApiSettings, ChartSettings
from athena_pool.api.snapshot import PoolSnapshot, SnapshotBuilder
from athena_pool.api.stats_cache import StatsCache
from athena_pool.config import (
    ConsoleSettings,
    DaemonSettings,
    PoolConfig,
    RedisSettings,
)
from athena_pool.rpc.errors import RpcError
from athena_pool.rpc.jsonrpc import JsonRpcClient
from athena_pool.rpc.monerod_regtest import free_loopback_port
from athena_pool.rpc.timings import RpcTimings
from athena_pool.storage import Store
from athena_pool.storage.api_store import ApiStore, ChartSeries
from athena_pool.storage.bans_store import BanStore
from athena_pool.storage.keys import KeySpace
from athena_pool.storage.ledger import Ledger
from athena_pool.storage.payment_store import PaymentStore
from athena_pool.stratum.registry import HashrateMeter, StratumStats
from athena_pool.supervisor import run_pool
from redis_support import RedisServer

BEARER = {"Authorization": f"Bearer {ADMIN_SECRET}"}
SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+-]+$'
)


async def collector_at(
    redis_client: aioredis.Redis, prefix: str, settings: ApiSettings, now_ms: int
) -> tuple[PoolSnapshot, ChartsCollector, list[float]]:
    """The snapshot of the pool at `now_ms`, and a charts collector whose clock reads `now[0]` (seconds,
    starting at `now_ms`), for the test to move on."""
    builder = SnapshotBuilder(
        Store(redis_client, prefix, LIMITS),
        ApiStore(redis_client, prefix),
        Ledger(redis_client, KeySpace(prefix)),
        PaymentStore(redis_client, prefix),
        BanStore(redis_client, prefix),
        settings,
        lambda: now_ms / 1000,
    )
    now = [now_ms / 1000]
    collector = ChartsCollector(
        ApiStore(redis_client, prefix), StatsCache(builder.build, 1.0), settings.charts, lambda: now[0]
    )
    return await builder.build(), collector, now


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
    snapshot, collector, now = await collector_at(redis_client, prefix, settings, seeded.now_ms)
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


async def test_blocks_chart_counts_each_block_once(
    redis_client: aioredis.Redis, prefix: str, seeded: Seeded
) -> None:
    """Blocks found per step, prop and solo: the steps since the previous collection are recounted every
    time, so a block counts once however often the collector runs; the chart keeps `max_points` steps."""
    settings = api_settings(charts=ChartSettings(interval_s=60, step_s=600, retention_s=3_000))
    api_store = ApiStore(redis_client, prefix)
    snapshot, collector, now = await collector_at(redis_client, prefix, settings, seeded.now_ms)

    async def found() -> tuple[int, int]:
        charts = await api_store.pool_charts([ChartSeries.BLOCKS, ChartSeries.BLOCKS_SOLO])
        return tuple(
            round(sum(p[1] for p in charts[s])) for s in (ChartSeries.BLOCKS, ChartSeries.BLOCKS_SOLO)
        )

    # Seeded: two prop blocks and a solo one (orphaned since) within the last 200 s.
    for _ in range(3):
        await collector.collect(snapshot)
        assert await found() == (2, 1)
    for _ in range(20):
        now[0] += 600
        await collector.collect(snapshot)
    charts = await api_store.pool_charts([ChartSeries.BLOCKS])
    points = charts[ChartSeries.BLOCKS]
    assert len(points) == settings.charts.max_points and {p[1] for p in points} == {0.0}
    assert [p[0] for p in points] == [points[0][0] + 600 * i for i in range(len(points))]


async def test_a_block_seen_after_its_step_ended_still_counts(
    redis_client: aioredis.Redis, prefix: str, seeded: Seeded
) -> None:
    """Blocks found just before a step boundary reach the snapshot just after it (the snapshot is a
    little older than the clock, the block is recorded after its share): the collection after the
    boundary still recounts the step they were found in."""
    settings = api_settings(charts=ChartSettings(interval_s=1, step_s=600, retention_s=6_000))
    api_store = ApiStore(redis_client, prefix)
    snapshot, collector, now = await collector_at(redis_client, prefix, settings, seeded.now_ms)
    boundary_s = (seeded.now_ms // 1000 // 600 + 1) * 600
    found_late = tuple(
        replace(record, candidate=replace(record.candidate, time_ms=(boundary_s - 5) * 1000))
        for record in snapshot.recent_blocks
    )
    before = replace(snapshot, recent_blocks=(), taken_ms=(boundary_s - 2) * 1000)
    after = replace(snapshot, recent_blocks=found_late, taken_ms=(boundary_s + 1) * 1000)
    now[0] = boundary_s - 1
    await collector.collect(before)
    now[0] = boundary_s + 1  # the step ended while the snapshot in hand was taken before the blocks
    await collector.collect(before)
    now[0] = boundary_s + 2
    await collector.collect(after)
    await collector.collect(after)  # and each block still counts once
    charts = await api_store.pool_charts([ChartSeries.BLOCKS, ChartSeries.BLOCKS_SOLO])
    counted = {
        s: {p[0]: p[1] for p in charts[s] if p[1]} for s in (ChartSeries.BLOCKS, ChartSeries.BLOCKS_SOLO)
    }
    assert counted == {
        ChartSeries.BLOCKS: {boundary_s - 600: 2},
        ChartSeries.BLOCKS_SOLO: {boundary_s - 600: 1},
    }


async def test_charts_reach_the_api(api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded) -> None:
    """The collector runs inside the API (interval 0.2 s in the tests): the charts fill; the blocks chart
    counts the blocks found before the API started too (two prop blocks, one solo)."""
    while True:
        async with http.get(api.url + "/api/v1/charts/pool") as response:
            series = (await response.json())["series"]
        if series["hashrate"] and series["workers"] and series["blocks"]:
            break
    assert series["hashrate"][-1][1] > 0 and series["difficulty"][-1][1] == 900_000
    assert [sum(point[1] for point in series[name]) for name in ("blocks", "blocks_solo")] == [2, 1]
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
    server.start()
    client = server.client()
    try:
        await seed_pool(client, "outage")
        async with served(client, "outage") as api:
            async with http.get(api.url + "/health") as response:
                assert response.status == 200
            server.kill()
            async with http.get(api.url + "/health") as response:
                assert response.status == 503
                body = await response.json()
            assert body["status"] == "down" and body["checks"]["redis"]["ok"] is False
            async with http.get(api.url + "/api/v1/pool") as response:
                assert response.status == 200  # the last statistics are still served meanwhile
    finally:
        server.kill()
        await client.aclose()


# --- job broadcasts and RPC latency, from the pool process to an API process ----------------------------


def metric_samples(text: str) -> dict[str, float]:
    """`name{labels}` -> value, for every sample of an exposition, in its order."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


def assert_grouped(text: str) -> None:
    """Each family declared once, its samples right under its TYPE line, as the text format demands
    (several instances' samples of one family must not interleave with other families)."""
    declared: list[str] = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            declared.append(line.split()[2])
        elif line and not line.startswith("#"):
            assert declared and line.startswith(declared[-1]), line
    assert len(declared) == len(set(declared))


def series(name: str, **labels: str) -> str:
    """A sample's key as the exposition writes it (labels sorted by name)."""
    inner = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"athena_{name}{{{inner}}}"


def api_role_config(data_dir: Path, redis_url: str, pool_address: str, daemon_url: str) -> PoolConfig:
    return PoolConfig(
        coin="athena",
        pool_address=pool_address,
        data_dir=data_dir,
        daemon=DaemonSettings(url=daemon_url, timeout=2.0),
        redis=RedisSettings(url=redis_url),
        api=api_settings(health_interval_s=0.2),
        console=ConsoleSettings(interval=0),
    )


async def test_job_broadcasts_and_rpc_latency_reach_an_api_in_another_process(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """The pool role and the API role as two compositions that share only Redis, as deploy/ runs them.
    The API's /metrics shows the pool's last job broadcast and its calls to the devnet daemon by method,
    and the API process's own calls: all failing, its daemon URL leads nowhere. Every figure moves on as
    templates, broadcasts and probes go on."""
    async with run_pool(devnet_config(tmp_path / "pool"), roles=("pool",)) as pool:
        nowhere = f"http://127.0.0.1:{free_loopback_port()}"
        config = api_role_config(tmp_path / "api", pool.backends.redis_url, pool.pool_address, nowhere)
        async with run_pool(config, roles=("api",)) as api:
            url = api.api_url
            assert url is not None
            live = await ApiStore(pool.backends.redis, pool.coin.name).read_live(forget_before_ms=0)
            ids = {tuple(figures["roles"]): instance for instance, figures in live.items()}
            pool_id, api_id = ids[("pool",)], ids[("api",)]

            async def metrics() -> dict[str, float]:
                async with http.get(url + "/metrics") as response:
                    assert response.status == 200
                    text = await response.text()
                assert_grouped(text)
                return metric_samples(text)

            template = {"endpoint": "daemon", "instance": pool_id, "method": "getblocktemplate"}
            probe = {"endpoint": "daemon", "instance": api_id, "method": "getlastblockheader"}
            calls = series("rpc_request_seconds_count", **template)
            probe_failures = series("rpc_errors_total", error="unavailable", **probe)
            sessions = series("job_broadcast_sessions", instance=pool_id)
            broadcast_s = series("job_broadcast_seconds", instance=pool_id)

            async def first_figures() -> dict[str, float] | None:
                m = await metrics()
                ready = m.get(sessions) == 1 and m.get(calls, 0) > 0 and m.get(probe_failures, 0) > 0
                return m if ready else None

            first = await eventually(
                first_figures, "a broadcast to the miner, and both processes' RPC figures"
            )
            assert 0 < first[broadcast_s] < 1.0  # one session: far below a second
            assert 0 < first[series("rpc_request_seconds_sum", **template)] / first[calls] < 1.0
            buckets = [
                value
                for key, value in first.items()
                if key.startswith("athena_rpc_request_seconds_bucket{")
                and f'instance="{pool_id}"' in key
                and 'method="getblocktemplate"' in key
            ]
            assert len(buckets) > 2 and buckets == sorted(buckets) and buckets[-1] == first[calls]
            assert not [k for k in first if k.startswith("athena_rpc_errors_total{") and pool_id in k]
            # Every call of the API process failed, and it is no stratum instance.
            assert first[series("rpc_request_seconds_count", **probe)] == first[probe_failures]
            assert series("stratum_connections", instance=api_id) not in first

            async def moved_on() -> dict[str, float] | None:
                m = await metrics()
                newer = m[calls] > first[calls] and m[probe_failures] > first[probe_failures]
                return m if newer and m[broadcast_s] != first[broadcast_s] else None

            later = await eventually(moved_on, "figures of later templates, broadcasts and probes")
            # The miner's shares were hashed in the pool process: how many, and the time it took.
            hashing = {"algorithm": pool.coin.pow_algorithm, "instance": pool_id}

            async def hashed() -> dict[str, float] | None:
                m = await metrics()
                return m if m.get(series("hashes_total", **hashing), 0) > 0 else None

            after_shares = await eventually(hashed, "the miner's shares, hashed by the pool")
            assert after_shares[series("hash_seconds_total", **hashing)] > 0
            own = pool.backends.rpc_timings.endpoint("daemon").method("getblocktemplate")
            assert own is not None and own.count >= later[calls]  # published from the client's own count
            assert pool.stratum.last_broadcast is not None and later[sessions] == 1

        # How each call ends is told apart: an answer, or a JSON-RPC error from the daemon.
        timings = RpcTimings()
        async with JsonRpcClient(pool.daemon_url, timings=timings.endpoint("daemon")) as rpc:
            await rpc.call("getblockcount", {})
            with pytest.raises(RpcError):
                await rpc.call("no_such_method", {})
        daemon = timings.figures()["daemon"]
        assert daemon["getblockcount"]["count"] == 1 and daemon["getblockcount"]["errors"] == {}
        assert daemon["no_such_method"]["errors"] == {"error_reply": 1}


# --- the hashrate of a pool that has not been up for a whole window ---------------------------------------

MINER = wallet("first-minute")


@pytest.mark.parametrize(
    ("up_s", "old_share", "pool_rate", "hour_rate"),
    [
        # Up for a minute: six shares of 1,000 over that minute are 100 H/s (not 6,000 / 600 s = 10).
        (60, False, 100.0, 100.0),
        # Restarted a minute ago, with a share of the previous run 5 minutes ago still in Redis: the data
        # reach back beyond the start, so the whole window counts and nothing reads high.
        (60, True, 7_000 / 600, 7_000 / 3_600),
        # Up for two hours: the whole window, as always.
        (7_200, False, 6_000 / 600, 6_000 / 3_600),
    ],
)
async def test_the_hashrate_covers_only_the_time_the_pool_has_been_up(
    redis_client: aioredis.Redis,
    prefix: str,
    http: aiohttp.ClientSession,
    up_s: int,
    old_share: bool,
    pool_rate: float,
    hour_rate: float,
) -> None:
    now_s = float(int(time.time()))  # the API's clock stands still there: exact figures
    now_ms = int(now_s * 1000)
    store = Store(redis_client, prefix, LIMITS)
    times_ms = [now_ms - age_s * 1000 for age_s in (55, 45, 35, 25, 15, 5)]
    if old_share:
        times_ms.insert(0, now_ms - 300_000)
    for n, time_ms in enumerate(times_ms):  # one batch each, as the recorder writes them over time
        assert await store.record_shares(f"b{n}", [share(MINER.address, "rig", 1_000, time_ms)])

    def clock() -> float:
        return now_s

    sources = LiveSources(stratum=lambda: StratumStats(1, {3333: 1}, 1, 1, 0.0), started_s=now_s - up_s)
    publisher = LiveStatsPublisher(redis_client, prefix, sources, interval_s=0.1, clock=clock)
    await publisher.publish_once()
    async with (
        publisher,
        run_api(
            api_settings(),
            redis=redis_client,
            coin=COIN,
            key_prefix=prefix,
            ports=PORTS,
            limits=LIMITS,
            admin_secret=AdminSecret(ADMIN_SECRET),
            clock=clock,
        ) as api,
    ):
        async with http.get(api.url + "/api/v1/pool") as response:
            pool = await response.json()
        async with http.get(api.url + f"/api/v1/miners/{MINER.address}") as response:
            miner = await response.json()
        async with http.get(api.url + "/metrics") as response:
            metrics = metric_samples(await response.text())
    assert pool["hashrate"]["prop"] == pytest.approx(pool_rate)
    assert miner["hashrate"]["current"] == pytest.approx(pool_rate)
    assert miner["hashrate"]["1h"] == pytest.approx(hour_rate)
    assert metrics[series("pool_hashrate", reward_type="prop")] == pytest.approx(pool_rate)


def test_the_stratum_meter_reads_its_first_minute_right() -> None:
    """The stratum instance's own meter (`athena_stratum_hashrate`): the same rule, from its start."""
    meter = HashrateMeter(window_seconds=600, bucket_seconds=10, started=1_000.0)
    assert meter.rate(now=1_001.0) == 0.0
    for t in range(1_005, 1_060, 10):
        meter.add(1_000, now=float(t))
    assert meter.rate(now=1_060.0) == 6_000 / 60
    assert meter.rate(now=1_300.0) == 6_000 / 300
    assert meter.rate(now=1_700.0) == 0.0  # every bucket has left the window
    meter.add(6_000, now=1_700.0)
    assert meter.rate(now=1_700.0) == 6_000 / 600  # up longer than the window: the whole window
