"""The forknote2 template builder used by the simulated Athena daemon."""

from __future__ import annotations

import pytest
from coin_vectors import BlockVector

from athena_pool.coins import (
    NoReservedSpaceError,
    ReservedOffsetVerdict,
    cross_check_reserved_offset,
    describe,
    get_family,
)
from athena_pool.coins.extra import find_merge_mining_tag, find_reserved_field, find_tx_public_key
from athena_pool.coins.families.forknote2 import CoinbaseParts, TemplateParts, aux_chain_root, build_template
from athena_pool.coins.hashing import cn_fast_hash
from athena_pool.coins.varint import encode_varint

FAMILY = get_family("forknote2")
PREV_ID = cn_fast_hash(b"athena devnet block 12344")
TX_PUBLIC_KEY = cn_fast_hash(b"tx public key")
OUTPUT_KEYS = (cn_fast_hash(b"output 0"), cn_fast_hash(b"output 1"))
TX_HASHES = (cn_fast_hash(b"tx 1"), cn_fast_hash(b"tx 2"))
TIMESTAMP = 1_700_000_000
HEIGHT = 12345


def _parts(reserve_size: int = 8, major_version: int = 4) -> TemplateParts:
    coinbase = CoinbaseParts(
        unlock_time=HEIGHT + 4,
        outputs=((7, OUTPUT_KEYS[0]), (9000, OUTPUT_KEYS[1])),
        tx_public_key=TX_PUBLIC_KEY,
        reserve_size=reserve_size,
    )
    return TemplateParts(major_version, 0, PREV_ID, TIMESTAMP, HEIGHT, coinbase, TX_HASHES)


def test_built_template_parses_back_to_its_parts() -> None:
    template = build_template(_parts())
    block = FAMILY.parse(template)
    assert (block.major_version, block.minor_version, block.height) == (4, 0, HEIGHT)
    assert (block.timestamp, block.prev_id, block.nonce) == (TIMESTAMP, PREV_ID, bytes(4))
    assert block.tx_hashes == TX_HASHES
    assert block.miner_tx.version == 1
    assert block.miner_tx.unlock_time == HEIGHT + 4
    assert [(output.amount_atomic, output.key) for output in block.miner_tx.outputs] == [
        (7, OUTPUT_KEYS[0]),
        (9000, OUTPUT_KEYS[1]),
    ]
    assert find_tx_public_key(block.miner_tx.extra_fields) == TX_PUBLIC_KEY
    assert FAMILY.serialize(block) == template


def test_built_template_has_a_daemon_native_parent() -> None:
    block = FAMILY.parse(build_template(_parts()))
    assert block.parent is not None
    assert (block.parent.major_version, block.parent.minor_version) == (0, 0)
    assert block.parent.prev_id == bytes(32)
    assert block.parent.tx_count == 1
    assert block.parent.miner_tx.version == 0
    tag = find_merge_mining_tag(block.parent.miner_tx.extra_fields)
    assert tag is not None
    assert (tag.depth, tag.merkle_root) == (0, bytes(32))


@pytest.mark.parametrize("reserve_size", [1, 8, 17, 127, 128, 255])
def test_reserved_space_is_02_varint_r_zeros(reserve_size: int) -> None:
    template = build_template(_parts(reserve_size))
    offset, size = FAMILY.reserved_space(template)
    size_varint = encode_varint(reserve_size)
    assert size == reserve_size
    assert template[offset - len(size_varint) - 1 : offset] == b"\x02" + size_varint
    assert template[offset : offset + size] == bytes(size)
    # It directly follows the tx public key field.
    pubkey_field_start = offset - len(size_varint) - 1 - 33
    assert template[pubkey_field_start : pubkey_field_start + 33] == b"\x01" + TX_PUBLIC_KEY
    check = cross_check_reserved_offset(FAMILY, template, offset + 1)
    assert check.verdict is ReservedOffsetVerdict.LEGACY_PLUS_ONE


def test_zero_reserve_leaves_no_reserved_space() -> None:
    template = build_template(_parts(0))
    assert find_reserved_field(FAMILY.parse(template).miner_tx.extra_fields) is None
    with pytest.raises(NoReservedSpaceError, match="was reserve_size 0"):
        FAMILY.reserved_space(template)
    assert cross_check_reserved_offset(FAMILY, template, 0).verdict is ReservedOffsetVerdict.NO_RESERVE
    assert describe("forknote2", template)["reserved_offset"] is None


def test_hashing_blob_and_offsets_of_a_built_template() -> None:
    template = build_template(_parts())
    hashing_blob = FAMILY.hashing_blob(template)
    assert len(hashing_blob) == 76
    assert hashing_blob[:2] == b"\x01\x00"
    assert hashing_blob[2:7] == encode_varint(TIMESTAMP)
    assert hashing_blob[7:39] == PREV_ID
    assert hashing_blob[39:43] == bytes(4)
    assert hashing_blob[75] == 1
    assert (FAMILY.nonce_offset(template), FAMILY.blob_nonce_offset(template)) == (39, 73)


def test_mining_a_built_template() -> None:
    template = build_template(_parts())
    job = FAMILY.with_extra_nonce(template, 0, bytes.fromhex("00000001a1b2c3d4"))
    nonce = bytes.fromhex("0badf00d")
    block_blob = FAMILY.assemble_block(job, nonce)
    job_hashing_blob = FAMILY.hashing_blob(job)
    assert FAMILY.pow_blob(block_blob) == job_hashing_blob[:39] + nonce + job_hashing_blob[43:]
    block = FAMILY.parse(block_blob)
    assert block.parent is not None
    assert block.parent.major_version == 1
    tag = find_merge_mining_tag(block.parent.miner_tx.extra_fields)
    assert tag is not None
    # Consensus accepts the pool-built parent: its merge-mining root commits to this child.
    assert aux_chain_root(block, cn_fast_hash(b"any genesis")) == tag.merkle_root
    assert FAMILY.block_id(block_blob) != FAMILY.block_id(job)


def test_builder_reproduces_real_daemon_templates(
    vectors_by_key: dict[tuple[str, int, str], BlockVector],
) -> None:
    """TRTL 1457937 and IRD 1143201 are daemon-native templates: rebuilding them from parts is exact."""
    for key in (("TRTL", 1457937, "template"), ("IRD", 1143201, "template")):
        blob = bytes.fromhex(vectors_by_key[key]["blob_hex"])
        block = FAMILY.parse(blob)
        fields = block.miner_tx.extra_fields
        public_key, reserved = find_tx_public_key(fields), find_reserved_field(fields)
        assert public_key is not None and reserved is not None
        coinbase = CoinbaseParts(
            unlock_time=block.miner_tx.unlock_time,
            outputs=[(output.amount_atomic, output.key) for output in block.miner_tx.outputs],
            tx_public_key=public_key,
            reserve_size=len(reserved.payload),
        )
        parts = TemplateParts(
            block.major_version,
            block.minor_version,
            block.prev_id,
            block.timestamp,
            block.height,
            coinbase,
            block.tx_hashes,
        )
        assert build_template(parts) == blob


def test_builder_rejects_major_version_1() -> None:
    with pytest.raises(ValueError, match="major version >= 2"):
        build_template(_parts(major_version=1))


def test_builder_rejects_oversized_reserve() -> None:
    with pytest.raises(ValueError, match=r"reserve size must be 1\.\.255, got 256"):
        build_template(_parts(256))
