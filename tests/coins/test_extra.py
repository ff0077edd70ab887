"""Tagged fields of tx extra (block-format.md section 2.2)."""

from __future__ import annotations

import pytest
from coin_vectors import BlockVector

from athena_pool.coins import get_family
from athena_pool.coins.errors import BlobError
from athena_pool.coins.extra import (
    ExtraTag,
    find_merge_mining_tag,
    find_reserved_field,
    find_tx_public_key,
    merge_mining_field,
    nonce_field,
    parse_extra,
    parse_merge_mining_body,
    pubkey_field,
)

KEY = bytes(range(32))
ROOT = bytes(range(32, 64))


def _tags(extra: bytes) -> list[tuple[int, bool]]:
    return [(field.tag, field.opaque) for field in parse_extra(extra)]


def test_pool_layout_pubkey_then_reserved_space() -> None:
    extra = pubkey_field(KEY) + nonce_field(17)
    fields = parse_extra(extra)
    assert [field.tag for field in fields] == [ExtraTag.TX_PUBKEY, ExtraTag.NONCE]
    reserved = find_reserved_field(fields)
    assert reserved is not None
    assert (reserved.offset, reserved.payload_offset, reserved.payload) == (33, 35, bytes(17))
    assert find_tx_public_key(fields) == KEY


def test_merge_mining_tag_round_trip() -> None:
    field = merge_mining_field(1, ROOT)
    assert field[:3] == bytes.fromhex("032101")
    tag = find_merge_mining_tag(parse_extra(field))
    assert tag is not None
    assert (tag.depth, tag.merkle_root) == (1, ROOT)


def test_padding_runs_to_the_end() -> None:
    fields = parse_extra(pubkey_field(KEY) + bytes(5))
    assert [(field.tag, len(field.payload)) for field in fields] == [(1, 32), (0, 4)]


def test_unknown_tag_makes_the_rest_opaque() -> None:
    # TurtleCoin v6 puts 32-byte keys behind tag 04 without a length byte: nothing after it is trusted.
    extra = pubkey_field(KEY) + b"\x04" + ROOT + nonce_field(4)
    assert _tags(extra) == [(1, False), (4, True)]
    assert find_reserved_field(parse_extra(extra)) is None


def test_malformed_fields_become_opaque() -> None:
    truncated_nonce = pubkey_field(KEY) + bytes.fromhex("0210") + bytes(3)
    assert _tags(truncated_nonce) == [(1, False), (2, True)]
    bad_merge_mining_body = bytes.fromhex("0302") + b"\x00\x00"
    assert _tags(bad_merge_mining_body) == [(3, True)]
    assert find_merge_mining_tag(parse_extra(bad_merge_mining_body)) is None
    assert parse_extra(b"") == ()


def test_merge_mining_body_must_be_exact() -> None:
    with pytest.raises(BlobError, match="unexpected bytes"):
        parse_merge_mining_body(b"\x00" + ROOT + b"\x00")


def test_turtlecoin_v6_pool_nonce(vectors_by_key: dict[tuple[str, int, str], BlockVector]) -> None:
    block = get_family("forknote2").parse(
        bytes.fromhex(vectors_by_key[("TRTL", 2674823, "template")]["blob_hex"])
    )
    fields = block.miner_tx.extra_fields
    assert [(field.tag, field.opaque) for field in fields] == [(1, False), (7, False), (4, True)]
    reserved = find_reserved_field(fields)
    assert reserved is not None
    assert reserved.tag == ExtraTag.POOL_NONCE
    assert len(reserved.payload) == 6


def test_foreign_parent_extra_keeps_the_first_merge_mining_tag(
    vectors_by_key: dict[tuple[str, int, str], BlockVector],
) -> None:
    """Loki-style parents: 1400001 ends with service-node tag 0x72; 1579199 carries two 03 tags."""
    family = get_family("forknote2")
    loki = family.parse(bytes.fromhex(vectors_by_key[("TRTL", 1400001, "block")]["blob_hex"]))
    assert loki.parent is not None
    assert [(field.tag, field.opaque) for field in loki.parent.miner_tx.extra_fields][-1] == (0x72, True)
    double = family.parse(bytes.fromhex(vectors_by_key[("TRTL", 1579199, "block")]["blob_hex"]))
    assert double.parent is not None
    tags = [field.tag for field in double.parent.miner_tx.extra_fields]
    assert tags.count(ExtraTag.MERGE_MINING) == 2
    first = find_merge_mining_tag(double.parent.miner_tx.extra_fields)
    assert first is not None
    assert first.depth == 1


def test_field_builders_validate_sizes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        pubkey_field(b"\x01")
    with pytest.raises(ValueError, match="32 bytes"):
        merge_mining_field(0, b"\x01")
    with pytest.raises(ValueError, match="got 0"):
        nonce_field(0)
