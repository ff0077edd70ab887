"""The operator summary of a blob."""

from __future__ import annotations

import json

import pytest
from coin_vectors import BlockVector

from athena_pool.coins import UnknownFamilyError, describe


def test_describe_is_json_ready_for_every_vector(block_vector: BlockVector) -> None:
    summary = describe(block_vector["family"], bytes.fromhex(block_vector["blob_hex"]))
    assert json.loads(json.dumps(summary)) == summary
    assert summary["family"] == block_vector["family"]
    assert summary["height"] == block_vector["height"]
    assert summary["major_version"] == block_vector["major_version"]
    assert summary["minor_version"] == block_vector["minor_version"]
    assert summary["tx_count"] == block_vector["tx_count_including_miner_tx"]
    assert summary["nonce_offset"] == block_vector["nonce_offset_in_hashing_blob"]
    expected_id = block_vector["expected_id_hex"] or block_vector["computed_id_hex"]
    assert summary["block_id"] == expected_id
    expected_blob_key = "hashing_blob" if block_vector["kind"] == "template" else "pow_blob"
    assert summary[expected_blob_key] == block_vector["expected_hashing_blob_hex"]
    if "miner_tx_hash_hex" in block_vector:
        assert summary["miner_tx_hash"] == block_vector["miner_tx_hash_hex"]


def test_describe_template(vectors_by_key: dict[tuple[str, int, str], BlockVector]) -> None:
    vector = vectors_by_key[("XMR", 3195018, "template")]
    summary = describe("monero", bytes.fromhex(vector["blob_hex"]))
    assert summary["reserved_offset"] == 131
    assert summary["reserved_size"] == 60
    assert summary["prev_id"] == "9d648e741d85ca0e7acb4501f051b27e9b107d3cd7a3f03aa7f776089117c81a"
    assert summary["miner_tx_version"] == 2
    assert summary["parent"] is None
    assert summary["blob_size"] == 193


def test_describe_forknote2_block_shows_its_parent(
    vectors_by_key: dict[tuple[str, int, str], BlockVector],
) -> None:
    summary = describe("forknote2", bytes.fromhex(vectors_by_key[("TRTL", 1579199, "block")]["blob_hex"]))
    assert summary["parent"] == {
        "major_version": 12,
        "minor_version": 12,
        "prev_id": "74fc5e458e23ca15510fc4f598b2ad887c836b9f348cad4a6f2122c1729d975d",
        "tx_count": 1,
        "miner_tx_version": 2,
        "blockchain_branch_depth": 1,
    }
    assert summary["reserved_size"] == 17
    assert summary["nonce"] == (3149647330).to_bytes(4, "little").hex()


def test_describe_unknown_family() -> None:
    with pytest.raises(UnknownFamilyError):
        describe("aeon", b"\x01")
