"""RandomX through librandomx: seeds, the seed window, threads, errors."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from athena_pool.coins.profiles import get_coin
from athena_pool.config import parse_config
from athena_pool.pow import PowError, PowVerifier, create_algorithm
from athena_pool.pow.randomx import RandomX

# tevador/RandomX tests.cpp test_a / test_e (also in pow_vectors.json): two different keys.
KEY_A = b"test key 000"
INPUT_A = b"This is a test"
HASH_A = "639183aae1bf4c9a35884cb46b09cad9175f04efd7684e7262a0ac1c2f0b4e3f"
KEY_D = b"test key 001"
INPUT_D = bytes.fromhex(
    "0b0b98bea7e805e0010a2126d287a2a0cc833d312cb786385a7c2f9de69d25537f584a9bc9977b00000000666fd8753bf61a"
    "8631f12984e3fd44f4014eca629276817b56f32e9b68bd82f416"
)
HASH_D = "c56414121acda1713c2f2a819d8ae38aed7c80c35c2a769298d34f03833cd5f1"
MONERO_GENERAL_FUND = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)


@pytest.fixture(scope="module")
def randomx() -> Iterator[RandomX]:
    rx = RandomX(keep_seeds=2)
    yield rx
    rx.close()


def test_two_seeds_stay_in_the_window(randomx: RandomX) -> None:
    assert randomx.hash(INPUT_A, seed=KEY_A).hex() == HASH_A
    assert randomx.hash(INPUT_D, seed=KEY_D).hex() == HASH_D
    # Alternating between the current and the next seed never confuses the caches.
    for _ in range(3):
        assert randomx.hash(INPUT_A, seed=KEY_A).hex() == HASH_A
        assert randomx.hash(INPUT_D, seed=KEY_D).hex() == HASH_D


def test_a_third_seed_evicts_the_oldest_and_it_can_come_back() -> None:
    rx = RandomX(keep_seeds=1)
    try:
        assert rx.hash(INPUT_A, seed=KEY_A).hex() == HASH_A
        other = rx.hash(INPUT_A, seed=b"another key")
        assert other.hex() != HASH_A
        assert rx.hash(INPUT_A, seed=KEY_A).hex() == HASH_A
    finally:
        rx.close()


def test_threads_share_the_cache_each_with_its_own_vm(randomx: RandomX) -> None:
    results: list[str] = []
    lock = threading.Lock()

    def work(data: bytes, seed: bytes) -> None:
        digest = randomx.hash(data, seed=seed).hex()
        with lock:
            results.append(digest)

    threads = [
        threading.Thread(target=work, args=(INPUT_A, KEY_A) if i % 2 else (INPUT_D, KEY_D)) for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == sorted([HASH_A] * 4 + [HASH_D] * 4)


def test_missing_seed_is_a_clear_error(randomx: RandomX) -> None:
    with pytest.raises(PowError, match="seed"):
        randomx.hash(INPUT_A, seed=None)


async def test_verifier_hashes_off_the_event_loop(randomx: RandomX) -> None:
    verifier = PowVerifier(randomx, threads=2)
    try:
        digests = await asyncio.gather(verifier.hash(INPUT_A, seed=KEY_A), verifier.hash(INPUT_D, seed=KEY_D))
        assert [d.hex() for d in digests] == [HASH_A, HASH_D]
        assert verifier.timings.count["rx/0"] == 2
    finally:
        verifier._pool.shutdown(wait=True)


def test_a_prepared_next_seed_and_the_current_one_are_both_kept() -> None:
    """Around a seed switch: the pool hashes with the current seed, prepares the next, then uses both."""
    rx = RandomX(keep_seeds=2)
    try:
        assert rx.hash(INPUT_A, seed=KEY_A).hex() == HASH_A
        rx.prepare(KEY_D)
        assert rx.states_built == 2
        for _ in range(3):
            assert rx.hash(INPUT_A, seed=KEY_A).hex() == HASH_A
            assert rx.hash(INPUT_D, seed=KEY_D).hex() == HASH_D
        assert rx.states_built == 2  # neither seed was evicted and rebuilt
        assert set(rx.cached_seeds) == {KEY_A, KEY_D}
    finally:
        rx.close()


def test_preparing_before_any_hash_keeps_both_seeds() -> None:
    rx = RandomX(keep_seeds=2)
    try:
        rx.prepare(KEY_D)  # a pool started just before a switch: the template names both seeds at once
        assert rx.hash(INPUT_A, seed=KEY_A).hex() == HASH_A
        assert rx.hash(INPUT_D, seed=KEY_D).hex() == HASH_D
        rx.prepare(KEY_D)  # announced again: already there, nothing built
        assert rx.states_built == 2
    finally:
        rx.close()


async def test_the_verifier_builds_an_announced_seed_once() -> None:
    verifier = PowVerifier(RandomX(keep_seeds=2), threads=1)
    try:
        assert verifier.prepares_seeds
        await verifier.prepare_seed(KEY_D)
        assert await verifier.hash(INPUT_D, seed=KEY_D) == bytes.fromhex(HASH_D)
        assert isinstance(verifier.algorithm, RandomX)
        assert verifier.algorithm.states_built == 1
    finally:
        verifier.close()


async def test_algorithms_without_a_seed_prepare_nothing() -> None:
    verifier = PowVerifier(create_algorithm("cn-lite/1"), threads=1)
    try:
        assert not verifier.prepares_seeds
        await verifier.prepare_seed(KEY_A)  # a no-op, not an error
    finally:
        verifier.close()


def _monero_config(pow_section: dict[str, object]) -> dict[str, object]:
    return {"coin": "monero", "pool_address": MONERO_GENERAL_FUND, "pow": pow_section}


def test_the_full_dataset_option_reaches_randomx() -> None:
    """Only constructed: full mode allocates 2 GiB and builds for tens of seconds on the first hash."""
    config = parse_config(_monero_config({"randomx_full_dataset": True}))
    algorithm = create_algorithm(get_coin(config.coin).pow_algorithm, config.pow)
    try:
        assert isinstance(algorithm, RandomX)
        assert algorithm.full_dataset
        assert algorithm.states_built == 0
    finally:
        algorithm.close()


def test_light_mode_is_the_default() -> None:
    config = parse_config(_monero_config({}))
    assert not config.pow.randomx_full_dataset
    algorithm = create_algorithm("rx/0", config.pow)
    try:
        assert isinstance(algorithm, RandomX)
        assert not algorithm.full_dataset
        assert algorithm.hash(INPUT_A, seed=KEY_A).hex() == HASH_A
    finally:
        algorithm.close()


def test_a_bad_full_dataset_value_is_named() -> None:
    with pytest.raises(ValueError, match=r"pow\.randomx_full_dataset"):
        parse_config(_monero_config({"randomx_full_dataset": "maybe"}))
