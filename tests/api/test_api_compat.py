"""The reference pool's endpoints, over real HTTP on real Redis data, checked against the shapes that
cryptonote-nodejs-pool.md section 8 gives, and parsed the way the reference front-end parses them."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from api_support import ADMIN_SECRET, COIN, XSS_WORKER, Seeded, api_settings, served

from athena_pool.api.logring import RingLogHandler
from athena_pool.api.server import ApiParts
from athena_pool.api.settings import LongPollSettings

DOC = "docs/cryptonote-nodejs-pool.md"


def doc_section(shared_dir: Path) -> str:
    text = (shared_dir / DOC).read_text()
    return text[text.index("## 8. HTTP API") : text.index("## 9. Front-end")]


def row(section: str, path: str) -> str:
    line = next(line for line in section.splitlines() if line.startswith(f"| `{path}` |"))
    return line.split("|", 3)[3]


def braced(text: str, name: str) -> set[str]:
    """`name:{a,b,c}` in the reference's notation -> {"a", "b", "c"}."""
    match = re.search(rf"(?<![A-Za-z_]){re.escape(name)}:\{{([^{{}}]*)\}}", text)
    assert match, f"{name} not in {text!r}"
    return {key.strip() for key in match.group(1).split(",")}


def backticked(section: str, start: str, end: str) -> set[str]:
    paragraph = section[section.index(start) + len(start) : section.index(end)]
    return {name for name in re.findall(r"`([A-Za-z_*]+)`", paragraph) if name.isidentifier()}


async def get(http: aiohttp.ClientSession, api: ApiParts, path: str, **params: str) -> Any:
    async with http.get(api.url + path, params=params) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "application/json"
        return await response.json()


def parse_block(height: str, member: str) -> dict[str, Any]:
    """poolBlocks_ParseBlock of the reference front-end (js/common.js)."""
    parts = member.split(":")
    assert parts[0] in ("prop", "solo")
    return {
        "height": int(height),
        "solo": parts[0] == "solo",
        "address": parts[1],
        "hash": parts[2],
        "time": int(parts[3]),
        "difficulty": int(parts[4]),
        "shares": int(parts[5]),
        "orphaned": parts[6] if len(parts) > 6 else None,
        "reward": parts[7] if len(parts) > 7 else None,
    }


def pairs(flat: list[str]) -> list[tuple[str, str]]:
    assert len(flat) % 2 == 0
    return list(zip(flat[::2], flat[1::2], strict=True))


async def test_stats_has_every_field_the_reference_documents(
    api: ApiParts, http: aiohttp.ClientSession, shared_dir: Path, seeded: Seeded
) -> None:
    section = doc_section(shared_dir)
    documented = row(section, "/stats")
    stats = await get(http, api, "/stats", address=seeded.alice.address)
    assert {"health", "pool", "lastblock", "network", "config", "charts", "miner"} <= set(stats)
    assert set(stats["health"][COIN.name]) == braced(documented, "<coin>")
    assert set(stats["lastblock"]) == braced(documented, "lastblock")
    assert set(stats["network"]) == braced(documented, "network")
    assert set(stats["miner"]) == braced(documented, "miner")
    pool_keys = backticked(section, "The `pool` object", "The `config` object")
    assert pool_keys - set(stats["pool"]) == set()
    config_keys = backticked(section, "The `config` object", "`charts` holds") - {"telegramBot"}
    assert config_keys - set(stats["config"]) == set()
    assert {"blocks", "blocksSolo"} <= set(stats["charts"])


async def test_stats_figures_come_from_the_recorded_shares_and_blocks(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    stats = await get(http, api, "/stats")
    pool = stats["pool"]
    # 40 shares of 5000 + 40 of 2000 (alice) and 40 of 3000 (bob.pid) in the 600 s window: PROP.
    assert pool["hashrate"] == round((40 * 5_000 + 40 * 2_000 + 40 * 3_000) / 600)
    assert pool["hashrateSolo"] == round(40 * 4_000 / 600)
    assert (pool["miners"], pool["minersSolo"], pool["workers"], pool["workersSolo"]) == (2, 1, 3, 1)
    assert (pool["totalBlocks"], pool["totalBlocksSolo"]) == (2, 1)
    assert pool["totalPayments"] == 1 and pool["totalMinersPaid"] == 1
    assert stats["network"] == {"difficulty": 900_000, "height": 510}
    assert stats["config"]["coinUnits"] == 100 and stats["config"]["symbol"] == "ATHX"
    assert [p["port"] for p in stats["config"]["ports"]] == [3333, 5555]  # the hidden port is not listed
    blocks = [parse_block(score, member) for member, score in pairs(pool["blocks"])]
    by_height = {b["height"]: b for b in blocks}
    assert by_height[500]["orphaned"] == "0" and by_height[500]["reward"] == "2000000"
    assert by_height[505]["orphaned"] == "1" and by_height[505]["solo"]
    assert by_height[508]["orphaned"] not in ("0", "1")  # a candidate: "pending" for the front-end
    assert all(b["address"].startswith("athena") and "..." in b["address"] for b in blocks)
    member, score = pairs(pool["payments"])[0]
    tx, amount, fee, _mixin, payees = member.split(":")
    assert (tx, amount, fee, payees) == (seeded.paid_tx, "990000", "9000", "1")
    assert int(score) == (seeded.now_ms - 37_000) // 1000


async def test_stats_address_matches_the_reference_shape(
    api: ApiParts, http: aiohttp.ClientSession, shared_dir: Path, seeded: Seeded
) -> None:
    documented = row(doc_section(shared_dir), "/stats_address")
    data = await get(http, api, "/stats_address", address=seeded.alice.address)
    assert set(data) == {"stats", "payments", "charts", "workers"}
    assert braced(documented, "stats") - {"minPayoutLevel"} <= set(data["stats"])
    assert set(data["charts"]) == {"hashrate", "payments"}
    listed = re.search(r"workers:\[\{([^}]*)\}\]", documented)
    assert listed is not None
    worker_keys = set(
        listed.group(1).replace("hashrate_1h/6h/24h", "hashrate_1h,hashrate_6h,hashrate_24h").split(",")
    )
    assert {frozenset(w) for w in data["workers"]} == {frozenset(worker_keys)}
    stats = data["stats"]
    assert (stats["balance"], stats["paid"], stats["hashes"]) == ("400000", "990000", "280000")
    assert {w["name"] for w in data["workers"]} == {"rig1", XSS_WORKER}
    tx, amount, charge, _mixin = pairs(data["payments"])[0][0].split(":")
    assert (tx, amount, charge) == (seeded.paid_tx, "990000", "10000")
    assert data["charts"]["payments"] == [[(seeded.now_ms - 37_000) // 1000, "990000"]]


async def test_stats_address_unknown_is_not_found_as_in_the_reference(
    api: ApiParts, http: aiohttp.ClientSession
) -> None:
    unknown = "athena" + "1" * 90
    assert await get(http, api, "/stats_address", address=unknown) == {"error": "Not found"}
    assert await get(http, api, "/stats_address", address=unknown, longpoll="true") == {"error": "Not found"}
    async with http.get(api.url + "/stats_address", params={"address": "<script>"}) as response:
        assert response.status == 400
        assert (await response.json())["error"].startswith("address:")


async def test_get_blocks_pages_below_a_height_like_load_more(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    first = [parse_block(s, m) for m, s in pairs(await get(http, api, "/get_blocks", height="1000"))]
    assert [b["height"] for b in first] == [505, 500]  # matured only, newest first
    below = [parse_block(s, m) for m, s in pairs(await get(http, api, "/get_blocks", height="505"))]
    assert [b["height"] for b in below] == [500]
    assert await get(http, api, "/get_blocks", height="500") == []
    async with http.get(api.url + "/get_blocks") as response:
        assert response.status == 400
        assert "height" in (await response.json())["error"]


async def test_get_payments_pages_by_time_for_the_pool_and_an_address(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    paid_s = (seeded.now_ms - 37_000) // 1000
    everything = pairs(await get(http, api, "/get_payments", time=str(paid_s + 10)))
    assert [int(score) for _, score in everything] == [paid_s]
    assert await get(http, api, "/get_payments", time=str(paid_s)) == []
    mine = pairs(await get(http, api, "/get_payments", time=str(paid_s + 10), address=seeded.alice.address))
    assert mine[0][0].startswith(seeded.paid_tx)
    assert await get(http, api, "/get_payments", time=str(paid_s + 10), address=seeded.bob.address) == []


async def test_top10_miners_truncates_addresses_and_sorts_by_hashrate(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    rows = await get(http, api, "/get_top10miners")
    assert [set(r) for r in rows] == [{"miner", "hashrate", "lastShare", "hashes"}] * 3
    assert [r["hashrate"] for r in rows] == sorted((r["hashrate"] for r in rows), reverse=True)
    assert rows[0]["miner"] == f"{seeded.alice.address[:7]}...{seeded.alice.address[-7:]}"
    assert all(seeded.alice.address not in str(r) for r in rows)


async def test_payout_level_and_explorers(api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded) -> None:
    level = await get(http, api, "/get_miner_payout_level", address=seeded.alice.address)
    assert level == {"status": "done", "level": 50_000 / 100}  # the default threshold, in coins
    assert await get(http, api, "/block_explorers") == {
        COIN.name: {"blockchainExplorer": "", "transactionExplorer": ""}
    }
    assert await get(http, api, "/get_email_notifications", address=seeded.alice.address) == {
        "status": "done",
        "email": None,
    }


async def test_live_stats_answers_at_the_next_update(api: ApiParts, http: aiohttp.ClientSession) -> None:
    before = api.context.stats.generation
    stats = await get(http, api, "/live_stats")
    assert api.context.stats.generation > before
    assert "pool" in stats and stats["miner"] == {}


async def test_long_polls_are_bounded(
    redis_client: aioredis.Redis, prefix: str, seeded: Seeded, http: aiohttp.ClientSession
) -> None:
    """With updates far apart, held requests pile up: past the cap they are refused at once (503 in total,
    429 per IP), and the held ones are still answered."""
    settings = api_settings(
        update_interval_s=30.0, long_poll=LongPollSettings(max_waiters=3, max_waiters_per_ip=2, timeout_s=2.0)
    )
    async with served(redis_client, prefix, settings) as api:
        held = [asyncio.create_task(http.get(api.url + "/live_stats")) for _ in range(2)]
        while api.context.gate.waiting < 2:
            await asyncio.sleep(0.01)
        async with http.get(api.url + "/live_stats") as refused:
            assert refused.status == 429
            assert refused.headers["Retry-After"]
            assert "long polls" in (await refused.json())["error"]
        for response in await asyncio.gather(*held):
            assert response.status == 200
            assert "pool" in await response.json()
            response.release()
        assert api.context.gate.waiting == 0


async def test_admin_endpoints_of_the_reference_refuse_the_query_password(
    api: ApiParts, http: aiohttp.ClientSession
) -> None:
    for path in ("/admin_stats", "/admin_users", "/admin_ports", "/admin_monitoring", "/miners_hashrate"):
        async with http.get(api.url + path, params={"password": ADMIN_SECRET}) as response:
            assert response.status == 401, path
        async with http.get(api.url + path, headers={"Authorization": f"Bearer {ADMIN_SECRET}"}) as response:
            assert response.status == 200, path
            assert isinstance(await response.json(), dict)


@pytest.mark.parametrize("path", ["/get_apis", "/get_market"])
async def test_unused_reference_endpoints_answer_empty_json(
    api: ApiParts, http: aiohttp.ClientSession, path: str
) -> None:
    assert await get(http, api, path) in ({}, [])


def reference_paths(section: str) -> set[str]:
    """Every endpoint section 8 lists: the public table's rows and the admin list's items."""
    public = set(re.findall(r"^\| `(/[a-z0-9_]+)` \|", section, re.MULTILINE))
    admin = {
        path
        for line in section.splitlines()
        if line.startswith("- `/")
        for path in re.findall(r"`(/[a-z0-9_]+)[^`]*`", line)
    }
    return public | admin


async def test_every_endpoint_the_reference_documents_answers_json(
    api: ApiParts, http: aiohttp.ClientSession, shared_dir: Path
) -> None:
    """No reference path is a 404: each answers JSON, with its data or a clear error (a parameter
    missing, a feature this pool does not have)."""
    paths = reference_paths(doc_section(shared_dir))
    assert {"/get_telegram_notifications", "/admin_log", "/test_telegram_notification"} <= paths
    assert len(paths) >= 24
    bearer = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    for path in sorted(paths - {"/live_stats"}):  # /live_stats waits for the next update
        async with http.get(api.url + path, headers=bearer) as response:
            assert response.status != 404 and response.content_type == "application/json", path
            body = await response.json()
            assert response.status < 400 or body["error"], path


async def test_telegram_and_test_notifications_say_they_are_not_supported(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    telegram = {"chatId": "12345", "type": "miner", "address": seeded.alice.address}
    for path, params in (
        ("/get_telegram_notifications", telegram),
        ("/set_telegram_notifications", {**telegram, "action": "enable"}),
    ):
        async with http.get(api.url + path, params=params) as response:
            assert response.status == 501, path
            assert await response.json() == {
                "error": "telegram notifications are not supported by this pool: it has no Telegram bot"
            }
    bearer = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    for path, params, what in (
        ("/test_email_notification", {"email": "op@example.org"}, "e-mail"),
        ("/test_telegram_notification", {}, "telegram"),
    ):
        async with http.get(api.url + path, params=params) as response:
            assert response.status == 401, path  # the admin's tools, behind the admin secret
        async with http.get(api.url + path, params=params, headers=bearer) as response:
            assert response.status == 501, path
            assert (await response.json())["error"].startswith(f"{what} notifications are not supported")


async def test_admin_monitoring_lists_logs_and_admin_log_shows_one(
    redis_client: aioredis.Redis, prefix: str, seeded: Seeded, http: aiohttp.ClientSession
) -> None:
    """`logs` as the reference's `{file: {size, changed}}`, one "file" per process: the pool process's
    lines published to Redis (`test-pool`) and this API process's own (`api`); `/admin_log?file=` gives
    one file's lines, oldest first, as text."""
    ring = RingLogHandler(capacity=50)
    logger = logging.getLogger("athena_pool.test_compat_logs")
    logger.addHandler(ring)
    logger.setLevel(logging.INFO)
    bearer = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    try:
        logger.info("pool started")
        logger.warning('miner "<b>x</b>" was banned')
        async with served(redis_client, prefix, log_ring=ring) as api:
            monitoring = await get_admin(http, api, "/admin_monitoring")
            logs = monitoring["logs"]
            assert set(logs) == {"test-pool.log", "api.log"}
            log = await get_admin(http, api, "/admin_log", file="test-pool.log")
            assert log["file"] == "test-pool.log"
            assert [line.split(" ", 2)[2] for line in log["lines"]] == [
                "INFO athena_pool.test_compat_logs: pool started",
                'WARNING athena_pool.test_compat_logs: miner "<b>x</b>" was banned',
            ]
            assert logs["test-pool.log"]["size"] == sum(len(line.encode()) + 1 for line in log["lines"])
            assert abs(logs["test-pool.log"]["changed"] - time.time()) < 3_600
            async with http.get(api.url + "/admin_log", params={"file": "nope.log"}, headers=bearer) as r:
                assert r.status == 404 and "no such log" in (await r.json())["error"]
            async with http.get(api.url + "/admin_log", headers=bearer) as r:
                assert r.status == 400 and "file" in (await r.json())["error"]
            async with http.get(api.url + "/admin_log", params={"file": "api.log"}) as r:
                assert r.status == 401
    finally:
        logger.removeHandler(ring)


async def get_admin(http: aiohttp.ClientSession, api: ApiParts, path: str, **params: str) -> Any:
    async with http.get(
        api.url + path, params=params, headers={"Authorization": f"Bearer {ADMIN_SECRET}"}
    ) as response:
        assert response.status == 200, await response.text()
        return await response.json()
