"""`BlockUnlocker`: every `interval` seconds, settles the block candidates whose fate the daemon has decided.

One pass: ask the daemon whether it is synced; then, for each candidate by height, fetch the main-chain
header at its height and apply `classify` (see there for the rule). An unlocked block is credited with
the reward from that header, never a guessed one; an orphaned one gives its round back. Each is one
guarded Lua script (`storage.Ledger`), so a pass that dies anywhere (a crash, a daemon or Redis error)
has applied whole blocks or nothing, and the next pass simply goes on: nothing is credited twice.

Daemon or Redis trouble ends the pass; it is logged once when it starts and once when it is over, and the
next interval tries again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from athena_pool.coins.profiles import Coin
from athena_pool.rpc.daemon import BlockHeader, DaemonClient
from athena_pool.rpc.errors import RpcError, RpcFailure
from athena_pool.storage import BlockRecord, Store
from athena_pool.storage.keys import block_member
from athena_pool.storage.ledger import BlockCredit, Ledger
from athena_pool.unlocker.classify import Depths, Verdict, classify
from athena_pool.unlocker.config import UnlockerSettings, UnlockRules
from athena_pool.unlocker.payouts import plan_credit

log = logging.getLogger("athena_pool.unlocker")

# CORE_RPC_ERROR_CODE_TOO_BIG_HEIGHT, the same in Bytecoin/TurtleCoin daemons and monerod.
TOO_BIG_HEIGHT = -2


class DaemonBehindError(RpcFailure):
    """The daemon is still syncing: its view of the chain is not one to settle blocks on."""


class DaemonAnswerError(RpcFailure):
    """The daemon answered a different question than the one asked."""


@dataclass(frozen=True, slots=True)
class PassReport:
    unlocked: tuple[str, ...] = ()  # block members ("{height}:{hash}") credited in this pass
    orphaned: tuple[str, ...] = ()
    waiting: int = 0  # candidates left for a later pass
    error: str | None = None  # why the pass stopped early, if it did


@dataclass
class UnlockerStats:
    """For metrics and the console. Counts are of this process; the ledger has the all-time counts."""

    passes: int = 0
    failed_passes: int = 0
    unlocked: int = 0
    orphaned: int = 0
    candidates: int = 0  # waiting after the last pass
    last_run_ms: int = 0
    last_ok_ms: int = 0
    last_error: str | None = None
    block_errors: int = 0  # candidates skipped because of a problem with that block alone
    short_windows: int = 0  # PPLNS blocks credited on less share difficulty than their window


@dataclass
class _Pass:
    unlocked: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    waiting: int = 0


def create_unlocker(
    *,
    redis: aioredis.Redis,
    store: Store,
    daemon: DaemonClient,
    coin: Coin,
    settings: UnlockerSettings,
    clock: Callable[[], float] = time.time,
) -> BlockUnlocker:
    """The unlocker for `coin`, on the Redis client and `Store` the pool already has."""
    ledger = Ledger(redis, store.keys, credit_history=settings.credit_history)
    rules = UnlockRules.for_coin(settings, coin)
    return BlockUnlocker(store=store, ledger=ledger, daemon=daemon, rules=rules, clock=clock)


class BlockUnlocker:
    def __init__(
        self,
        *,
        store: Store,
        ledger: Ledger,
        daemon: DaemonClient,
        rules: UnlockRules,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._daemon = daemon
        self.rules = rules
        self._depths = Depths(unlock=rules.unlock_depth, orphan=rules.orphan_depth)
        self._clock = clock
        self.stats = UnlockerStats()
        self._failing = False
        self._block_errors: set[str] = set()  # blocks whose last attempt failed (already logged)

    async def run(self) -> None:
        """Runs a pass every `rules.interval` seconds until cancelled."""
        log.info(
            "block unlocker: %s, unlock depth %d, orphan depth %d, every %g s",
            self.rules.scheme.value, self._depths.unlock, self._depths.orphan, self.rules.interval,
        )  # fmt: skip
        while True:
            await self.run_once()
            await asyncio.sleep(self.rules.interval)

    async def run_once(self) -> PassReport:
        """One pass over the candidates. Never raises for daemon or Redis trouble: it reports it."""
        progress = _Pass()
        started_ms = self._now_ms()
        error: str | None = None
        try:
            await self._settle_all(progress)
        except (RpcFailure, RedisError, OSError) as exc:
            error = _describe(exc)
            self._note_failure(error)
        except Exception as exc:  # a bug or corrupt data: the unlocker stays up, and says so loudly
            error = _describe(exc)
            self._note_failure(error, unexpected=True)
        else:
            self._note_success()
        report = PassReport(tuple(progress.unlocked), tuple(progress.orphaned), progress.waiting, error)
        await self._record(report, started_ms)
        return report

    async def _settle_all(self, progress: _Pass) -> None:
        info = await self._daemon.get_info()
        if info.height < info.target_height:
            raise DaemonBehindError(f"daemon still syncing ({info.height} of {info.target_height} blocks)")
        candidates = await self._store.block_candidates()
        progress.waiting = len(candidates)
        self._block_errors &= {_member(block) for block in candidates}  # forget blocks settled since
        for block in candidates:
            member = _member(block)
            try:
                verdict, applied = await self._settle(block, chain_length=info.height)
            except ResponseError as exc:  # Redis refused this block's script (a corrupt key): skip it
                self._note_block_error(member, exc)
                continue
            except (RpcFailure, RedisError, OSError):
                raise
            except Exception as exc:  # one bad record must not hold back the others
                self._note_block_error(member, exc)
                continue
            self._block_errors.discard(member)
            if verdict is not Verdict.WAIT:
                progress.waiting -= 1
            if applied:  # not applied: another unlocker got there first
                (progress.unlocked if verdict is Verdict.UNLOCK else progress.orphaned).append(member)

    async def _settle(self, block: BlockRecord, *, chain_length: int) -> tuple[Verdict, bool]:
        """The verdict, and whether this call applied it."""
        c = block.candidate
        header = await self._header_at(c.height, chain_length)
        verdict = classify(c.hash_hex, header, self._depths)
        if verdict is Verdict.UNLOCK and header is not None:
            return verdict, await self._unlock(block, header)
        if verdict is Verdict.ORPHAN:
            return verdict, await self._orphan(block, header)
        return Verdict.WAIT, False

    async def _header_at(self, height: int, chain_length: int) -> BlockHeader | None:
        if height >= chain_length:
            return None
        try:
            header = await self._daemon.get_block_header_by_height(height)
        except RpcError as exc:
            if exc.code == TOO_BIG_HEIGHT:  # the chain got shorter since get_info
                return None
            raise
        if header.height != height:
            raise DaemonAnswerError(f"asked for the header at {height}, got one at {header.height}")
        return header

    async def _unlock(self, block: BlockRecord, header: BlockHeader) -> bool:
        credit = await plan_credit(self._store, block, header.reward_atomic, self.rules, self._now_ms())
        if not await self._ledger.credit_block(credit):
            return False
        self.stats.unlocked += 1
        log.info(
            "block %s unlocked: reward %d, %d addresses credited %d, pool kept %d (%s)",
            _member(block), credit.reward_atomic, len(credit.credits), credit.credited_atomic,
            credit.fee_atomic + credit.remainder_atomic, credit.scheme,
        )  # fmt: skip
        self._warn_if_short(block, credit)
        return True

    def _warn_if_short(self, block: BlockRecord, credit: BlockCredit) -> None:
        """A PPLNS window that found less share difficulty than factor x network difficulty: the pool is
        young, or the share stream's cap trimmed shares the window needed (see UnlockerSettings)."""
        window, shares = credit.details.get("pplns_window"), credit.details.get("pplns_shares")
        if window is None or shares is None or int(shares) >= int(window):
            return
        self.stats.short_windows += 1
        log.warning(
            "block %s: its PPLNS window came up short, %s of %s share difficulty (factor %s x network "
            "difficulty %d). Either the pool has not recorded that much yet, or the share stream's cap "
            "(redis.limits.pplns_max_entries, %d shares) dropped shares the window needed: the cap must "
            "hold factor x network difficulty / the smallest share difficulty, plus an unlock depth",
            _member(block), shares, window, self.rules.pplns_factor, block.candidate.network_difficulty,
            self._store.limits.pplns_max_entries,
        )  # fmt: skip

    async def _orphan(self, block: BlockRecord, header: BlockHeader | None) -> bool:
        c = block.candidate
        orphaned = await self._ledger.orphan_block(
            c.height, c.hash_hex, reward_type=c.reward_type, finder=c.finder_address, time_ms=self._now_ms()
        )
        if orphaned:
            self.stats.orphaned += 1
            rival = header.hash_hex if header else "none"
            log.warning("block %s orphaned (the chain holds %s there); its round goes back", _member(block),
                        rival)  # fmt: skip
        return orphaned

    def _note_failure(self, error: str, *, unexpected: bool = False) -> None:
        self.stats.failed_passes += 1
        self.stats.last_error = error
        if self._failing:
            log.debug("block unlocker still failing: %s", error)
        elif unexpected:
            log.exception("block unlocker pass failed; retrying every %g s", self.rules.interval)
        else:
            log.warning("block unlocker: %s; retrying every %g s", error, self.rules.interval)
        self._failing = True

    def _note_block_error(self, member: str, exc: Exception) -> None:
        """A problem with one block: logged with its traceback once, while it lasts; the others go on."""
        self.stats.block_errors += 1
        if member in self._block_errors:
            log.debug("block %s still cannot be settled: %s", member, _describe(exc))
            return
        self._block_errors.add(member)
        log.error("block %s cannot be settled; skipped until it can", member, exc_info=exc)

    def _note_success(self) -> None:
        if self._failing:
            log.info("block unlocker working again")
        self._failing = False
        self.stats.last_error = None

    async def _record(self, report: PassReport, started_ms: int) -> None:
        stats = self.stats
        stats.passes += 1
        stats.candidates = report.waiting
        stats.last_run_ms = started_ms
        if report.error is None:
            stats.last_ok_ms = started_ms
        status = {
            "last_run_ms": str(stats.last_run_ms),
            "last_ok_ms": str(stats.last_ok_ms),
            "candidates": str(stats.candidates),
            "last_error": stats.last_error or "",
        }
        try:
            await self._ledger.write_unlocker_status(status)
        except (RedisError, OSError) as exc:
            log.debug("unlocker status not written: %s", exc)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _member(block: BlockRecord) -> str:
    return block_member(block.candidate.height, block.candidate.hash_hex)
