"""The small pure parts: line framing, the per-session job memory, the hashrate meter, config checks."""

from __future__ import annotations

import pytest
from stratum_fakes import FakeJob

from athena_pool.stratum import PortConfig, StratumConfig, StratumLimits
from athena_pool.stratum.framing import LineBuffer, OversizedLine
from athena_pool.stratum.recent_jobs import RecentJobs
from athena_pool.stratum.registry import HashrateMeter


def test_lines_split_across_chunks_crlf_and_blank_lines() -> None:
    buffer = LineBuffer(max_line_bytes=100, max_buffer_bytes=200)
    assert buffer.feed(b'{"a":') == []
    assert buffer.feed(b'1}\r\n\n  \r\n{"b":2}\n{"c"') == [b'{"a":1}', b'{"b":2}']
    assert buffer.feed(b":3}\n") == [b'{"c":3}']
    assert not buffer.overflowing


def test_an_oversized_line_keeps_its_place_in_order() -> None:
    buffer = LineBuffer(max_line_bytes=10, max_buffer_bytes=100)
    assert buffer.feed(b"short\n" + b"x" * 11 + b"\nnext\n") == [b"short", OversizedLine(11), b"next"]
    assert buffer.feed(b"x" * 10 + b"\n") == [b"x" * 10]


def test_a_flood_without_newline_overflows_and_holds_nothing() -> None:
    buffer = LineBuffer(max_line_bytes=10, max_buffer_bytes=20)
    assert buffer.feed(b"ok\n" + b"y" * 20) == [b"ok"]
    assert not buffer.overflowing
    assert buffer.feed(b"y") == []
    assert buffer.overflowing
    assert buffer.feed(b"\nmore\n") == []  # nothing more is taken once overflowing


def job(job_id: str, height: int = 5) -> FakeJob:
    return FakeJob(job_id, 100, height, 1, b"")


def test_recent_jobs_keep_the_newest_and_remember_forgotten_ids() -> None:
    jobs = RecentJobs(keep=2, forgotten=2)
    for i in range(5):
        jobs.remember(job(f"j{i}", height=10 + i))
    assert len(jobs) == 2
    assert jobs.get("j4") is not None and jobs.get("j3") is not None and jobs.get("j2") is None
    assert jobs.forgotten_height("j2") == 12 and jobs.forgotten_height("j1") == 11
    assert jobs.forgotten_height("j0") is None  # too old even to remember
    assert jobs.forgotten_height("never") is None


def test_hashrate_meter_window_and_buckets() -> None:
    meter = HashrateMeter(window_seconds=100, bucket_seconds=10)
    meter.add(1000, now=5)
    meter.add(1000, now=7)
    meter.add(3000, now=55)
    assert meter.rate(now=60) == 50.0
    assert meter.rate(now=105) == 30.0  # the first bucket [0, 10) has left the window
    assert meter.rate(now=1000) == 0.0
    for t in range(0, 100_000, 3):  # memory stays bounded by window / bucket
        meter.add(1, now=t)
    assert len(meter._buckets) <= 11


def test_hashrate_meter_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="hashrate meter"):
        HashrateMeter(window_seconds=10, bucket_seconds=20)


@pytest.mark.parametrize(
    "make",
    [
        lambda: PortConfig(70000, 100),
        lambda: PortConfig(3333, 0),
        lambda: PortConfig(3333, 100, fixed_difficulty=0),
        lambda: StratumLimits(max_line_bytes=20000, max_buffer_bytes=10000),
        lambda: StratumLimits(max_bad_lines=0),
        lambda: StratumConfig(ports=()),
        lambda: StratumConfig(ports=(PortConfig(3333, 100),), extensions=("algo", "connect")),
        lambda: StratumConfig(ports=(PortConfig(3333, 100),), extensions=("nicehash",)),
    ],
)
def test_bad_configuration_is_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]
