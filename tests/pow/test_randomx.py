"""RandomX through librandomx: seeds, the seed window, threads, errors."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from athena_pool.pow import PowError, PowVerifier
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
