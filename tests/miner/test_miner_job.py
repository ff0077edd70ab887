"""Job validation and nonce arithmetic, checked against xmrig's rules."""

from __future__ import annotations

import pytest

from athena_pool.errors import UsageError
from athena_pool.miner.cli import parse_url
from athena_pool.miner.job import JobError, parse_job
from athena_pool.targets import compact_target_hex

BLOB = bytes(76)


def job(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {"blob": BLOB.hex(), "job_id": "7", "target": compact_target_hex(1000)}
    fields.update(overrides)
    return fields


def test_a_plain_job() -> None:
    parsed = parse_job(job(height=5), "cn-lite/1")
    assert (parsed.job_id, parsed.algo, parsed.height, parsed.seed) == ("7", "cn-lite/1", 5, None)
    assert not parsed.nicehash
    assert parsed.nonce_bytes(1) == bytes([1, 0, 0, 0])
    assert parsed.blob_with_nonce(bytes([1, 2, 3, 4]))[39:43] == bytes([1, 2, 3, 4])


def test_targets_follow_xmrig() -> None:
    parsed = parse_job(job(target="37894100"), "cn-lite/1")  # difficulty 1000, 4 bytes
    assert parsed.threshold == (2**64 - 1) // ((2**32 - 1) // 0x00418937)
    wide = parse_job(job(target="efa7c64b37894100"), "cn-lite/1")
    assert wide.threshold == 0x004189374BC6A7EF
    below = bytes(24) + (wide.threshold - 1).to_bytes(8, "little")
    at = bytes(24) + wide.threshold.to_bytes(8, "little")
    assert wide.meets_target(below) and not wide.meets_target(at)


def test_nicehash_blob_keeps_the_pool_byte() -> None:
    blob = bytearray(BLOB)
    blob[42] = 0xAB
    parsed = parse_job(job(blob=bytes(blob).hex()), "cn-lite/1")
    assert parsed.nicehash
    assert parsed.nonce_bytes(0x01020304) == bytes([0x04, 0x03, 0x02, 0xAB])


@pytest.mark.parametrize(
    "bad",
    [
        {"blob": "00" * 42},  # shorter than nonce offset + 4
        {"blob": "00" * 408},  # xmrig's limit
        {"blob": "zz" * 76},
        {"target": "123"},
        {"target": "00000000"},
        {"target": "0011223344"},
        {"job_id": ""},
        {"height": -1},
        {"seed_hash": "ab"},
    ],
)
def test_bad_jobs_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(JobError):
        parse_job(job(**bad), "cn-lite/1")


def test_job_must_be_an_object() -> None:
    with pytest.raises(JobError):
        parse_job(["not", "a", "job"], "cn-lite/1")


def test_url_parsing() -> None:
    assert parse_url("127.0.0.1:3333") == ("127.0.0.1", 3333)
    assert parse_url("stratum+tcp://pool.example:5555") == ("pool.example", 5555)
    assert parse_url("[::1]:3333") == ("::1", 3333)
    for bad in ("nohost", "host:", "host:99999", ":3333"):
        with pytest.raises(UsageError):
            parse_url(bad)
