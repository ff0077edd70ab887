"""The built-in miner against a small stratum server over real TCP, every share re-hashed by the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from mini_pool import Behaviour, MiniPool

from athena_pool.miner import Miner, MinerOptions, MinerStats
from athena_pool.targets import meets

WAIT_SECONDS = 120  # a bound for a stuck test, not a timing expectation


def options(pool: MiniPool, **overrides: object) -> MinerOptions:
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": pool.port,
        "user": "athena-test-login",
        "threads": 2,
        "reconnect_delay": 0.05,
        "max_reconnect_delay": 0.2,
        "report_interval": 0.2,
    }
    settings.update(overrides)
    return MinerOptions(**settings)  # type: ignore[arg-type]


@asynccontextmanager
async def mining(pool: MiniPool, **overrides: object) -> AsyncIterator[Miner]:
    async with Miner(options(pool, **overrides)) as miner:
        yield miner


async def wait_for_pool(pool: MiniPool, predicate: Callable[[MiniPool], bool]) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        await pool.wait_until(predicate)


async def wait_for_miner(miner: Miner, predicate: Callable[[MinerStats], bool]) -> MinerStats:
    async with asyncio.timeout(WAIT_SECONDS):
        return await miner.wait_for(predicate)


async def test_miner_finds_shares_the_pool_verifies() -> None:
    async with MiniPool(difficulty=4) as pool, mining(pool) as miner:
        stats = await wait_for_miner(miner, lambda s: s.accepted >= 3)

    assert len(pool.accepted) >= 3 and not pool.rejected and not pool.violations
    assert all(meets(share.pow_hash, 4) for share in pool.accepted)
    assert stats.rejected == 0 and stats.logins == 1 and stats.hashes > 0
    assert len({share.nonce for share in pool.accepted}) == len(pool.accepted)


async def test_miner_follows_a_job_push() -> None:
    async with MiniPool(difficulty=4) as pool, mining(pool) as miner:
        await wait_for_miner(miner, lambda s: s.accepted >= 1)
        pushed = pool.new_job()
        await pool.push(pushed)
        await wait_for_pool(pool, lambda p: any(share.job_id == pushed.job_id for share in p.accepted))
        assert miner.stats.jobs == 2 and miner.stats.job_id == pushed.job_id
    assert not pool.violations


async def test_wide_targets_are_understood() -> None:
    async with MiniPool(difficulty=4, behaviour=Behaviour(wide_target=True)) as pool, mining(pool) as miner:
        await wait_for_miner(miner, lambda s: s.accepted >= 2)
    assert not pool.rejected and not pool.violations


async def test_miner_reconnects_when_the_pool_drops_it() -> None:
    async with (
        MiniPool(difficulty=4, behaviour=Behaviour(drop_after_shares=1)) as pool,
        mining(pool) as miner,
    ):
        stats = await wait_for_miner(miner, lambda s: s.logins >= 2 and s.accepted >= 2)
        assert stats.disconnects >= 1
    assert pool.logins >= 2 and not pool.violations


async def test_client_reconnect_moves_the_miner() -> None:
    async with MiniPool(difficulty=4) as second:
        first_behaviour = Behaviour(reconnect_to=("127.0.0.1", second.port))
        async with MiniPool(difficulty=4, behaviour=first_behaviour) as first, mining(first) as miner:
            await wait_for_pool(second, lambda p: len(p.accepted) >= 1)
            assert miner.stats.pool == f"127.0.0.1:{second.port}"
            assert first.logins == 1


async def test_refused_login_is_retried_with_backoff() -> None:
    refusal = Behaviour(refuse_login="Invalid payment address provided")
    async with MiniPool(behaviour=refusal) as pool, mining(pool) as miner:
        await wait_for_pool(pool, lambda p: p.login_attempts >= 3)
        assert miner.stats.logins == 0
        assert "Invalid payment address provided" in miner.stats.last_error


async def test_ordinary_rejects_are_counted_and_keep_the_connection() -> None:
    rejecting = Behaviour(reject_with="Low difficulty share")
    async with MiniPool(difficulty=4, behaviour=rejecting) as pool, mining(pool) as miner:
        stats = await wait_for_miner(miner, lambda s: s.rejected >= 2)
        assert stats.logins == 1 and stats.accepted == 0
        assert stats.last_reject == "Low difficulty share"


async def test_fatal_reject_makes_the_miner_reconnect() -> None:
    async with (
        MiniPool(difficulty=4, behaviour=Behaviour(reject_with="Invalid job id")) as pool,
        mining(pool) as miner,
    ):
        await wait_for_miner(miner, lambda s: s.logins >= 2)


async def test_duplicate_job_makes_the_miner_reconnect() -> None:
    async with MiniPool(difficulty=10_000) as pool, mining(pool, threads=1) as miner:
        await wait_for_miner(miner, lambda s: s.logins >= 1)
        job = pool.new_job()
        await pool.push(job)
        await pool.push(job)  # xmrig: "duplicate job received, reconnect"
        await wait_for_miner(miner, lambda s: s.logins >= 2)
        assert "duplicate job" in miner.stats.last_error


async def test_reporter_prints_figures() -> None:
    lines: list[str] = []
    async with MiniPool(difficulty=4) as pool, Miner(options(pool), reporter=lines.append) as miner:
        await wait_for_miner(miner, lambda s: s.accepted >= 1 and len(lines) >= 2)
    assert "H/s" in lines[-1] and "accepted" in lines[-1]
