"""Live figures on the console: what an operator glances at while the pool runs."""

from __future__ import annotations

import asyncio
import logging

from athena_pool.jobs.contracts import NoTemplateError
from athena_pool.supervisor import RunningPool

log = logging.getLogger("athena_pool.console")


def format_hashrate(rate: float) -> str:
    for unit in ("H/s", "kH/s", "MH/s", "GH/s"):
        if rate < 1000:
            return f"{rate:.1f} {unit}"
        rate /= 1000
    return f"{rate:.1f} TH/s"


def status_line(pool: RunningPool) -> str:
    stats = pool.stratum.stats()
    try:
        template = pool.jobs.current_template()
        network = f"height {template.height} diff {template.difficulty}"
    except NoTemplateError as exc:
        network = f"no template ({exc})"
    shares = stats.shares
    parts = [
        network,
        f"miners {stats.miners} workers {stats.workers} connections {stats.connections}",
        f"pool {format_hashrate(stats.hashrate)}",
        f"shares ok {shares.get('accepted', 0) + shares.get('block', 0)} stale {shares.get('stale', 0)}"
        f" rejected {shares.get('rejected', 0)}",
        f"blocks found {stats.blocks_found}",
    ]
    recorder = pool.recorder.stats
    if recorder.pending_shares or not recorder.redis_available:
        parts.append(
            f"unsaved shares {recorder.pending_shares}"
            + ("" if recorder.redis_available else " (Redis down)")
        )
    if pool.miner is not None:
        parts.append(f"demo miner {format_hashrate(pool.miner.hashrate())}")
    return " | ".join(parts)


async def report_forever(pool: RunningPool, interval: float) -> None:
    """One status line every `interval` seconds."""
    while True:
        await asyncio.sleep(interval)
        log.info("%s", status_line(pool))
