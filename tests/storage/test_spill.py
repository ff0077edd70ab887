"""The spill file on its own: order, emptying, crash leftovers, the lock."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from storage_support import share

from athena_pool.storage import BlockCandidate, RewardType
from athena_pool.storage.ops import CandidateOp, Op, ShareBatch, decode_op, encode_op
from athena_pool.storage.spill import SpillFile, SpillFileLockedError

LOG = logging.getLogger("athena_pool.storage")


def batch(batch_id: str, shares: int = 2) -> ShareBatch:
    return ShareBatch(batch_id, tuple(share(f"m:{batch_id}", difficulty=i + 1) for i in range(shares)))


def block() -> CandidateOp:
    return CandidateOp(BlockCandidate(7, "ef" * 32, 99, RewardType.SOLO, "a:b", "w", 1))


@pytest.fixture
def spill_path(tmp_path: Path) -> Path:
    return tmp_path / "spill.jsonl"


@pytest.fixture
def spill(spill_path: Path) -> Iterator[SpillFile]:
    spill = SpillFile(spill_path, LOG)
    spill.open()
    yield spill
    spill.close()


def drain(spill: SpillFile) -> list[Op]:
    ops = []
    while (op := spill.head()) is not None:
        ops.append(op)
        spill.consume_head()
    return ops


def test_ops_come_back_in_order_and_round_trip(spill: SpillFile) -> None:
    ops: list[Op] = [batch("1"), block(), batch("2", 3)]
    spill.append(ops[:2])
    spill.append(ops[2:])

    assert (spill.pending_ops, spill.pending_shares) == (3, 5)
    assert drain(spill) == ops
    assert (spill.pending_ops, spill.pending_shares) == (0, 0)


def test_file_is_emptied_once_everything_is_consumed(spill: SpillFile, spill_path: Path) -> None:
    spill.append([batch("1"), batch("2")])
    assert spill.head() == batch("1")
    spill.consume_head()
    assert spill_path.stat().st_size > 0

    spill.consume_head()

    assert spill_path.stat().st_size == 0
    spill.append([batch("3")])
    assert drain(spill) == [batch("3")]


def test_appends_while_draining_keep_their_place(spill: SpillFile) -> None:
    spill.append([batch(str(i)) for i in range(100)])  # more than one read chunk
    first = drain_some(spill, 70)
    spill.append([batch("late")])

    assert first + drain(spill) == [*(batch(str(i)) for i in range(100)), batch("late")]


def drain_some(spill: SpillFile, count: int) -> list[Op]:
    ops = []
    for _ in range(count):
        op = spill.head()
        assert op is not None
        ops.append(op)
        spill.consume_head()
    return ops


def test_a_new_spill_file_on_the_same_path_replays_everything_unconsumed(spill_path: Path) -> None:
    first = SpillFile(spill_path, LOG)
    first.open()
    first.append([batch("1"), batch("2"), block()])
    first.head()
    first.consume_head()  # consumed, but a crash leaves it in the file: replay is idempotent in Redis
    first.close()

    second = SpillFile(spill_path, LOG)
    second.open()
    try:
        assert second.pending_ops == 3
        assert drain(second) == [batch("1"), batch("2"), block()]
    finally:
        second.close()


def test_partial_last_line_is_cut_off(spill_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spill_path.write_bytes(encode_op(batch("1")) + encode_op(batch("2"))[:-10])
    spill = SpillFile(spill_path, LOG)
    spill.open()
    try:
        assert drain(spill) == [batch("1")]
        assert "partial line" in caplog.text
    finally:
        spill.close()


def test_unreadable_lines_are_skipped(spill_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spill_path.write_bytes(encode_op(batch("1")) + b'{"op": "nonsense"}\n' + encode_op(batch("2")))
    spill = SpillFile(spill_path, LOG)
    spill.open()
    try:
        assert spill.pending_ops == 2
        assert drain(spill) == [batch("1"), batch("2")]
        assert "unreadable line" in caplog.text
    finally:
        spill.close()


def test_rewrite_puts_older_ops_in_front_of_the_unconsumed_ones(spill: SpillFile, spill_path: Path) -> None:
    spill.append([batch("3"), batch("4"), batch("5")])
    spill.head()
    spill.consume_head()

    spill.rewrite_with_head([batch("1"), batch("2")])

    assert spill.pending_ops == 4
    assert [decode_op(line) for line in spill_path.read_bytes().splitlines()] == [
        batch("1"),
        batch("2"),
        batch("4"),
        batch("5"),
    ]
    assert drain(spill) == [batch("1"), batch("2"), batch("4"), batch("5")]


def test_one_spill_file_has_one_owner(spill: SpillFile, spill_path: Path) -> None:
    with pytest.raises(SpillFileLockedError):
        SpillFile(spill_path, LOG).open()
