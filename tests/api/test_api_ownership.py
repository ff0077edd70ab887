"""Miner self-service behind a proof of ownership: message signatures as Monero makes them (vectors from a
real monero-wallet-rpc, and a live wallet when installed), the offline signer, and the HTTP flows."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from api_support import (
    ADMIN_SECRET,
    LIMITS,
    PORTS,
    Seeded,
    Wallet,
    api_settings,
    free_port,
    wallet,
)

from athena_pool.api.ownership import curve
from athena_pool.api.ownership.sign import main as sign_main
from athena_pool.api.ownership.signatures import (
    KeyUsed,
    SignatureError,
    generate_signature,
    sign_message_v2,
    verify_message,
)
from athena_pool.api.server import ApiParts, run_api
from athena_pool.api.settings import AdminSecret
from athena_pool.coins import base58
from athena_pool.coins.addresses import decode_address
from athena_pool.coins.hashing import cn_fast_hash
from athena_pool.coins.profiles import get_coin
from athena_pool.storage.payment_store import PaymentStore

# Made by monero-wallet-rpc v0.18.0.0 (`sign`, signature_type spend / view) for a wallet restored from
# the keys of `wallet("...")`-style seeds: spend = Hs("athena-pool api test spend key"), view = Hs(spend).
MONERO_ADDRESS = (
    "44v7iYPdicMB4M3f28LQc35xhfspuZs9cNHxPfrQ1b5bD5saw23AzgJTyBDN3niaVrJXm6njqRyVsJ6ryZXD1qKz15MPFri"
)
MONERO_MESSAGE = "athena-pool test message: <img src=x> ünïcode".encode()
MONERO_SPEND_SIG = (
    "SigV2bi8jM8nnnAoLYBjUJnsBmC9LA4VZF2G4HKNsj4mUcJPzWFMKoVwuxmFTKmg5SEBusHPdbp9k2e2DP1guUPm8esdZ"
)
MONERO_VIEW_SIG = (
    "SigV2jPYG3uGy4AWiFg4j8uLWzfbWqaLXWbJ6rShwMcQz3tSpb9wZN9GeUkgAsjx9dkzNFc7tATGbGTExJf7orrVQjkb1"
)
V1 = "/api/v1"


def signed_by(text: str, message: bytes, spend: bytes, view: bytes) -> KeyUsed:
    verified = verify_message(text, message, spend, view)
    assert verified is not None, "the signature does not verify"
    return verified.key


def monero_keys() -> tuple[bytes, bytes]:
    address = decode_address(MONERO_ADDRESS, "monero")
    return address.public_spend_key, address.public_view_key


def test_signatures_made_by_monero_wallet_rpc_verify() -> None:
    spend, view = monero_keys()
    assert signed_by(MONERO_SPEND_SIG, MONERO_MESSAGE, spend, view) is KeyUsed.SPEND
    assert signed_by(MONERO_VIEW_SIG, MONERO_MESSAGE, spend, view) is KeyUsed.VIEW


def test_a_signature_does_not_carry_over_to_another_message_or_address() -> None:
    spend, view = monero_keys()
    assert verify_message(MONERO_SPEND_SIG, MONERO_MESSAGE + b".", spend, view) is None
    other = wallet("someone else", "monero")
    assert verify_message(MONERO_SPEND_SIG, MONERO_MESSAGE, other.spend_public, other.view_public) is None
    # The view-key signature checked as if it were the spend key's (swapped keys) fails too.
    assert verify_message(MONERO_VIEW_SIG, MONERO_MESSAGE, view, spend) is None


def test_our_signatures_verify_in_every_form() -> None:
    w = wallet("forms")
    message = b"athena-pool settings"
    for key, secret in ((KeyUsed.SPEND, w.spend_secret), (KeyUsed.VIEW, w.view_secret)):
        signed = sign_message_v2(message, w.spend_public, w.view_public, secret, key)
        assert signed_by(signed, message, w.spend_public, w.view_public) is key
    raw = generate_signature(cn_fast_hash(message), w.spend_public, w.spend_secret)
    assert verify_message("SigV1" + base58.encode(raw), message, w.spend_public, w.view_public) is not None
    assert verify_message(raw.hex(), message, w.spend_public, w.view_public) is not None
    by_view = generate_signature(cn_fast_hash(message), w.view_public, w.view_secret)
    assert signed_by(by_view.hex(), message, w.spend_public, w.view_public) is KeyUsed.VIEW
    with pytest.raises(ValueError, match="does not belong"):
        sign_message_v2(message, w.spend_public, w.view_public, wallet("other").spend_secret)


def test_malformed_and_non_canonical_signatures_are_refused() -> None:
    w = wallet("malformed")
    for text in ("", "SigV2", "SigV2***", "ab" * 63, "zz" * 64, "SigV3" + "1" * 88, "x" * 500):
        with pytest.raises(SignatureError):
            verify_message(text, b"m", w.spend_public, w.view_public)
    raw = generate_signature(cn_fast_hash(b"m"), w.spend_public, w.spend_secret)
    c, r = int.from_bytes(raw[:32], "little"), raw[32:]
    non_canonical = (c + curve.L).to_bytes(32, "little") + r  # the same c modulo L: sc_check must refuse it
    assert verify_message(non_canonical.hex(), b"m", w.spend_public, w.view_public) is None
    zero_c = bytes(32) + r
    assert verify_message(zero_c.hex(), b"m", w.spend_public, w.view_public) is None


def test_offline_signer_reads_the_key_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    w = wallet("cli")
    monkeypatch.setattr("sys.stdin", io.StringIO(w.view_secret.hex() + "\n"))
    assert sign_main(["--address", w.address, "--message", "hello pool"]) == 0
    signature = capsys.readouterr().out.strip()
    assert signed_by(signature, b"hello pool", w.spend_public, w.view_public) is KeyUsed.VIEW
    monkeypatch.setattr("sys.stdin", io.StringIO(wallet("stranger").view_secret.hex() + "\n"))
    assert sign_main(["--address", w.address, "--message", "hello pool"]) == 2


async def post_json(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(url, json=body) as response:
        return response.status, await response.json()


def sign_with(w: Wallet, message: str, key: KeyUsed = KeyUsed.VIEW) -> str:
    secret = w.view_secret if key is KeyUsed.VIEW else w.spend_secret
    return sign_message_v2(message.encode(), w.spend_public, w.view_public, secret, key)


async def test_settings_change_needs_a_signature_of_the_exact_message(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded, redis_client: aioredis.Redis, prefix: str
) -> None:
    settings_url = api.url + f"{V1}/miners/{seeded.alice.address}/settings"
    status, issued = await post_json(http, settings_url + "/challenge", {"payout_threshold": 25_000})
    assert status == 201
    assert (
        seeded.alice.address in issued["message"] and "25000 atomic units (250.00 ATHX)" in issued["message"]
    )
    stranger = wallet("mallory")
    status, body = await post_json(
        http,
        settings_url,
        {"challenge": issued["challenge"], "signature": sign_with(stranger, issued["message"])},
    )
    assert status == 403 and "ownership" in body["error"]
    # The challenge was used up by that attempt: even the right signature now needs a new one.
    status, body = await post_json(
        http,
        settings_url,
        {"challenge": issued["challenge"], "signature": sign_with(seeded.alice, issued["message"])},
    )
    assert status == 400 and "challenge" in body["error"]
    status, issued = await post_json(
        http, settings_url + "/challenge", {"payout_threshold": 25_000, "email": "alice@example.org"}
    )
    proof = {"challenge": issued["challenge"], "signature": sign_with(seeded.alice, issued["message"])}
    status, body = await post_json(http, settings_url, proof)
    assert status == 200, body
    assert body["applied"] == {"payout_threshold": 25_000, "email": "a***@example.org"}
    assert await PaymentStore(redis_client, prefix).thresholds([seeded.alice.address]) == {
        seeded.alice.address: 25_000
    }
    async with http.get(settings_url) as response:
        settings = await response.json()
    assert (settings["payout_threshold"], settings["payout_threshold_own"], settings["email"]) == (
        25_000,
        25_000,
        "a***@example.org",
    )
    assert (await post_json(http, settings_url, proof))[0] == 400  # no replay


async def test_a_challenge_is_bound_to_its_address_and_bounds(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    alice_url = api.url + f"{V1}/miners/{seeded.alice.address}/settings"
    status, body = await post_json(http, alice_url + "/challenge", {"payout_threshold": 5})
    assert status == 400 and "at least 100" in body["error"]
    status, body = await post_json(http, alice_url + "/challenge", {"payout_threshold": 10**12})
    assert status == 400
    status, body = await post_json(http, alice_url + "/challenge", {"email": "not an email"})
    assert status == 400
    status, body = await post_json(http, alice_url + "/challenge", {"payout_threshold": 500, "admin": True})
    assert status == 400 and "unknown fields" in body["error"]
    status, issued = await post_json(http, alice_url + "/challenge", {"payout_threshold": 500})
    bob_url = api.url + f"{V1}/miners/{seeded.bob.address}/settings"
    proof = {"challenge": issued["challenge"], "signature": sign_with(seeded.bob, issued["message"])}
    status, body = await post_json(http, bob_url, proof)
    assert status == 400 and "challenge" in body["error"]
    not_athena = wallet("monero user", "monero").address
    status, body = await post_json(
        http, api.url + f"{V1}/miners/{not_athena}/settings/challenge", {"payout_threshold": 500}
    )
    assert status == 400 and "not a athena address" in body["error"]


async def test_the_reference_settings_page_flow(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    """The reference front-end calls /set_miner_payout_level?address&ip&level and shows `status`: it now
    gets the message to sign; sent back with `signature` and `challenge`, the level is set."""
    params = {"address": seeded.alice.address, "ip": "127.0.0.1", "level": "12.34"}
    async with http.get(api.url + "/set_miner_payout_level", params=params) as response:
        first = await response.json()
    assert (
        first["status"].startswith("Prove that you own this address") and first["message"] in first["status"]
    )
    assert "1234 atomic units" in first["message"]
    signed = {
        **params,
        "challenge": first["challenge"],
        "signature": sign_with(seeded.alice, first["message"], KeyUsed.SPEND),
    }
    async with http.get(api.url + "/set_miner_payout_level", params=signed) as response:
        assert await response.json() == {"status": "done"}
    async with http.get(
        api.url + "/get_miner_payout_level", params={"address": seeded.alice.address}
    ) as response:
        assert await response.json() == {"status": "done", "level": 12.34}
    async with http.get(api.url + "/set_miner_payout_level", params={**params, "level": "lots"}) as response:
        assert (await response.json())["status"].startswith("level:")


async def test_challenges_are_rate_limited_per_client(
    api: ApiParts, http: aiohttp.ClientSession, seeded: Seeded
) -> None:
    url = api.url + f"{V1}/miners/{seeded.alice.address}/settings/challenge"
    statuses = [(await post_json(http, url, {"payout_threshold": 1_000}))[0] for _ in range(12)]
    assert statuses[:10] == [201] * 10 and statuses[10:] == [429, 429]


@contextlib.contextmanager
def monero_wallet_rpc(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("monero-wallet-rpc")
    if binary is None:
        pytest.skip("monero-wallet-rpc is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--rpc-bind-ip",
            "127.0.0.1",
            "--rpc-bind-port",
            str(port),
            "--disable-rpc-login",
            "--offline",
            "--wallet-dir",
            str(tmp_path),
            "--log-file",
            str(tmp_path / "wallet-rpc.log"),
            "--non-interactive",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}/json_rpc"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wallet_call(http: aiohttp.ClientSession, url: str, method: str, params: dict[str, Any]) -> Any:
    for _ in range(200):
        try:
            async with http.post(
                url, json={"jsonrpc": "2.0", "id": "0", "method": method, "params": params}
            ) as r:
                reply = json.loads(await r.text())
                assert "error" not in reply, reply
                return reply["result"]
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError("monero-wallet-rpc did not answer")


@contextlib.asynccontextmanager
async def monero_api(redis_client: aioredis.Redis, prefix: str) -> AsyncIterator[ApiParts]:
    async with run_api(
        api_settings(),
        redis=redis_client,
        coin=get_coin("monero"),
        key_prefix=prefix,
        ports=PORTS,
        limits=LIMITS,
        admin_secret=AdminSecret(ADMIN_SECRET),
    ) as parts:
        yield parts


async def test_a_real_monero_wallet_proves_ownership_over_http(
    tmp_path: Path, redis_client: aioredis.Redis, prefix: str, http: aiohttp.ClientSession
) -> None:
    miner = wallet("monero miner", "monero")
    with monero_wallet_rpc(tmp_path) as wallet_url:
        created = await wallet_call(
            http,
            wallet_url,
            "generate_from_keys",
            {
                "filename": "miner",
                "address": miner.address,
                "spendkey": miner.spend_secret.hex(),
                "viewkey": miner.view_secret.hex(),
                "password": "",
                "restore_height": 0,
            },
        )
        assert created["address"] == miner.address
        async with monero_api(redis_client, prefix) as api:
            url = api.url + f"{V1}/miners/{miner.address}/settings"
            status, issued = await post_json(http, url + "/challenge", {"payout_threshold": 10_000})
            assert status == 201
            signed = await wallet_call(http, wallet_url, "sign", {"data": issued["message"]})
            status, body = await post_json(
                http, url, {"challenge": issued["challenge"], "signature": signed["signature"]}
            )
            assert status == 200, body
            assert await PaymentStore(redis_client, prefix).thresholds([miner.address]) == {
                miner.address: 10_000
            }
