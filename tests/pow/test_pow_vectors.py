"""Every official proof-of-work vector, through the algorithm table the pool uses."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from athena_pool.pow import create_algorithm

SHARED_VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "pow_vectors.json"


def _load() -> list[dict[str, Any]]:
    if not SHARED_VECTORS.exists():
        return []
    vectors: list[dict[str, Any]] = json.loads(SHARED_VECTORS.read_text())
    return vectors


def _by_algo() -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for vector in _load():
        grouped[vector["algo"]].append(vector)
    return grouped


VECTORS = _by_algo()


def test_vector_file_has_every_algorithm() -> None:
    """Fails (never skips) without ../shared: otherwise the per-algorithm tests below silently vanish."""
    assert SHARED_VECTORS.is_file(), f"PoW vectors not found at {SHARED_VECTORS}"
    assert set(VECTORS) == {
        "cn/0",
        "cn/1",
        "cn/2",
        "cn/r",
        "cn-lite/0",
        "cn-lite/1",
        "cn-pico/trtl",
        "argon2/chukwa",
        "argon2/chukwav2",
        "rx/0",
    }
    assert sum(len(v) for v in VECTORS.values()) == 76


# One test per algorithm (not per vector) so each RandomX seed is initialised once per group.
@pytest.mark.parametrize("algo", sorted(VECTORS))
def test_every_vector_of(algo: str) -> None:
    algorithm = create_algorithm(algo)
    try:
        mismatches = []
        for vector in VECTORS[algo]:
            seed = bytes.fromhex(vector["seed_hex"]) if "seed_hex" in vector else None
            digest = algorithm.hash(
                bytes.fromhex(vector["input_hex"]), height=vector.get("height", 0), seed=seed
            )
            if digest.hex() != vector["output_hex"]:
                mismatches.append((vector["source"], digest.hex(), vector["output_hex"]))
        assert mismatches == []
        assert VECTORS[algo]
    finally:
        algorithm.close()
