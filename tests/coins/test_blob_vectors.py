"""Every entry of /work/shared/vectors/blocks.json through its blob family."""

from __future__ import annotations

from typing import Any

import pytest
from coin_vectors import MISSING_BLOCK_VECTORS, BlockVector, load_block_vectors, vector_id

from athena_pool.coins import get_family
from athena_pool.coins.extra import find_merge_mining_tag
from athena_pool.coins.families.forknote2 import aux_chain_root, aux_header_hash, child_hashing_blob
from athena_pool.coins.transaction import miner_tx_hash
from athena_pool.coins.varint import encode_varint
from athena_pool.pow import create_algorithm

TRTL_GENESIS_KEY = ("TRTL", 0, "block")


def _blob(vector: BlockVector) -> bytes:
    return bytes.fromhex(vector["blob_hex"])


def test_parse_serialize_round_trip(block_vector: BlockVector) -> None:
    family = get_family(block_vector["family"])
    blob = _blob(block_vector)
    assert family.serialize(family.parse(blob)) == blob


def test_expected_hashing_blob(block_vector: BlockVector) -> None:
    """Templates: the pool's convert_blob. Blocks: the PoW blob as mined (section 12)."""
    family = get_family(block_vector["family"])
    blob = _blob(block_vector)
    produced = family.hashing_blob(blob) if block_vector["kind"] == "template" else family.pow_blob(blob)
    assert produced.hex() == block_vector["expected_hashing_blob_hex"]


def test_convert_blob_equals_pow_blob_unless_a_foreign_parent_was_mined(block_vector: BlockVector) -> None:
    family = get_family(block_vector["family"])
    blob = _blob(block_vector)
    parent = block_vector.get("parent")
    pool_built = parent is None or (parent["major"], parent["prev_id_hex"]) == (1, blob[2:34].hex())
    if block_vector["kind"] == "block":
        assert (family.hashing_blob(blob) == family.pow_blob(blob)) == pool_built


def test_block_id(block_vector: BlockVector) -> None:
    family = get_family(block_vector["family"])
    expected = block_vector["expected_id_hex"] or block_vector["computed_id_hex"]
    assert family.block_id(_blob(block_vector)).hex() == expected


def test_miner_tx_hash(block_vector: BlockVector) -> None:
    expected = block_vector.get("miner_tx_hash_hex") or block_vector.get("expected_miner_tx_hash_hex")
    block = get_family(block_vector["family"]).parse(_blob(block_vector))
    assert block.miner_tx.version == block_vector["miner_tx_version"]
    if expected is not None:
        assert miner_tx_hash(block.miner_tx).hex() == expected


def test_nonce_offsets(block_vector: BlockVector) -> None:
    family = get_family(block_vector["family"])
    blob = _blob(block_vector)
    assert family.blob_nonce_offset(blob) == block_vector["nonce_offset_in_blob"]
    assert family.nonce_offset(blob) == block_vector["nonce_offset_in_hashing_blob"]
    offset = family.blob_nonce_offset(blob)
    assert blob[offset : offset + 4] == family.parse(blob).nonce


def test_header_fields(block_vector: BlockVector) -> None:
    family = get_family(block_vector["family"])
    blob = _blob(block_vector)
    block = family.parse(blob)
    assert family.height(blob) == block.height == block_vector["height"]
    assert family.major_version(blob) == block_vector["major_version"]
    assert family.minor_version(blob) == block_vector["minor_version"]
    assert block.tx_count == block_vector["tx_count_including_miner_tx"]
    assert family.timestamp(blob) == block.timestamp
    assert family.prev_id(blob) == block.prev_id
    if "nonce_u32" in block_vector:
        assert int.from_bytes(block.nonce, "little") == block_vector["nonce_u32"]


def test_reserved_payload_of_templates(template_vector: BlockVector) -> None:
    family = get_family(template_vector["family"])
    blob = _blob(template_vector)
    offset, size = family.reserved_space(blob)
    assert offset == template_vector["reserved_payload_offset_in_blob"]
    size_varint = encode_varint(size)
    field_start = offset - len(size_varint) - 1
    assert blob[field_start + 1 : offset] == size_varint
    assert blob[field_start] in (0x02, 0x07)
    if blob[field_start] == 0x02:
        assert blob[offset : offset + size] == bytes(size)


def test_constructed_blob_for_submission(template_vector: BlockVector) -> None:
    if "construct_nonce_hex" not in template_vector:
        return
    family = get_family(template_vector["family"])
    nonce = bytes.fromhex(template_vector["construct_nonce_hex"])
    constructed = family.assemble_block(_blob(template_vector), nonce)
    assert constructed.hex() == template_vector["expected_constructed_blob_hex"]


def test_assembled_block_hashes_like_the_job(block_vector: BlockVector) -> None:
    """The property the pool relies on: hashing_blob(assemble(t, n)) is hashing_blob(t) with n written in."""
    family = get_family(block_vector["family"])
    blob = _blob(block_vector)
    nonce = bytes.fromhex("641c00a5")
    offset = family.nonce_offset(blob)
    job_blob = family.hashing_blob(blob)
    expected = job_blob[:offset] + nonce + job_blob[offset + 4 :]
    assembled = family.assemble_block(blob, nonce)
    assert family.hashing_blob(assembled) == expected
    assert family.pow_blob(assembled) == expected
    assert family.parse(assembled).nonce == nonce
    assert family.block_id(assembled) != family.block_id(blob)


def test_forknote2_parent_fields(block_vector: BlockVector) -> None:
    expected = block_vector.get("parent")
    if expected is None:
        return
    block = get_family("forknote2").parse(_blob(block_vector))
    assert block.parent is not None
    tag = find_merge_mining_tag(block.parent.miner_tx.extra_fields)
    assert tag is not None
    assert (block.parent.major_version, block.parent.minor_version) == (expected["major"], expected["minor"])
    assert block.parent.prev_id.hex() == expected["prev_id_hex"]
    assert block.parent.tx_count == expected["tx_count"]
    assert block.parent.miner_tx.version == expected["miner_tx_version"]
    assert (tag.depth, tag.merkle_root.hex()) == (
        expected["mm_tag_depth"],
        expected["mm_tag_merkle_root_hex"],
    )
    assert len(block.parent.blockchain_branch) == tag.depth
    assert aux_header_hash(block).hex() == expected["aux_header_hash_hex"]
    assert child_hashing_blob(block).hex() == block_vector["child_hashing_blob_hex"]


def test_merge_mining_root_walks_the_genesis_path(
    vectors_by_key: dict[tuple[str, int, str], BlockVector],
) -> None:
    """Consensus check 2 of section 7, including the depth-1 branch of TRTL 1579199."""
    genesis_id = bytes.fromhex(vectors_by_key[TRTL_GENESIS_KEY]["expected_id_hex"])
    family = get_family("forknote2")
    checked_depths = set()
    for vector in vectors_by_key.values():
        if vector["kind"] != "block" or vector["family"] != "forknote2":
            continue
        block = family.parse(_blob(vector))
        assert block.parent is not None
        tag = find_merge_mining_tag(block.parent.miner_tx.extra_fields)
        assert tag is not None
        assert aux_chain_root(block, genesis_id) == tag.merkle_root
        checked_depths.add(tag.depth)
    assert checked_depths == {0, 1}


def test_consecutive_vectors_link_by_prev_id(vectors_by_key: dict[tuple[str, int, str], BlockVector]) -> None:
    for coin, height, previous in (("XMR", 202612, 202611), ("TRTL", 3, 2), ("TRTL", 4, 3)):
        child = vectors_by_key[(coin, height, "block")]
        parent = vectors_by_key[(coin, previous, "block")]
        family = get_family(child["family"])
        assert family.prev_id(_blob(child)).hex() == parent["expected_id_hex"]


def _pow_vector_params() -> list[Any]:
    vectors = [vector for vector in load_block_vectors() if "expected_pow_hash_hex" in vector]
    if not vectors:
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING_BLOCK_VECTORS), id="no-vectors")]
    return [pytest.param(vector, id=vector_id(vector)) for vector in vectors]


def test_the_vectors_give_thirteen_pow_hashes() -> None:
    """12 CryptoNight hashes checked below, and XMR 2751506's rx/0 hash, whose seed hash is not given."""
    algorithms = [str(param.values[0]["pow_algorithm"]) for param in _pow_vector_params() if param.values[0]]
    assert len(algorithms) == 13
    assert [name for name in algorithms if name.startswith("rx/0")] == ["rx/0 (RandomX)"]


@pytest.mark.parametrize("pow_vector", _pow_vector_params())
def test_expected_pow_hash(pow_vector: BlockVector) -> None:
    """The PoW blob as mined, hashed with the real algorithm at the block's height: the chain's PoW hash."""
    algorithm = create_algorithm(pow_vector["pow_algorithm"].split()[0])
    if algorithm.needs_seed and "seed_hash_hex" not in pow_vector:
        algorithm.close()
        pytest.skip(f"{algorithm.name} needs the seed hash, which this vector does not give")
    seed = bytes.fromhex(pow_vector["seed_hash_hex"]) if algorithm.needs_seed else None
    family = get_family(pow_vector["family"])
    try:
        digest = algorithm.hash(family.pow_blob(_blob(pow_vector)), height=pow_vector["height"], seed=seed)
    finally:
        algorithm.close()
    assert digest.hex() == pow_vector["expected_pow_hash_hex"]
