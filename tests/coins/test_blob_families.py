"""Family behaviour beyond the vectors: registry, errors, extra nonce, the 202612 exception."""

from __future__ import annotations

import pytest
from coin_vectors import BlockVector, load_block_vectors
from hypothesis import given
from hypothesis import strategies as st

from athena_pool.coins import FAMILY_NAMES, BlobError, UnknownFamilyError, get_family
from athena_pool.coins.families.base import length_prefixed_hash
from athena_pool.coins.families.plain import EXCEPTIONAL_BLOCK_ID

VectorIndex = dict[tuple[str, int, str], BlockVector]
XMR_TEMPLATE = ("XMR", 3195018, "template")
TRTL_TEMPLATE = ("TRTL", 1457937, "template")
IRD_TEMPLATE = ("IRD", 1143201, "template")
XMR_202612 = ("XMR", 202612, "block")


def _blob(vectors: VectorIndex, key: tuple[str, int, str]) -> bytes:
    return bytes.fromhex(vectors[key]["blob_hex"])


def test_registry_knows_the_three_families() -> None:
    assert set(FAMILY_NAMES) == {"monero", "forknote2", "cryptonote_v1"}
    for name in FAMILY_NAMES:
        assert get_family(name).name == name


def test_unknown_family_names_the_known_ones() -> None:
    with pytest.raises(UnknownFamilyError, match=r"unknown blob family 'bytecoin'.*monero.*forknote2"):
        get_family("bytecoin")
    assert issubclass(UnknownFamilyError, ValueError)


@pytest.mark.parametrize("key", [XMR_TEMPLATE, TRTL_TEMPLATE])
def test_every_truncation_is_a_blob_error(vectors_by_key: VectorIndex, key: tuple[str, int, str]) -> None:
    vector = vectors_by_key[key]
    family = get_family(vector["family"])
    blob = _blob(vectors_by_key, key)
    for cut in range(len(blob)):
        with pytest.raises(BlobError):
            family.parse(blob[:cut])


def test_truncation_message_names_the_field(vectors_by_key: VectorIndex) -> None:
    blob = _blob(vectors_by_key, XMR_TEMPLATE)
    with pytest.raises(BlobError, match=r"^blob truncated at offset 10 while reading prev_id$"):
        get_family("monero").parse(blob[:10])
    with pytest.raises(BlobError, match=r"^blob truncated at offset 192 while reading tx hash count$"):
        get_family("monero").parse(blob[:192])


def test_trailing_bytes_are_rejected(vectors_by_key: VectorIndex) -> None:
    blob = _blob(vectors_by_key, TRTL_TEMPLATE)
    with pytest.raises(BlobError, match="1 unexpected bytes at offset 993 after the tx hashes"):
        get_family("forknote2").parse(blob + b"\x00")


def test_forknote2_refuses_major_1_blocks(vectors_by_key: VectorIndex) -> None:
    genesis = _blob(vectors_by_key, ("TRTL", 0, "block"))
    with pytest.raises(BlobError, match="major version 1 has no parent block: use the cryptonote_v1 family"):
        get_family("forknote2").parse(genesis)
    assert get_family("cryptonote_v1").height(genesis) == 0


def test_a_forknote2_blob_is_not_a_plain_blob(vectors_by_key: VectorIndex) -> None:
    with pytest.raises(BlobError):
        get_family("monero").parse(_blob(vectors_by_key, TRTL_TEMPLATE))


def test_block_202612_uses_the_hard_coded_id(vectors_by_key: VectorIndex) -> None:
    family = get_family("cryptonote_v1")
    blob = _blob(vectors_by_key, XMR_202612)
    assert family.block_id(blob) == EXCEPTIONAL_BLOCK_ID
    assert get_family("monero").block_id(blob) == EXCEPTIONAL_BLOCK_ID
    # With the correct tree the id would be 426d16cf…331a (block-format.md section 5).
    correct_tree_id = length_prefixed_hash(family.hashing_blob(blob)).hex()
    assert correct_tree_id.startswith("426d16cf") and correct_tree_id.endswith("331a")


def test_exception_needs_the_exact_blob(vectors_by_key: VectorIndex) -> None:
    family = get_family("cryptonote_v1")
    other_nonce = family.assemble_block(_blob(vectors_by_key, XMR_202612), b"\x01\x02\x03\x04")
    assert family.block_id(other_nonce) == length_prefixed_hash(family.hashing_blob(other_nonce))
    assert family.block_id(other_nonce) != EXCEPTIONAL_BLOCK_ID


@pytest.mark.parametrize("key", [XMR_TEMPLATE, TRTL_TEMPLATE, IRD_TEMPLATE])
def test_extra_nonce_lands_in_the_reserved_space(
    vectors_by_key: VectorIndex, key: tuple[str, int, str]
) -> None:
    family = get_family(vectors_by_key[key]["family"])
    template = _blob(vectors_by_key, key)
    space = family.reserved_space(template)
    extra_nonce = bytes.fromhex("0000002a") + bytes.fromhex("c0ffee01")[: space.size - 4]
    job = family.with_extra_nonce(template, 0, extra_nonce)
    assert len(job) == len(template)
    assert job[space.offset : space.offset + len(extra_nonce)] == extra_nonce
    assert job[: space.offset] == template[: space.offset]
    assert job[space.offset + len(extra_nonce) :] == template[space.offset + len(extra_nonce) :]
    # A different extra nonce changes the miner tx, so every job needs its own hashing blob.
    assert family.hashing_blob(job) != family.hashing_blob(template)
    assert family.reserved_space(job) == space


def test_extra_nonce_is_bounds_checked(vectors_by_key: VectorIndex) -> None:
    family = get_family("forknote2")
    template = _blob(vectors_by_key, TRTL_TEMPLATE)
    assert family.reserved_space(template).size == 6
    assert family.with_extra_nonce(template, 2, b"\xaa" * 4) != template
    with pytest.raises(BlobError, match="5 bytes at offset 2 do not fit the 6-byte reserved space"):
        family.with_extra_nonce(template, 2, b"\xaa" * 5)
    with pytest.raises(BlobError, match="at offset -1"):
        family.with_extra_nonce(template, -1, b"\xaa")


def test_assemble_rejects_a_wrong_nonce_size(vectors_by_key: VectorIndex) -> None:
    for key in (XMR_TEMPLATE, TRTL_TEMPLATE):
        family = get_family(vectors_by_key[key]["family"])
        with pytest.raises(BlobError, match="nonce must be 4 bytes, got 3"):
            family.assemble_block(_blob(vectors_by_key, key), b"\x00\x01\x02")


def test_assembling_a_job_keeps_its_extra_nonce(vectors_by_key: VectorIndex) -> None:
    family = get_family("forknote2")
    job = family.with_extra_nonce(_blob(vectors_by_key, IRD_TEMPLATE), 0, bytes.fromhex("0000000711223344"))
    block = family.assemble_block(job, bytes.fromhex("deadbeef"))
    space = family.reserved_space(block)
    assert block[space.offset : space.offset + 8].hex() == "0000000711223344"
    assert family.parse(block).miner_tx == family.parse(job).miner_tx


@given(nonce=st.binary(min_size=4, max_size=4), extra_nonce=st.binary(min_size=8, max_size=8))
def test_job_property_for_every_family(nonce: bytes, extra_nonce: bytes) -> None:
    """hashing_blob(assemble(job, n)) is hashing_blob(job) with n at nonce_offset, on real templates."""
    templates = [vector for vector in load_block_vectors() if vector["kind"] == "template"]
    if not templates:
        pytest.skip("block vectors not found")
    for vector in templates:
        family = get_family(vector["family"])
        job = family.with_extra_nonce(bytes.fromhex(vector["blob_hex"]), 0, extra_nonce[:6])
        offset = family.nonce_offset(job)
        job_hashing_blob = family.hashing_blob(job)
        expected = job_hashing_blob[:offset] + nonce + job_hashing_blob[offset + 4 :]
        assert family.hashing_blob(family.assemble_block(job, nonce)) == expected
