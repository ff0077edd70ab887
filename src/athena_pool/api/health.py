"""`ServiceMonitor`: probes the coin daemon and the wallet on an interval and records the outcome (and
the RPC latency) in Redis for the API, the admin page and the metrics.

A probe is any `async () -> mapping | None`; `daemon_probe` and `wallet_probe` build the usual ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

from athena_pool.api.periodic import Periodic
from athena_pool.rpc.daemon import DaemonClient
from athena_pool.rpc.wallet import WalletClient
from athena_pool.storage.api_store import ApiStore

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[Mapping[str, Any] | None]]
MAX_ERROR_CHARS = 300


def daemon_probe(daemon: DaemonClient) -> Probe:
    """The daemon's last block header: also what `/stats` shows as `lastblock`."""

    async def probe() -> Mapping[str, Any]:
        header = await daemon.get_last_block_header()
        return {
            "height": header.height,
            "hash": header.hash_hex,
            "difficulty": header.difficulty,
            "timestamp": header.timestamp,
            "reward": header.reward_atomic,
        }

    return probe


def wallet_probe(wallet: WalletClient) -> Probe:
    async def probe() -> Mapping[str, Any]:
        balance = await wallet.get_balance()
        return {"unlocked": balance.unlocked, "locked": balance.locked}

    return probe


class ServiceMonitor:
    def __init__(
        self,
        store: ApiStore,
        probes: Mapping[str, Probe],
        *,
        interval_s: float,
        timeout_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._probes = dict(probes)
        self._interval = interval_s
        self._timeout = timeout_s
        self._clock = clock
        self._last: dict[str, dict[str, Any]] = {}
        self._loop = Periodic("service-monitor", interval_s, self.check_all)

    async def check_all(self) -> dict[str, dict[str, Any]]:
        results = await asyncio.gather(*(self._check(name, probe) for name, probe in self._probes.items()))
        return dict(zip(self._probes, results, strict=True))

    async def _check(self, name: str, probe: Probe) -> dict[str, Any]:
        started = time.perf_counter()
        now_ms = int(self._clock() * 1000)
        previous = self._last.get(name, {})
        status: dict[str, Any] = {
            "checked_ms": now_ms,
            "last_ok_ms": previous.get("last_ok_ms"),
            "last_fail_ms": previous.get("last_fail_ms"),
        }
        try:
            async with asyncio.timeout(self._timeout):
                info = await probe()
            status.update(ok=True, error=None, info=dict(info or {}), last_ok_ms=now_ms)
        except Exception as exc:  # any failure is the service's state, recorded, never raised
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
            status.update(ok=False, error=error, info=previous.get("info", {}), last_fail_ms=now_ms)
        status["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
        self._last[name] = status
        try:
            await self._store.write_status(name, status)
        except Exception as exc:
            log.debug("cannot record %s status: %s", name, exc)
        return status

    async def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.close()

    async def __aenter__(self) -> ServiceMonitor:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
