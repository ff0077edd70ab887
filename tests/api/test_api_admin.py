"""Admin authentication and the admin endpoints, over real HTTP.

No secret -> 401, a wrong one -> 401, X-Forwarded-For from a peer that is not a configured proxy changes
nothing (still 401, and still the peer's rate limit), the login form's cookie works (with its CSRF token
for changes), the secret is never taken from the query string, and failed attempts get rate limited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from api_support import ADMIN_SECRET, Seeded, api_settings, served

from athena_pool.api.server import ApiParts
from athena_pool.api.settings import AdminSettings
from athena_pool.devnet.runner import DevnetOptions, start_devnet
from athena_pool.rpc.jsonrpc import JsonRpcClient
from athena_pool.rpc.wallet import WalletdClient
from athena_pool.storage.payment_store import PaymentStore

ADMIN = "/api/v1/admin"
BEARER = {"Authorization": f"Bearer {ADMIN_SECRET}"}


async def status_of(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.request(method, url, **kwargs) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def test_no_secret_and_wrong_secret_are_refused(api: ApiParts, http: aiohttp.ClientSession) -> None:
    async with http.get(api.url + f"{ADMIN}/stats") as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "authentication required" in (await response.json())["error"]
    wrong = {"Authorization": "Bearer not-the-secret-at-all"}
    assert (await status_of(http, "GET", api.url + f"{ADMIN}/stats", headers=wrong))[0] == 401
    assert (
        await status_of(http, "GET", api.url + f"{ADMIN}/stats", headers={"Authorization": ADMIN_SECRET})
    )[0] == 401
    assert (await status_of(http, "GET", api.url + f"{ADMIN}/stats", headers=BEARER))[0] == 200


async def test_forwarded_for_from_an_untrusted_peer_changes_nothing(
    api: ApiParts, http: aiohttp.ClientSession
) -> None:
    """The reference pool let `X-Forwarded-For: 127.0.0.1` in without a password. Here the peer (127.0.0.1,
    not a configured proxy) is the client whatever the header says: no bypass, and rotating the header does
    not escape the peer's rate limit either."""
    for spoof in ("127.0.0.1", "::1", "10.0.0.1, 127.0.0.1"):
        status, body = await status_of(
            http, "GET", api.url + f"{ADMIN}/stats", headers={"X-Forwarded-For": spoof}
        )
        assert status == 401, body
    attempts = AdminSettings().login_attempts
    for n in range(attempts):
        headers = {"X-Forwarded-For": f"198.51.100.{n}", "Authorization": "Bearer wrong-wrong-wrong"}
        assert (await status_of(http, "GET", api.url + f"{ADMIN}/stats", headers=headers))[0] == 401
    headers = {"X-Forwarded-For": "198.51.100.200", **BEARER}
    status, body = await status_of(http, "GET", api.url + f"{ADMIN}/stats", headers=headers)
    assert status == 429 and "too many" in body["error"]


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(
    redis_client: aioredis.Redis, prefix: str, seeded: Seeded, http: aiohttp.ClientSession
) -> None:
    """With 127.0.0.1 configured as a proxy, the client is the forwarded address: one client's failures
    lock that client out, not the others behind the same proxy; still no access without the secret."""
    async with served(redis_client, prefix, api_settings(trusted_proxies=("127.0.0.1/32",))) as api:
        url = api.url + f"{ADMIN}/stats"
        attacker = {"X-Forwarded-For": "203.0.113.66", "Authorization": "Bearer wrong-wrong-wrong"}
        for _ in range(AdminSettings().login_attempts):
            assert (await status_of(http, "GET", url, headers=attacker))[0] == 401
        assert (await status_of(http, "GET", url, headers=attacker))[0] == 429
        assert (await status_of(http, "GET", url, headers={"X-Forwarded-For": "203.0.113.66", **BEARER}))[
            0
        ] == 429
        assert (await status_of(http, "GET", url, headers={"X-Forwarded-For": "203.0.113.7", **BEARER}))[
            0
        ] == 200
        assert (await status_of(http, "GET", url, headers={"X-Forwarded-For": "127.0.0.1"}))[0] == 401


async def test_cookie_login_works_and_changes_need_the_csrf_token(
    api: ApiParts, http: aiohttp.ClientSession
) -> None:
    async with http.post(api.url + f"{ADMIN}/login", json={"secret": ADMIN_SECRET}) as response:
        assert response.status == 200
        session = await response.json()
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={ADMIN}" in cookie
    assert ADMIN_SECRET not in cookie and ADMIN_SECRET not in str(session)
    status, stats = await status_of(http, "GET", api.url + f"{ADMIN}/stats")  # the session's cookie jar
    assert status == 200 and stats["ledger"]["blocks_unlocked"] == 1
    assert (await status_of(http, "POST", api.url + f"{ADMIN}/logout", json={}))[0] == 403
    csrf = {"X-CSRF-Token": session["csrf_token"]}
    assert (await status_of(http, "POST", api.url + f"{ADMIN}/logout", json={}, headers=csrf))[0] == 200
    assert (await status_of(http, "GET", api.url + f"{ADMIN}/stats"))[0] == 401


async def test_a_stolen_cookie_value_alone_is_not_the_session(
    api: ApiParts, http: aiohttp.ClientSession
) -> None:
    forged = {"Cookie": "athena_admin=" + "A" * 43}
    assert (await status_of(http, "GET", api.url + f"{ADMIN}/stats", headers=forged))[0] == 401


async def test_the_secret_is_never_read_from_the_query_string(
    api: ApiParts, http: aiohttp.ClientSession
) -> None:
    status, _ = await status_of(http, "GET", api.url + f"{ADMIN}/stats", params={"secret": ADMIN_SECRET})
    assert status == 401
    status, _ = await status_of(http, "GET", api.url + f"{ADMIN}/stats", params={"password": ADMIN_SECRET})
    assert status == 401
    status, body = await status_of(http, "POST", api.url + f"{ADMIN}/login", params={"secret": ADMIN_SECRET})
    assert status == 415 and "application/json" in body["error"]
    assert "athena_admin" not in {c.key for c in http.cookie_jar}


async def test_login_attempts_are_rate_limited(api: ApiParts, http: aiohttp.ClientSession) -> None:
    for _ in range(AdminSettings().login_attempts):
        status, body = await status_of(
            http, "POST", api.url + f"{ADMIN}/login", json={"secret": "guess-guess-guess"}
        )
        assert status == 401 and body == {"error": "wrong admin secret"}
    async with http.post(api.url + f"{ADMIN}/login", json={"secret": ADMIN_SECRET}) as response:
        assert response.status == 429
        assert int(response.headers["Retry-After"]) >= 1


async def test_admin_is_disabled_without_a_secret(
    redis_client: aioredis.Redis,
    prefix: str,
    seeded: Seeded,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(AdminSettings().secret_env, raising=False)
    async with served(redis_client, prefix, secret=None) as api:
        status, body = await status_of(http, "GET", api.url + f"{ADMIN}/stats", headers=BEARER)
        assert status == 503 and "disabled" in body["error"]
        status, _ = await status_of(http, "POST", api.url + f"{ADMIN}/login", json={"secret": ADMIN_SECRET})
        assert status == 503


async def test_admin_stats_miners_ports_and_health(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    _, stats = await status_of(http, "GET", api.url + f"{ADMIN}/stats", headers=BEARER)
    # alice keeps 400 000; bob's account 500 000 of which 300 000 sit in the batch under review.
    assert (stats["owed"], stats["reserved_in_batches"]) == (600_000, 300_000)
    assert stats["open_batches"] == {"manual_review": 1}
    assert stats["payouts"]["paid"] == 990_000 and stats["ledger"]["rewards_total"] == 2_000_000
    pages, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        _, page = await status_of(http, "GET", api.url + f"{ADMIN}/miners", headers=BEARER, params=params)
        pages += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert {m["address"] for m in pages} == {seeded.alice.address, seeded.pid_account, seeded.solo.address}
    _, ports = await status_of(http, "GET", api.url + f"{ADMIN}/ports", headers=BEARER)
    assert [(p["port"], p["hidden"], p["connections"]) for p in ports["items"]] == [
        (3333, False, 2),
        (5555, False, 1),
        (7777, True, 0),
    ]
    _, health = await status_of(http, "GET", api.url + f"{ADMIN}/health", headers=BEARER)
    assert health["redis"]["ok"] is True and "test-pool" in health["stratum"]


@pytest.fixture
async def devnet_wallet(tmp_path: Path) -> AsyncIterator[WalletdClient]:
    """The devnet's walletd-style wallet: real RPC, an empty history (nothing was ever sent)."""
    options = DevnetOptions(
        daemon_port=0, wallet_port=0, data_dir=tmp_path / "devnet", network_blocks=False, seed=7
    )
    async with start_devnet(options) as devnet:
        client = WalletdClient(JsonRpcClient(devnet.wallet_url, timeout=5), rpc_password=devnet.rpc_password)
        try:
            yield client
        finally:
            await client.close()


async def test_manual_review_batches_are_listed_and_resolved_against_the_wallet(
    redis_client: aioredis.Redis,
    prefix: str,
    seeded: Seeded,
    http: aiohttp.ClientSession,
    devnet_wallet: WalletdClient,
) -> None:
    payments = PaymentStore(redis_client, prefix)
    async with served(redis_client, prefix, wallet=devnet_wallet) as api:
        _, review = await status_of(http, "GET", api.url + f"{ADMIN}/payments/review", headers=BEARER)
        assert [(b["batch_id"], b["state"], b["reason"]) for b in review["items"]] == [
            (seeded.review_batch, "manual_review", "wallet timed out")
        ]
        resolve = api.url + f"{ADMIN}/payments/review/{seeded.review_batch}/resolve"
        assert (await status_of(http, "POST", resolve, json={"action": "maybe"}, headers=BEARER))[0] == 400
        assert (await status_of(http, "POST", resolve, json={"action": "paid"}, headers=BEARER))[0] == 400
        status, body = await status_of(
            http, "POST", resolve, json={"action": "paid", "tx_hash": "ab" * 32}, headers=BEARER
        )
        assert status == 409 and "no outgoing transfer" in body["error"]  # the wallet never sent that
        token = "processor-lease"
        assert await payments.acquire_lease(token, 10_000)
        status, body = await status_of(http, "POST", resolve, json={"action": "not_sent"}, headers=BEARER)
        assert status == 409 and "processor" in body["error"]
        await payments.release_lease(token)
        status, body = await status_of(http, "POST", resolve, json={"action": "not_sent"}, headers=BEARER)
        assert status == 200 and body["batch"]["state"] == "released"
        assert (await payments.balances())[seeded.pid_account] == 500_000  # the reserved amount went back
        assert (await status_of(http, "POST", resolve, json={"action": "not_sent"}, headers=BEARER))[0] == 409
        missing = api.url + f"{ADMIN}/payments/review/no-such-batch/resolve"
        assert (await status_of(http, "POST", missing, json={"action": "not_sent"}, headers=BEARER))[0] == 404


async def test_resolving_needs_a_wallet_connection(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    resolve = api.url + f"{ADMIN}/payments/review/{seeded.review_batch}/resolve"
    status, body = await status_of(http, "POST", resolve, json={"action": "not_sent"}, headers=BEARER)
    assert status == 503 and "wallet" in body["error"]
    assert (await status_of(http, "POST", resolve, json={"action": "not_sent"}))[0] == 401


async def test_admin_lists_lifts_and_adds_bans(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    _, bans = await status_of(http, "GET", api.url + f"{ADMIN}/bans", headers=BEARER)
    assert [(b["ip"], b["source"]) for b in bans["items"]] == [
        ("198.51.100.99", "pool-1"),
        ("198.51.100.7", "pool-1"),
    ]
    worker_ban = bans["items"][1]
    assert worker_ban["address"] == seeded.alice.address
    lift = api.url + f"{ADMIN}/bans/{worker_ban['id']}/lift"
    assert (await status_of(http, "POST", lift))[0] == 401
    assert (await status_of(http, "POST", lift, headers=BEARER)) == (200, {"lifted": worker_ban["id"]})
    assert (await status_of(http, "POST", lift, headers=BEARER))[0] == 404
    manual = {
        "scope": "wallet",
        "ip": "2001:db8::5",
        "address": seeded.bob.address,
        "duration_s": 60,
        "reason": "abuse",
    }
    status, body = await status_of(http, "POST", api.url + f"{ADMIN}/bans", json=manual, headers=BEARER)
    assert status == 201 and body["ban"]["source"] == "api"
    assert body["ban"]["until_ms"] - body["ban"]["created_ms"] == 60_000
    bad = {**manual, "worker": "rig"}  # a wallet ban has no worker
    assert (await status_of(http, "POST", api.url + f"{ADMIN}/bans", json=bad, headers=BEARER))[0] == 400
    _, public = await status_of(http, "GET", api.url + "/api/v1/bans")
    assert [(b["scope"], b["ip"]) for b in public["items"]] == [
        ("ip", "198.51.100.x"),
        ("wallet", "2001:db8::/48"),
    ]
