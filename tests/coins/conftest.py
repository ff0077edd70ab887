"""Shared fixtures for the coins tests: the real block vectors of /work/shared (skipped when absent)."""

from __future__ import annotations

from typing import Any

import pytest
from coin_vectors import MISSING_BLOCK_VECTORS, BlockVector, load_block_vectors, vector_id


def _vector_params(kind: str | None) -> list[Any]:
    vectors = load_block_vectors()
    if not vectors:
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING_BLOCK_VECTORS), id="no-vectors")]
    if kind is not None:
        vectors = [vector for vector in vectors if vector["kind"] == kind]
    return [pytest.param(vector, id=vector_id(vector)) for vector in vectors]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`block_vector` runs a test once per entry of blocks.json; `template_vector` once per template."""
    if "block_vector" in metafunc.fixturenames:
        metafunc.parametrize("block_vector", _vector_params(None))
    if "template_vector" in metafunc.fixturenames:
        metafunc.parametrize("template_vector", _vector_params("template"))


@pytest.fixture
def vectors_by_key() -> dict[tuple[str, int, str], BlockVector]:
    """Vectors keyed by (coin, height, kind); skips the test when the shared vectors are absent."""
    vectors = load_block_vectors()
    if not vectors:
        pytest.skip(MISSING_BLOCK_VECTORS)
    return {(vector["coin"], vector["height"], vector["kind"]): vector for vector in vectors}
