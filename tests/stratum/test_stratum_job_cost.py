"""What a job costs: the per-template precomputation must give byte for byte what the blob family gives.

Real templates (Monero and Iridium vectors) and Athena-style templates built with 0..40 transactions (every
merkle-tree shape a branch walk can meet); random payloads. The judge's shortcut (hash the job's hashing
blob with the nonce written in) must equal the PoW blob of the block it would submit.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from athena_pool.coins.families import get_family
from athena_pool.coins.families.forknote2 import CoinbaseParts, TemplateParts, build_template
from athena_pool.jobs.template import (
    POOL_RESERVED_SIZE,
    FastJobMaker,
    SlowJobMaker,
    Template,
    template_from_daemon,
)
from athena_pool.rpc.daemon import BlockTemplate


def athena_template(tx_count: int, reserve_size: int = 16) -> Template:
    digest = hashlib.sha256
    parts = TemplateParts(
        major_version=4,
        minor_version=0,
        prev_id=digest(b"prev").digest(),
        timestamp=1_700_000_000,
        height=12_345,
        coinbase=CoinbaseParts(
            unlock_time=12_405,
            outputs=[(1000, digest(b"out").digest())],
            tx_public_key=digest(b"key").digest(),
            reserve_size=reserve_size,
        ),
        tx_hashes=[digest(bytes([i])).digest() for i in range(tx_count)],
    )
    blob = build_template(parts)
    return template_from_daemon(
        BlockTemplate(blob, 10**9, 12_345, None, 0), get_family("forknote2"), generation=1, created_at=0.0
    )


def vector_templates(block_vectors: list[dict[str, Any]]) -> list[Template]:
    templates = []
    for vector in block_vectors:
        if vector["kind"] != "template":
            continue
        family = get_family(vector["family"])
        answer = BlockTemplate(bytes.fromhex(vector["blob_hex"]), 10**9, vector["height"], None, 0)
        try:
            templates.append(template_from_daemon(answer, family, generation=1, created_at=0.0))
        except ValueError:
            continue  # reserved space too small for the pool (TurtleCoin's 6-byte vectors)
    return templates


def check(template: Template, payload: bytes) -> None:
    family = template.family
    job_blob = template.family.with_extra_nonce(template.blob, 0, payload)
    hashing_blob = template.job_maker.hashing_blob(payload)
    assert hashing_blob == family.hashing_blob(job_blob)
    nonce = payload[:4]
    assert template.pow_shortcut
    assert template.pow_input(hashing_blob, nonce) == family.pow_blob(family.assemble_block(job_blob, nonce))


@pytest.mark.parametrize("tx_count", [*range(0, 18), 31, 32, 33, 40])
def test_athena_templates_of_every_tree_shape(tx_count: int) -> None:
    template = athena_template(tx_count)
    assert isinstance(template.job_maker, FastJobMaker)
    for seed in range(5):
        check(template, hashlib.sha256(bytes([seed])).digest()[:POOL_RESERVED_SIZE])


def test_real_templates(block_vectors: list[dict[str, Any]]) -> None:
    templates = vector_templates(block_vectors)
    assert {t.family.name for t in templates} == {"monero", "forknote2"}
    for template in templates:
        assert isinstance(template.job_maker, FastJobMaker)
        for seed in range(5):
            check(template, hashlib.sha256(bytes([seed])).digest()[:POOL_RESERVED_SIZE])


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=POOL_RESERVED_SIZE, max_size=POOL_RESERVED_SIZE), st.integers(0, 40))
def test_random_payloads(payload: bytes, tx_count: int) -> None:
    check(athena_template(tx_count), payload)


def test_issued_jobs_use_the_fast_path_and_keep_only_their_nonce(block_vectors: list[dict[str, Any]]) -> None:
    from athena_pool.jobs.job import Job

    template = athena_template(9)
    job = Job("id", 100, template.height, template, 77, b"ABCD", template.job_hashing_blob(77, b"ABCD"), "x")
    assert job.blob == template.job_blob(77, b"ABCD")
    assert job.hashing_blob == template.family.hashing_blob(job.blob)
    assert not hasattr(job, "__dict__")  # slots: thousands of jobs stay small


class WrappedFamily:
    """A family the fast path does not know (a future layout): it delegates everything to a real one."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = "wrapped"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_an_unknown_family_is_served_the_slow_way(caplog: pytest.LogCaptureFixture) -> None:
    fast = athena_template(3)
    answer = BlockTemplate(fast.blob, 10**9, fast.height, None, 0)
    with caplog.at_level(logging.WARNING):
        template = template_from_daemon(answer, WrappedFamily(fast.family), generation=1, created_at=0.0)
    assert isinstance(template.job_maker, SlowJobMaker)
    assert any("slow way" in record.getMessage() for record in caplog.records)
    payload = bytes(range(POOL_RESERVED_SIZE))
    assert template.job_maker.hashing_blob(payload) == fast.job_maker.hashing_blob(payload)
    check(template, payload)
