"""The payment processor as a process of its own, for the crash tests: the test SIGKILLs it.

    python payments_crash_child.py '<json>'

The JSON names Redis, the coin prefix, the walletd URL and password, the payment settings, and optionally
`crash_step` and `crash_after`: the process SIGKILLs itself right after the `crash_after`-th time that
durable step is reached (exactly there, no timing involved). The parent may also kill it at random times.

It runs passes until one finds nothing to do (exit 0) or a batch's fate is too early to tell (exit 3: the
chain must move on first). A pass skipped because a killed predecessor's lease has not expired yet is
simply retried.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

import redis.asyncio as aioredis

from athena_pool.coins.profiles import get_coin
from athena_pool.payments.processor import PaymentProcessor
from athena_pool.payments.report import PassReport
from athena_pool.payments.settings import PaymentSettings, WalletSettings
from athena_pool.storage.payment_store import PaymentStore

IDLE, BLOCKED, TOO_MANY_PASSES = 0, 3, 4
MAX_PASSES = 200
RETRY_SECONDS = 0.2


class CrashAt:
    def __init__(self, step: str | None, after: int) -> None:
        self.step = step
        self.after = after
        self.seen = 0

    async def __call__(self, step: str, batch_id: str) -> None:
        if step != self.step:
            return
        self.seen += 1
        if self.seen == self.after:
            print(json.dumps({"crash": step, "batch": batch_id}), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


def report_line(report: PassReport) -> str:
    return json.dumps(
        {
            "skipped": report.skipped,
            "paid": [p.batch_id for p in report.paid],
            "found_by": [p.found_by for p in report.paid],
            "released": report.released,
            "unresolved": report.unresolved,
            "manual_review": report.manual_review,
            "error": report.error,
        }
    )


def is_idle(report: PassReport) -> bool:
    busy = report.paid or report.released or report.refused or report.skipped or report.error
    return not busy and not report.blocked


async def main(config: dict[str, Any]) -> int:
    client = aioredis.from_url(config["redis_url"], socket_timeout=5)
    wallet_settings = WalletSettings(**config["wallet"])
    settings = PaymentSettings(**config["settings"], wallet=wallet_settings)
    wallet = wallet_settings.create_client()
    hook = CrashAt(config.get("crash_step"), int(config.get("crash_after", 1)))
    processor = PaymentProcessor(PaymentStore(client, config["prefix"]), wallet, get_coin("athena"), settings,
                                 on_step=hook)  # fmt: skip
    print(json.dumps({"ready": True}), flush=True)  # imports done, connections set up: work starts now
    try:
        for _ in range(MAX_PASSES):
            report = await processor.run_once()
            print(report_line(report), flush=True)
            if is_idle(report):
                return IDLE
            if report.blocked:
                return BLOCKED
            if report.skipped or report.error:
                await asyncio.sleep(RETRY_SECONDS)
        return TOO_MANY_PASSES
    finally:
        await wallet.close()
        await client.aclose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(json.loads(sys.argv[1]))))
