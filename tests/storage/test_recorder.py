"""ShareRecorder against real redis-server processes that go away and come back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from storage_support import Expected, share, share_stream, wait_until

from athena_pool.storage import BlockCandidate, RewardType, ShareRecord, Store
from athena_pool.storage.ops import CandidateOp, ShareBatch, decode_op
from athena_pool.storage.recorder import LOGGER_NAME, RecorderSettings, ShareRecorder
from athena_pool.storage.spill import SpillFileLockedError
from redis_support import RedisServer

FAST = RecorderSettings(
    batch_max_shares=20,
    batch_interval_s=0.01,
    retry_initial_s=0.01,
    retry_max_s=0.1,
    write_timeout_s=5.0,
)
CANDIDATE = BlockCandidate(500, "5a" * 32, 10**9, RewardType.PROP, "alice", "rig1", 1_700_000_001_000)
BEFORE = (
    share("alice", difficulty=100),
    share("bob:1", difficulty=50),
    share("carol", difficulty=7, solo=True),
)
AFTER = (share("alice", difficulty=1), share("dave", difficulty=2))


async def submit_gradually(recorder: ShareRecorder, shares: Sequence[ShareRecord]) -> None:
    """Submits like a stratum server would: a few shares, then the loop runs other work."""
    for i, s in enumerate(shares):
        recorder.submit(s)
        if i % 25 == 24:
            await asyncio.sleep(0.001)


def spilled_shares(path: Path) -> list[ShareRecord]:
    ops = [decode_op(line) for line in path.read_bytes().splitlines()]
    return [s for op in ops if isinstance(op, ShareBatch) for s in op.shares]


async def check_candidate_closed_the_round_between(store: Store) -> None:
    assert await store.block_round_shares(CANDIDATE.height, CANDIDATE.hash_hex) == {"alice": 100, "bob:1": 50}
    assert await store.round_shares(RewardType.PROP) == {"alice": 1, "dave": 2}
    assert await store.round_shares(RewardType.SOLO, "carol") == {"carol": 7}


async def test_shares_are_batched_by_size_and_flushed(store: Store, tmp_path: Path) -> None:
    settings = replace(FAST, batch_max_shares=3, batch_interval_s=3600)
    shares = share_stream(7, seed=3)
    async with ShareRecorder(store, tmp_path / "spill.jsonl", settings) as recorder:
        for s in shares:
            recorder.submit(s)
        await wait_until(lambda: recorder.stats.ops_written == 2, "the two full batches")
        assert recorder.stats.pending_shares == 1

        assert await recorder.flush(timeout_s=30)

        assert (recorder.stats.ops_written, recorder.stats.pending_shares) == (3, 0)
    await Expected.of(shares).check(store)


async def test_candidate_closes_the_round_of_the_shares_submitted_before_it(
    store: Store, tmp_path: Path
) -> None:
    settings = replace(FAST, batch_interval_s=3600)
    async with ShareRecorder(store, tmp_path / "spill.jsonl", settings) as recorder:
        for s in BEFORE:
            recorder.submit(s)
        await recorder.add_block_candidate(CANDIDATE)
        for s in AFTER:
            recorder.submit(s)
        assert await recorder.flush(timeout_s=30)

    await check_candidate_closed_the_round_between(store)
    assert (tmp_path / "spill.jsonl").stat().st_size == 0


class LostReplies:
    """Writes that reach Redis but whose replies are lost, as when a connection drops after Redis ran the
    script: the recorder sees an error and must retry without counting anything twice."""

    def __init__(self, store: Store, lose: int) -> None:
        self._store = store
        self._left_to_lose = lose

    async def record_shares(self, batch_id: str, shares: Sequence[ShareRecord]) -> bool:
        return self._maybe_lose(await self._store.record_shares(batch_id, shares))

    async def add_block_candidate(self, candidate: BlockCandidate) -> bool:
        return self._maybe_lose(await self._store.add_block_candidate(candidate))

    def _maybe_lose(self, applied: bool) -> bool:
        if self._left_to_lose > 0:
            self._left_to_lose -= 1
            raise redis.ConnectionError("connection lost before the reply")
        return applied


async def test_writes_whose_reply_was_lost_count_once(store: Store, tmp_path: Path) -> None:
    sink = LostReplies(store, lose=4)
    settings = replace(FAST, batch_max_shares=2, batch_interval_s=3600)
    async with ShareRecorder(sink, tmp_path / "spill.jsonl", settings) as recorder:
        for s in BEFORE:
            recorder.submit(s)
        await recorder.add_block_candidate(CANDIDATE)
        for s in AFTER:
            recorder.submit(s)
        assert await recorder.flush(timeout_s=30)
        assert recorder.stats.failures == 4

    await check_candidate_closed_the_round_between(store)
    alice = await store.miner_stats("alice")
    assert alice is not None
    assert alice.counts.accepted == 2


@pytest.mark.parametrize("memory_limit", [100_000, 30], ids=["in-memory", "spilling"])
@pytest.mark.parametrize("stop", ["shutdown", "kill"])
async def test_every_acknowledged_share_counts_once_across_a_redis_restart(
    persistent_redis: RedisServer,
    coin_prefix: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    stop: str,
    memory_limit: int,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    shares = share_stream(3000, seed=1)
    client = persistent_redis.client()
    store = Store(client, coin_prefix)
    settings = replace(FAST, memory_limit_shares=memory_limit)
    recorder = ShareRecorder(store, tmp_path / "spill.jsonl", settings)
    await recorder.start()
    try:
        await submit_gradually(recorder, shares[:1000])
        await wait_until(lambda: recorder.stats.ops_written > 0, "a first write")
        await asyncio.to_thread(getattr(persistent_redis, stop))
        await submit_gradually(recorder, shares[1000:2000])
        await wait_until(lambda: recorder.stats.failures >= 4, "a few retries against the stopped Redis")
        await asyncio.to_thread(persistent_redis.start)
        await submit_gradually(recorder, shares[2000:])

        assert await recorder.flush(timeout_s=60)

        assert recorder.stats.redis_available
        await Expected.of(shares).check(store)
    finally:
        await recorder.close()
        await client.aclose()
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER_NAME]
    assert len([m for m in messages if m.startswith("Redis unavailable")]) == 1
    assert len([m for m in messages if m.startswith("Redis available again")]) == 1
    assert any("spilling to" in m for m in messages) == (memory_limit < len(shares))


async def test_spilled_shares_replay_after_a_recorder_restart(
    stopped_redis: RedisServer, coin_prefix: str, tmp_path: Path
) -> None:
    settings = replace(FAST, memory_limit_shares=50, batch_max_shares=10)
    shares = share_stream(600, seed=2)
    spill_path = tmp_path / "spill.jsonl"
    client = stopped_redis.client()
    store = Store(client, coin_prefix)
    try:
        first = ShareRecorder(store, spill_path, settings)
        await first.start()
        await submit_gradually(first, shares)
        assert not await first.flush(timeout_s=0.2)  # Redis is not there
        stats = first.stats
        assert (stats.pending_shares, stats.redis_available) == (600, False)
        assert stats.spilled_ops > 0 and stats.failures > 0
        assert not await first.close(timeout_s=0.1)
        # Everything the first recorder held is on disk now, in the order it was submitted.
        assert spilled_shares(spill_path) == shares

        await asyncio.to_thread(stopped_redis.start)
        second = ShareRecorder(store, spill_path, settings)
        await second.start()
        assert second.stats.pending_shares == 600
        assert await second.flush(timeout_s=60)
        assert await second.close()

        await Expected.of(shares).check(store)
        assert spill_path.stat().st_size == 0
    finally:
        await client.aclose()


async def test_a_candidate_found_while_redis_is_down_keeps_its_place(
    stopped_redis: RedisServer, coin_prefix: str, tmp_path: Path
) -> None:
    spill_path = tmp_path / "spill.jsonl"
    client = stopped_redis.client()
    store = Store(client, coin_prefix)
    try:
        first = ShareRecorder(store, spill_path, FAST)
        await first.start()
        for s in BEFORE:
            first.submit(s)
        await first.add_block_candidate(CANDIDATE)  # returns although Redis is away: it is on disk
        assert CandidateOp(CANDIDATE) in [decode_op(line) for line in spill_path.read_bytes().splitlines()]
        for s in AFTER:
            first.submit(s)
        await first.close(timeout_s=0.1)

        await asyncio.to_thread(stopped_redis.start)
        async with ShareRecorder(store, spill_path, FAST) as second:
            assert await second.flush(timeout_s=60)

        await check_candidate_closed_the_round_between(store)
        block = await store.get_block(CANDIDATE.height, CANDIDATE.hash_hex)
        assert block is not None
        assert block.round_shares == 150
    finally:
        await client.aclose()


async def test_what_a_crash_leaves_replays_the_candidate_once(
    stopped_redis: RedisServer, coin_prefix: str, tmp_path: Path
) -> None:
    spill_path, crash_copy = tmp_path / "spill.jsonl", tmp_path / "crashed.jsonl"
    client = stopped_redis.client()
    store = Store(client, coin_prefix)
    try:
        first = ShareRecorder(store, spill_path, FAST)
        await first.start()
        for s in BEFORE:
            first.submit(s)
        await first.add_block_candidate(CANDIDATE)
        # What a kill -9 right now would leave behind: the shares before the candidate and the candidate.
        snapshot = spill_path.read_bytes()
        await first.close(timeout_s=0.1)
        await asyncio.to_thread(stopped_redis.start)

        for _replay in range(2):  # the second replay models a crash in the middle of the first one
            crash_copy.write_bytes(snapshot)
            async with ShareRecorder(store, crash_copy, FAST) as recovered:
                assert await recovered.flush(timeout_s=60)
            assert await store.block_round_shares(CANDIDATE.height, CANDIDATE.hash_hex) == {
                "alice": 100,
                "bob:1": 50,
            }
            assert [b.candidate for b in await store.block_candidates()] == [CANDIDATE]
            assert await store.round_shares(RewardType.PROP) == {}
            alice = await store.miner_stats("alice")
            assert alice is not None
            assert alice.counts.accepted == 1
    finally:
        await client.aclose()


async def test_one_recorder_per_spill_file(store: Store, tmp_path: Path) -> None:
    async with ShareRecorder(store, tmp_path / "spill.jsonl", FAST):
        with pytest.raises(SpillFileLockedError):
            await ShareRecorder(store, tmp_path / "spill.jsonl", FAST).start()


async def test_a_closed_recorder_refuses_shares(store: Store, tmp_path: Path) -> None:
    recorder = ShareRecorder(store, tmp_path / "spill.jsonl", FAST)
    await recorder.start()
    assert await recorder.close()

    with pytest.raises(RuntimeError, match="closed"):
        recorder.submit(share())
