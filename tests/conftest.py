"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"reference material not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def pow_vectors(shared_dir: Path) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((shared_dir / "vectors" / "pow_vectors.json").read_text())
    return vectors


@pytest.fixture(scope="session")
def block_vectors(shared_dir: Path) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((shared_dir / "vectors" / "blocks.json").read_text())
    return vectors
