"""One unlocker pass in a process of its own, for the crash test (which SIGKILLs it at random moments).

    python unlocker_process.py REDIS_URL COIN_PREFIX DAEMON_URL SCHEME

Prints "started" just before the pass begins and "done" when it has ended; exits 0 after a clean pass,
3 if the pass reported daemon or Redis trouble. The rules are the crash test's (`CRASH_POLICY`).
"""

from __future__ import annotations

import asyncio
import sys
from fractions import Fraction

import redis.asyncio as aioredis

from athena_pool.payments.schemes import Donation, RewardPolicy, SchemeName, percent
from athena_pool.rpc import JsonRpcClient, TurtleDaemonClient
from athena_pool.storage import Store
from athena_pool.storage.ledger import Ledger
from athena_pool.unlocker import BlockUnlocker, UnlockRules

DEV_ADDRESS = "dev:donation"  # storage treats addresses as opaque text; the devnet never sees this one
CRASH_POLICY = RewardPolicy(
    pool_fee=percent(1), finder_reward=percent("0.5"), donation=Donation(DEV_ADDRESS, percent("0.25"))
)
PPLNS_FACTOR = Fraction(500)  # network difficulty 8: a window of 4000 difficulty


def crash_rules(scheme: SchemeName) -> UnlockRules:
    return UnlockRules(
        interval=1.0,
        scheme=scheme,
        pplns_factor=PPLNS_FACTOR,
        unlock_depth=4,
        orphan_depth=4,
        policy=CRASH_POLICY,
    )


async def main(redis_url: str, prefix: str, daemon_url: str, scheme: str) -> int:
    client = aioredis.from_url(redis_url)
    try:
        store = Store(client, prefix)
        ledger = Ledger(client, store.keys)
        async with JsonRpcClient(daemon_url, timeout=10) as rpc:
            unlocker = BlockUnlocker(
                store=store,
                ledger=ledger,
                daemon=TurtleDaemonClient(rpc),
                rules=crash_rules(SchemeName(scheme)),
            )
            print("started", flush=True)
            report = await unlocker.run_once()
            print(
                "done", len(report.unlocked), len(report.orphaned), report.waiting, report.error, flush=True
            )
            return 0 if report.error is None else 3
    finally:
        await client.aclose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:5])))
