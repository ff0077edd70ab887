"""Where the coins tests find their reference data, and how they load it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared"
BLOCK_VECTORS_PATH = SHARED_DIR / "vectors" / "blocks.json"
TREE_VECTORS_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "monero_hash" / "tests-tree.txt"
MISSING_BLOCK_VECTORS = f"block vectors not found at {BLOCK_VECTORS_PATH}"

BlockVector = dict[str, Any]


def load_block_vectors() -> list[BlockVector]:
    if not BLOCK_VECTORS_PATH.exists():
        return []
    vectors: list[BlockVector] = json.loads(BLOCK_VECTORS_PATH.read_text())
    return vectors


def vector_id(vector: BlockVector) -> str:
    return f"{vector['coin']}-{vector['height']}-{vector['kind']}"
