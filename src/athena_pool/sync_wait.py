"""Before serving: wait for a daemon (and a wallet) that is still syncing, and say how far it is.

A daemon's first sync takes hours, and while it lasts the daemon either does not answer or answers with
a chain that is behind. `wait_until_synced` polls `getinfo` (height and the network's height) every
`poll_interval` seconds and logs one progress line every `progress_interval` seconds:

    waiting for the daemon to sync: height 412000 of 1043211 (39.5 %), 52.3 blocks/s, about 3 h 21 min left

then, with a wallet, the wallet's own status (walletd `getStatus`, monero-wallet-rpc `refresh`) against the
daemon's height. It returns once both are synced; cancel it to give up (the runner does, on SIGTERM).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from athena_pool.rpc.daemon import DaemonInfo
from athena_pool.rpc.errors import RpcFailure
from athena_pool.rpc.wallet import WalletSync

LOG = logging.getLogger("athena_pool.sync")


class DaemonStatus(Protocol):
    """The part of `DaemonClient` this module uses."""

    async def get_info(self) -> DaemonInfo: ...


class WalletStatus(Protocol):
    """The part of `WalletClient` this module uses."""

    async def sync(self) -> WalletSync: ...


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class SyncWaitSettings:
    """`enabled` False: serve at once (templates from a syncing daemon are refused by the network)."""

    enabled: bool = True
    poll_interval: float = 5.0  # seconds between two polls
    progress_interval: float = 30.0  # seconds between two progress lines

    def __post_init__(self) -> None:
        if self.poll_interval <= 0 or self.progress_interval <= 0:
            raise ValueError("poll_interval and progress_interval must be positive")


@dataclass(frozen=True)
class SyncedState:
    daemon_height: int
    wallet_height: int | None  # None when no wallet was waited for
    waited_seconds: float


@dataclass(frozen=True)
class Progress:
    height: int
    target: int  # 0 when unknown

    @property
    def percent(self) -> float | None:
        if self.target <= 0:
            return None
        return min(100.0, 100.0 * self.height / self.target)

    def describe(self) -> str:
        percent = self.percent
        if percent is None:
            return f"height {self.height}, network height not known yet (no peers?)"
        return f"height {self.height} of {self.target} ({percent:.1f} %)"


class _Reporter:
    """One line at the first poll, then at most one every `interval` seconds; speed and time left."""

    def __init__(self, what: str, log: logging.Logger, interval: float, clock: Clock) -> None:
        self._what = what
        self._log = log
        self._interval = interval
        self._clock = clock
        self._last_line: float | None = None
        self._first: tuple[float, int] | None = None  # (time, height) of the first progress seen

    def progress(self, progress: Progress) -> None:
        now = self._clock()
        if self._first is None:
            self._first = (now, progress.height)
        if not self._due(now):
            return
        self._log.info(
            "waiting for the %s to sync: %s%s", self._what, progress.describe(), self._speed(now, progress)
        )

    def unavailable(self, problem: str) -> None:
        if self._due(self._clock()):
            self._log.warning("waiting for the %s: %s", self._what, problem)

    def _due(self, now: float) -> bool:
        if self._last_line is not None and now - self._last_line < self._interval:
            return False
        self._last_line = now
        return True

    def _speed(self, now: float, progress: Progress) -> str:
        if self._first is None:
            return ""
        started, first_height = self._first
        elapsed, gained = now - started, progress.height - first_height
        if elapsed <= 0 or gained <= 0:
            return ""
        rate = gained / elapsed
        text = f", {rate:.1f} blocks/s"
        if progress.target > progress.height:
            text += f", about {_duration((progress.target - progress.height) / rate)} left"
        return text


async def wait_until_synced(
    daemon: DaemonStatus,
    wallet: WalletStatus | None = None,
    *,
    log: logging.Logger = LOG,
    settings: SyncWaitSettings | None = None,
    daemon_name: str = "daemon",
    wallet_name: str = "wallet",
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> SyncedState:
    """Return once the daemon (and the wallet, if given) is synced; log progress while waiting."""
    settings = settings or SyncWaitSettings()
    started = clock()
    info = await _wait_for_daemon(daemon, log, settings, daemon_name, clock, sleep)
    wallet_height = None
    if wallet is not None:
        wallet_height = (
            await _wait_for_wallet(wallet, daemon, info, log, settings, wallet_name, clock, sleep)
        ).height
    return SyncedState(info.height, wallet_height, clock() - started)


async def _wait_for_daemon(
    daemon: DaemonStatus,
    log: logging.Logger,
    settings: SyncWaitSettings,
    name: str,
    clock: Clock,
    sleep: Sleep,
) -> DaemonInfo:
    reporter = _Reporter(name, log, settings.progress_interval, clock)
    waited = False
    while True:
        try:
            info = await daemon.get_info()
        except RpcFailure as exc:
            reporter.unavailable(f"no usable answer yet ({exc})")
        else:
            if info.synced:
                log.log(
                    logging.INFO if waited else logging.DEBUG, "%s synced at height %d", name, info.height
                )
                return info
            reporter.progress(
                Progress(info.height, info.target_height if info.target_height > info.height else 0)
            )
        waited = True
        await sleep(settings.poll_interval)


async def _wait_for_wallet(
    wallet: WalletStatus,
    daemon: DaemonStatus,
    info: DaemonInfo,
    log: logging.Logger,
    settings: SyncWaitSettings,
    name: str,
    clock: Clock,
    sleep: Sleep,
) -> WalletSync:
    reporter = _Reporter(name, log, settings.progress_interval, clock)
    target = info.height
    waited = False
    while True:
        try:
            state = await wallet.sync()
        except RpcFailure as exc:
            reporter.unavailable(f"no usable answer yet ({exc})")
        else:
            if state.synced:
                log.log(
                    logging.INFO if waited else logging.DEBUG, "%s synced at height %d", name, state.height
                )
                return state
            target = await _daemon_height(daemon, target)
            reporter.progress(Progress(state.height, max(target, state.height)))
        waited = True
        await sleep(settings.poll_interval)


async def _daemon_height(daemon: DaemonStatus, last_known: int) -> int:
    try:
        return (await daemon.get_info()).height
    except RpcFailure:
        return last_known


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
