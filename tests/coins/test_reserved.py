"""Cross-checking the daemon's reserved_offset (block-format.md section 2.3)."""

from __future__ import annotations

from coin_vectors import BlockVector

from athena_pool.coins import ReservedOffsetVerdict, cross_check_reserved_offset, get_family


def test_daemon_offsets_of_the_vectors(template_vector: BlockVector) -> None:
    daemon_offset = template_vector.get("daemon_reserved_offset")
    if daemon_offset is None:
        return
    family = get_family(template_vector["family"])
    check = cross_check_reserved_offset(family, bytes.fromhex(template_vector["blob_hex"]), daemon_offset)
    assert check.payload_offset == template_vector["reserved_payload_offset_in_blob"]
    # Only the legacy TurtleCoin template reports payload start + 1 (411 for 410).
    legacy = (template_vector["coin"], template_vector["height"]) == ("TRTL", 1457937)
    expected = ReservedOffsetVerdict.LEGACY_PLUS_ONE if legacy else ReservedOffsetVerdict.MATCHES
    assert check.verdict is expected


def test_descriptions_name_the_problem(vectors_by_key: dict[tuple[str, int, str], BlockVector]) -> None:
    family = get_family("forknote2")
    blob = bytes.fromhex(vectors_by_key[("TRTL", 1457937, "template")]["blob_hex"])
    legacy = cross_check_reserved_offset(family, blob, 411)
    assert legacy.description == (
        "daemon reserved_offset 411 is one past the payload start 410 (legacy Bytecoin-family off-by-one)"
    )
    assert cross_check_reserved_offset(family, blob, 410).verdict is ReservedOffsetVerdict.MATCHES
    wrong = cross_check_reserved_offset(family, blob, 409)
    assert wrong.verdict is ReservedOffsetVerdict.MISMATCH
    assert wrong.description == "daemon reserved_offset 409 disagrees with the parsed payload start 410"
