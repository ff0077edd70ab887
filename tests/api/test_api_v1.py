"""`/api/v1` over real HTTP on real Redis data: values, pages, the payout proof, errors, CORS, XSS."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from api_support import XSS_WORKER, Seeded, api_settings, served
from yarl import URL

from athena_pool.api.server import ApiParts
from athena_pool.storage import BlockCandidate, RewardType, Store

V1 = "/api/v1"


async def get_json(http: aiohttp.ClientSession, url: str, expect: int = 200, **params: str) -> Any:
    async with http.get(url, params=params) as response:
        body = await response.text()
        assert response.status == expect, body
        assert response.content_type == "application/json"
        return await response.json()


async def walk(http: aiohttp.ClientSession, url: str, limit: int, **params: str) -> list[list[Any]]:
    """Every page of a paginated list, following next_cursor."""
    pages, cursor = [], None
    while True:
        query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
        async with http.get(url, params=query) as response:
            assert response.status == 200, await response.text()
            data = await response.json()
        assert set(data) == {"items", "next_cursor"}
        pages.append(data["items"])
        cursor = data["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not end"


async def test_pool_network_config_and_ports(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    pool = await get_json(http, api.url + f"{V1}/pool")
    assert pool["hashrate"]["prop"] == pytest.approx((40 * 5_000 + 40 * 2_000 + 40 * 3_000) / 600)
    assert pool["miners"] == {"prop": 2, "solo": 1, "total": 3}
    assert pool["blocks"]["candidates"] == 1 and pool["blocks"]["matured"] == 2
    assert (
        pool["shares"]["valid"] == 160 and pool["shares"]["low_diff"] == 1 and pool["shares"]["invalid"] == 1
    )
    assert pool["connections"] == 3  # from the live figures the stratum side published
    network = await get_json(http, api.url + f"{V1}/network")
    assert (network["height"], network["difficulty"]) == (510, 900_000)
    config = await get_json(http, api.url + f"{V1}/config")
    assert config["coin"] == "athena" and config["unlock_depth"] == 4
    assert config["payments"]["min_threshold"] == 100 and config["payments"]["default_threshold"] == 50_000
    ports = await get_json(http, api.url + f"{V1}/ports")
    assert [(p["port"], p["connections"]) for p in ports["items"]] == [(3333, 2), (5555, 1)]
    assert ports["items"][1]["description"] == "High end <b>hardware</b>"  # data, not markup: JSON string


async def test_blocks_page_through_candidates_and_matured_blocks(
    api: ApiParts, http: aiohttp.ClientSession, redis_client: aioredis.Redis, prefix: str, seeded: Seeded
) -> None:
    store = Store(redis_client, prefix)
    for height in range(511, 518):  # more candidates, two of them at the same height
        await store.add_block_candidate(
            BlockCandidate(
                height, f"{height:064x}", 1_000, RewardType.PROP, seeded.bob.address, "gpu", seeded.now_ms
            )
        )
    await store.add_block_candidate(
        BlockCandidate(517, "f" * 64, 1_000, RewardType.PROP, seeded.bob.address, "gpu", seeded.now_ms)
    )
    pages = await walk(http, api.url + f"{V1}/blocks", 3)
    listed = [(b["height"], b["hash"]) for page in pages for b in page]
    assert len(listed) == 11 and len(set(listed)) == 11
    assert listed == sorted(listed, reverse=True)
    assert listed[:2] == [(517, "f" * 64), (517, f"{517:064x}")]
    matured = [b for page in await walk(http, api.url + f"{V1}/blocks", 1, status="matured") for b in page]
    assert [(b["height"], b["status"]) for b in matured] == [(505, "orphaned"), (500, "unlocked")]
    unlocked = matured[1]
    assert (unlocked["reward"], unlocked["pool_fee"], unlocked["credited"]) == (2_000_000, 99_000, 1_900_000)
    assert unlocked["finder_worker"] == XSS_WORKER
    assert unlocked["effort"] == pytest.approx(200_000 / 400_000)


async def test_block_payout_proof_names_the_payment_that_paid_it(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    block = seeded.unlocked
    assert block is not None
    detail = await get_json(http, api.url + f"{V1}/blocks/{block.height}/{block.hash_hex}")
    assert detail["credits_total"] == sum(seeded.credits.values()) and detail["credited_accounts"] == 2
    pages = await walk(http, api.url + f"{V1}/blocks/{block.height}/{block.hash_hex}/credits", 1)
    proofs = {item["address"]: item for page in pages for item in page}
    assert {a: p["amount"] for a, p in proofs.items()} == seeded.credits
    alice = proofs[seeded.alice.address]
    # 1 000 000 gross was paid (990 000 sent + 10 000 fee charged); 400 000 is still in the balance.
    assert alice["paid"] == [
        {"tx_hash": seeded.paid_tx, "amount": 1_000_000, "time_ms": seeded.now_ms - 37_000}
    ]
    assert (alice["unpaid"], alice["unknown"]) == (400_000, 0)
    assert proofs[seeded.pid_account]["unpaid"] == 500_000  # reserved by the batch in review: not paid yet
    await get_json(http, api.url + f"{V1}/blocks/{block.height}/{'0' * 64}", expect=404)
    await get_json(http, api.url + f"{V1}/blocks/{block.height}/NOTHEX", expect=400)


async def test_miner_details_workers_chart_payments_and_credits(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    miner_url = api.url + f"{V1}/miners/{seeded.alice.address}"
    miner = await get_json(http, miner_url)
    assert miner["money"] == {
        "balance": 400_000,
        "pending": 0,
        "paid": 990_000,
        "fees_charged": 10_000,
        "payout_threshold": 50_000,
    }
    assert miner["activity"]["hashes"] == 280_000 and miner["activity"]["shares"]["low_diff"] == 1
    assert miner["hashrate"]["current"] == pytest.approx((40 * 5_000 + 40 * 2_000) / 600)
    assert miner["workers"] == {"online": 2, "total": 2}
    workers = [w for page in await walk(http, miner_url + "/workers", 1) for w in page]
    assert {w["name"] for w in workers} == {"rig1", XSS_WORKER}
    assert [w["last_seen_ms"] for w in workers] == sorted((w["last_seen_ms"] for w in workers), reverse=True)
    xss = next(w for w in workers if w["name"] == XSS_WORKER)
    assert xss["hashes"] == 80_000
    payments = await get_json(http, miner_url + "/payments")
    assert payments["items"] == [
        {
            "time_ms": seeded.now_ms - 37_000,
            "tx_hash": seeded.paid_tx,
            "amount": 990_000,
            "fee": 10_000,
            "batch": "batch-paid",
        }
    ]
    credits = await get_json(http, miner_url + "/credits")
    assert [(c["height"], c["amount"], c["scheme"]) for c in credits["items"]] == [(500, 1_400_000, "prop")]
    chart = await get_json(http, miner_url + "/chart")
    assert chart["payments"] == [[seeded.now_ms - 37_000, 990_000]]
    pid = await get_json(http, api.url + f"{V1}/miners/{seeded.pid_account}")
    assert pid["money"]["pending"] == 300_000  # reserved by the batch waiting in manual review


async def test_worker_names_stay_json_strings(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    """A worker named like an XSS payload comes back as the same JSON string, in a JSON response; the raw
    body holds no `<` at all (escaped as \\u003c), so nothing can sniff it as HTML."""
    for path in (
        f"{V1}/miners/{seeded.alice.address}/workers",
        f"/stats_address?address={seeded.alice.address}",
    ):
        async with http.get(api.url + path) as response:
            raw = await response.read()
            assert response.headers["Content-Type"].startswith("application/json")
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
            assert b"<img" not in raw and b"\\u003cimg src=x onerror=alert(1)\\u003e" in raw
            assert XSS_WORKER in str(await response.json())


async def test_payments_and_miners_lists(api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded) -> None:
    payments = await get_json(http, api.url + f"{V1}/payments")
    assert [(p["tx_hash"], p["amount"], p["fee"], p["payees"]) for p in payments["items"]] == [
        (seeded.paid_tx, 990_000, 9_000, 1)
    ]
    pages = await walk(http, api.url + f"{V1}/miners", 2)
    ranked = [m for page in pages for m in page]
    assert [m["rank"] for m in ranked] == [1, 2, 3]
    assert ranked[0]["miner"] == f"{seeded.alice.address[:7]}...{seeded.alice.address[-7:]}"


async def test_errors_are_json_with_the_right_status(api: ApiParts, http: aiohttp.ClientSession) -> None:
    assert await get_json(http, api.url + "/no/such/thing", expect=404) == {"error": "no such endpoint"}
    assert "limit" in (await get_json(http, api.url + f"{V1}/blocks", expect=400, limit="0"))["error"]
    assert "limit" in (await get_json(http, api.url + f"{V1}/blocks", expect=400, limit="\uff11"))["error"]
    assert (
        "cursor" in (await get_json(http, api.url + f"{V1}/payments", expect=400, cursor="garbage!"))["error"]
    )
    await get_json(http, api.url + f"{V1}/miners/{'athena' + '1' * 90}", expect=404)
    await get_json(http, api.url + f"{V1}/miners/not-an-address", expect=400)
    async with http.post(api.url + f"{V1}/pool") as response:
        assert response.status == 405
        assert (await response.json())["error"] == "method not allowed here"
    address = "athena" + "1" * 90
    async with http.post(
        api.url + f"{V1}/miners/{address}/settings/challenge",
        data=b"x" * 20_000,
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 413
        assert (await response.json()) == {"error": "request body too large"}
    async with http.post(
        api.url + f"{V1}/miners/{address}/settings/challenge",
        data=b"{nope",
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 400 and "JSON" in (await response.json())["error"]


# Paths no route serves: the API's JSON 404 (the web front-end's routes are installed, as in the real app).
UNKNOWN_PATHS = (
    "/api/v1/nope",
    "/api/v1/pool/",
    "/nope.js",
    "/js/nope.js",
    "/js/",
    "/.hidden",
    "/static/index.html",
    "/js/%2e%2e/%2e%2e/web/__init__.py",
    "/js/../../api/server.py",
)


async def test_the_web_files_are_served_and_every_other_path_is_a_json_404(
    api: ApiParts, http: aiohttp.ClientSession
) -> None:
    async with http.get(api.url + "/") as response:
        assert response.status == 200 and response.content_type == "text/html"
        assert "js/app.js" in await response.text()
    async with http.get(api.url + "/js/app.js") as response:
        assert response.status == 200 and "javascript" in response.content_type
    for unknown in UNKNOWN_PATHS:
        url = URL(api.url + unknown, encoded=True)  # sent as written: no client-side dot removal
        for method in ("GET", "POST"):
            async with http.request(method, url) as response:
                assert (response.status, response.content_type) == (404, "application/json"), unknown
                assert await response.json() == {"error": "no such endpoint"}, unknown
    async with http.post(api.url + "/style.css") as response:
        assert response.status == 405 and (await response.json())["error"] == "method not allowed here"


async def test_public_bans_mask_ips_and_addresses(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    pages = await walk(http, api.url + f"{V1}/bans", 1)
    bans = [b for page in pages for b in page]
    assert [(b["scope"], b["ip"], b["reason"]) for b in bans] == [
        ("ip", "198.51.100.x", "socket flood"),
        ("worker", "198.51.100.x", "invalid shares"),
    ]
    assert bans[1]["address"] == f"{seeded.alice.address[:7]}...{seeded.alice.address[-7:]}"
    assert bans[1]["worker"] == XSS_WORKER
    assert "198.51.100.99" not in str(bans) and seeded.alice.address not in str(bans)


async def test_cors_only_for_configured_origins(
    redis_client: aioredis.Redis, prefix: str, seeded: Seeded, http: aiohttp.ClientSession
) -> None:
    site = "https://pool.example"
    async with served(redis_client, prefix, api_settings(cors_origins=(site,))) as api:
        async with http.get(api.url + f"{V1}/pool", headers={"Origin": site}) as response:
            assert response.headers["Access-Control-Allow-Origin"] == site
            assert response.headers["Access-Control-Allow-Credentials"] == "true"
        async with http.get(api.url + f"{V1}/pool", headers={"Origin": "https://evil.example"}) as response:
            assert "Access-Control-Allow-Origin" not in response.headers
        preflight = {"Origin": site, "Access-Control-Request-Method": "POST"}
        async with http.options(api.url + f"{V1}/admin/login", headers=preflight) as response:
            assert response.status == 204
            assert "X-CSRF-Token" in response.headers["Access-Control-Allow-Headers"]
    anyone = {"Origin": "https://anyone.example"}
    async with (
        served(redis_client, prefix, api_settings(cors_origins=("*",)), publish_live=False) as api,
        http.get(api.url + "/stats", headers=anyone) as response,
    ):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers
