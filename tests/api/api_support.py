"""Helpers for the API tests: real pool data written by the real storage code (Store, Ledger, PaymentStore)
and the API served over real HTTP (in the test's loop or in a thread)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import redis.asyncio as aioredis

from athena_pool.api.health import Probe
from athena_pool.api.live import LiveSources, LiveStatsPublisher
from athena_pool.api.logring import RingLogHandler
from athena_pool.api.ownership import curve
from athena_pool.api.ownership.signatures import public_key
from athena_pool.api.server import ApiParts, AppHook, run_api
from athena_pool.api.settings import AdminSecret, ApiSettings, ChartSettings, LongPollSettings, PayoutBounds
from athena_pool.coins.addresses import encode_address
from athena_pool.coins.hashing import cn_fast_hash
from athena_pool.coins.profiles import get_coin
from athena_pool.rpc.wallet import WalletClient
from athena_pool.storage import (
    BlockCandidate,
    NetworkStats,
    RewardType,
    ShareKind,
    ShareRecord,
    Store,
    StoreLimits,
)
from athena_pool.storage.bans_store import BanRecord, BanScope, BanStore
from athena_pool.storage.keys import KeySpace
from athena_pool.storage.ledger import BlockCredit, Ledger
from athena_pool.storage.payment_store import BatchItem, NewBatch, PaymentStore
from athena_pool.stratum.config import PortConfig
from athena_pool.stratum.registry import StratumStats
from athena_pool.web import add_web_routes
from redis_support import RedisServer

ADMIN_SECRET = "test-admin-secret-0123456789abcdef"
XSS_WORKER = "<img src=x onerror=alert(1)>"
COIN = get_coin("athena")
LIMITS = StoreLimits(pplns_max_entries=10_000, hashrate_window_s=3_600, ip_history=8)
PORTS = (
    PortConfig(port=3333, difficulty=100, description="Low end hardware"),
    PortConfig(port=5555, difficulty=5_000, description="High end <b>hardware</b>"),
    PortConfig(port=7777, difficulty=1_000, description="hidden", hidden=True),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def keys_from_seed(seed: bytes) -> tuple[bytes, bytes]:
    """A (spend, view) secret key pair, Monero style (view = Hs(spend))."""
    spend = curve.scalar_bytes(int.from_bytes(cn_fast_hash(seed), "little"))
    view = curve.scalar_bytes(int.from_bytes(cn_fast_hash(spend), "little"))
    return spend, view


@dataclass(frozen=True)
class Wallet:
    spend_secret: bytes
    view_secret: bytes
    address: str

    @property
    def spend_public(self) -> bytes:
        return public_key(self.spend_secret)

    @property
    def view_public(self) -> bytes:
        return public_key(self.view_secret)


def wallet(seed: str, network: str = "athena") -> Wallet:
    spend, view = keys_from_seed(seed.encode())
    return Wallet(spend, view, encode_address(network, public_key(spend), public_key(view)))


@dataclass
class Seeded:
    """What `seed_pool` wrote, for the assertions."""

    alice: Wallet
    bob: Wallet
    solo: Wallet
    pid_account: str
    now_ms: int
    blocks: list[BlockCandidate] = field(default_factory=list)
    unlocked: BlockCandidate | None = None
    orphaned: BlockCandidate | None = None
    credits: dict[str, int] = field(default_factory=dict)
    paid_tx: str = ""
    review_batch: str = ""


def share(
    account: str,
    worker: str,
    difficulty: int,
    time_ms: int,
    *,
    kind: ShareKind = ShareKind.VALID,
    solo: bool = False,
    ip: str = "198.51.100.7",
) -> ShareRecord:
    return ShareRecord(account, worker, difficulty, kind, solo, time_ms, 500, ip)


def block_hash(n: int) -> str:
    return cn_fast_hash(f"block {n}".encode()).hex()


async def seed_pool(client: aioredis.Redis, prefix: str, now_ms: int | None = None) -> Seeded:
    """A small but real pool history, written by the real storage code: shares of three miners (one
    solo, one with a payment id, a worker named like an XSS payload), three blocks (one unlocked and
    credited, one orphaned, one candidate), a finalized payment and a batch left in manual review."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    store = Store(client, prefix, LIMITS)
    seeded = Seeded(wallet("alice"), wallet("bob"), wallet("solo-sam"), "", now)
    seeded.pid_account = f"{seeded.bob.address}.{'ab' * 32}"
    await store.set_network_stats(NetworkStats(510, 900_000, block_hash(509), now // 1000 - 30, now))
    shares = []
    for i in range(40):
        t = now - 300_000 + i * 5_000
        shares.append(share(seeded.alice.address, "rig1", 5_000, t))
        shares.append(share(seeded.alice.address, XSS_WORKER, 2_000, t))
        shares.append(share(seeded.pid_account, "gpu", 3_000, t, ip="203.0.113.9"))
        shares.append(share(seeded.solo.address, "solo-rig", 4_000, t, solo=True))
    shares.append(share(seeded.alice.address, "rig1", 5_000, now - 1_000, kind=ShareKind.LOW_DIFF))
    shares.append(share(seeded.alice.address, "rig1", 5_000, now - 900, kind=ShareKind.INVALID))
    assert await store.record_shares("seed-1", shares[:80])
    first = BlockCandidate(
        500, block_hash(500), 400_000, RewardType.PROP, seeded.alice.address, XSS_WORKER, now - 200_000
    )
    assert await store.add_block_candidate(first)
    assert await store.record_shares("seed-2", shares[80:])
    second = BlockCandidate(
        505, block_hash(505), 450_000, RewardType.SOLO, seeded.solo.address, "solo-rig", now - 100_000
    )
    assert await store.add_block_candidate(second)
    third = BlockCandidate(
        508, block_hash(508), 500_000, RewardType.PROP, seeded.bob.address, "gpu", now - 50_000
    )
    assert await store.add_block_candidate(third)
    seeded.blocks = [first, second, third]
    await _unlock_and_pay(client, prefix, seeded)
    bans = BanStore(client, prefix)
    await bans.add_ban(
        BanRecord(
            BanScope.IP,
            "198.51.100.99",
            reason="socket flood",
            created_ms=now,
            until_ms=now + 3_600_000,
            source="pool-1",
        ),
        now,
    )
    await bans.add_ban(
        BanRecord(
            BanScope.WORKER,
            "198.51.100.7",
            seeded.alice.address,
            XSS_WORKER,
            "invalid shares",
            now,
            now + 600_000,
            "pool-1",
        ),
        now,
    )
    return seeded


async def _unlock_and_pay(client: aioredis.Redis, prefix: str, seeded: Seeded) -> None:
    ledger = Ledger(client, KeySpace(prefix))
    first, second = seeded.blocks[0], seeded.blocks[1]
    credits = {seeded.alice.address: 1_400_000, seeded.pid_account: 500_000}
    credit = BlockCredit(
        first.height, first.hash_hex, "prop", 2_000_000, credits, 99_000, 1_000, 0, 0, seeded.now_ms - 150_000
    )
    assert await ledger.credit_block(credit)
    assert await ledger.orphan_block(
        second.height,
        second.hash_hex,
        reward_type=RewardType.SOLO,
        finder=seeded.solo.address,
        time_ms=seeded.now_ms - 60_000,
    )
    seeded.unlocked, seeded.orphaned, seeded.credits = first, second, credits
    payments = PaymentStore(client, prefix)
    token = "seed-lease"
    assert await payments.acquire_lease(token, 60_000)
    paid = NewBatch(
        "batch-paid",
        (BatchItem(seeded.alice.address, seeded.alice.address, 1_000_000, 10_000),),
        fee=10_000,
        created_ms=seeded.now_ms - 40_000,
    )
    assert await payments.reserve(token, paid) is None
    await payments.mark_submitting(
        token, paid.batch_id, start_height=505, now_ms=seeded.now_ms - 39_000, attempt=1
    )
    seeded.paid_tx = cn_fast_hash(b"payout tx 1").hex()
    await payments.mark_submitted(
        token,
        paid.batch_id,
        tx_hash=seeded.paid_tx,
        real_fee=9_000,
        now_ms=seeded.now_ms - 38_000,
        found_by="reply",
    )
    record = await payments.get_batch(paid.batch_id)
    assert record is not None
    await payments.finalize(token, record, now_ms=seeded.now_ms - 37_000)
    review = NewBatch(
        "batch-review",
        (BatchItem(seeded.pid_account, seeded.bob.address, 300_000, 0),),
        fee=10_000,
        created_ms=seeded.now_ms - 20_000,
        payment_id="ab" * 32,
    )
    assert await payments.reserve(token, review) is None
    await payments.mark_submitting(
        token, review.batch_id, start_height=507, now_ms=seeded.now_ms - 19_000, attempt=1
    )
    await payments.mark_manual_review(
        token, review.batch_id, reason="wallet timed out", now_ms=seeded.now_ms - 18_000
    )
    seeded.review_batch = review.batch_id
    await payments.release_lease(token)


def api_settings(**changes: Any) -> ApiSettings:
    base = ApiSettings(
        host="127.0.0.1",
        port=0,
        update_interval_s=0.2,
        hashrate_window_s=600,
        long_poll=LongPollSettings(max_waiters=50, max_waiters_per_ip=50, timeout_s=5.0),
        charts=ChartSettings(interval_s=0.2, step_s=60, retention_s=3_600, max_workers_per_miner=4),
        payout=PayoutBounds(min_atomic=100, max_atomic=10_000_000, default_atomic=50_000),
    )
    return replace(base, **changes)


def stratum_stats() -> StratumStats:
    return StratumStats(
        connections=3,
        connections_by_port={3333: 2, 5555: 1},
        miners=2,
        workers=3,
        hashrate=1234.5,
        shares={"accepted": 10, "stale": 1, "rejected": 2},
        rejects={"low_difficulty": 2},
        blocks_found=1,
        drops={"idle timeout": 1},
    )


@contextlib.asynccontextmanager
async def served(
    client: aioredis.Redis,
    prefix: str,
    settings: ApiSettings | None = None,
    *,
    publish_live: bool = True,
    secret: str | None = ADMIN_SECRET,
    probes: Mapping[str, Probe] | None = None,
    log_ring: RingLogHandler | None = None,
    wallet: WalletClient | None = None,
    configure_app: AppHook | None = add_web_routes,
) -> AsyncIterator[ApiParts]:
    """The API on a free port over `prefix`'s data, with a live-stats publisher feeding it, and the web
    front-end's routes installed as the real app always has them (`configure_app=None`: the API alone)."""
    async with contextlib.AsyncExitStack() as stack:
        if publish_live:
            sources = LiveSources(
                stratum=stratum_stats, template_age_s=lambda: 1.5, daemon_available=lambda: True
            )
            publisher = LiveStatsPublisher(
                client, prefix, sources, instance_id="test-pool", interval_s=0.1, log_ring=log_ring
            )
            await publisher.publish_once()
            await stack.enter_async_context(publisher)
        parts = await stack.enter_async_context(
            run_api(
                settings or api_settings(),
                redis=client,
                coin=COIN,
                key_prefix=prefix,
                ports=PORTS,
                limits=LIMITS,
                admin_secret=AdminSecret(secret) if secret else None,
                probes=probes,
                log_ring=log_ring,
                wallet=wallet,
                configure_app=configure_app,
            )
        )
        yield parts


class ApiThread:
    """The API (over seeded data) on its own event loop in a thread, for synchronous tests (schemathesis)."""

    def __init__(self, redis_server: RedisServer, prefix: str, settings: ApiSettings) -> None:
        self._redis_server = redis_server
        self._prefix = prefix
        self._settings = settings
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, name="api-thread", daemon=True)
        self.url = ""
        self.seeded: Seeded | None = None
        self.error: BaseException | None = None

    def __enter__(self) -> ApiThread:
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("the API thread did not start")
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        client = self._redis_server.client()
        try:
            self.seeded = await seed_pool(client, self._prefix)
            async with served(client, self._prefix, self._settings) as parts:
                self.url = parts.url
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:
            self.error = exc
            self._ready.set()
        finally:
            await client.aclose()


@contextlib.contextmanager
def api_thread(redis_server: RedisServer, prefix: str, settings: ApiSettings) -> Iterator[ApiThread]:
    with ApiThread(redis_server, prefix, settings) as running:
        yield running
