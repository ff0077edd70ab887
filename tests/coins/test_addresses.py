"""Address decoding and encoding with real published addresses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from athena_pool.coins import (
    AddressError,
    AddressKind,
    UnknownNetworkError,
    decode_address,
    describe_address,
    encode_address,
    get_network,
)
from athena_pool.coins.addresses import NETWORKS, _checksum
from athena_pool.coins.base58 import encode as base58_encode
from athena_pool.coins.ed25519 import is_valid_point
from athena_pool.coins.varint import encode_varint

# turtlecoin-utils test.ts "Prefix Detection".
ATHENA_UTILS_TEST = (
    "athena28QHa49cTHWjRLYN1XW46Xj8D2mPiu7bovQ67V4z1C84R16VSJvbHmD2Yfq5Yvw5GKVTnfuS5pX3LXH3LNPezfLhhe5Lc27"
)
# athena-network/athena-explorer README donation address.
ATHENA_EXPLORER_DONATION = (
    "athena1b1jdDkJxFyTBtYMAkjjXRBArmw6fiQErykvui9VPRca1DEjQR3e1smWg7QhGx6Hme44CpPez6eEH647VYFVBEZCT9Ddu5D"
)
# athena-network/athena-pool config.json poolAddress.
ATHENA_POOL_CONFIG = (
    "athena1rDLBMyYsoiS9rVDBkyPu6xS1DPdjqNBeQ1Rf28RBT6SAeFDjYvAi9dmsYE9NnvdESi5F3J4enUehWsg1dFyDKU7GJhsc47"
)
# turtlepay.io "Getting Started": a wallet address and the integrated address TurtlePay returned for it.
TRTL_TURTLEPAY = (
    "TRTLv1h8Ftb1sKNVFrXq7jYt4RsZVJcdVfda58UW5a7vLPDQP7dEivp579PHUosEECZLVo82FpHWvee4Xzy3b1ryhtj67XJG9Le"
)
TRTL_TURTLEPAY_INTEGRATED = (
    "TRTLuxjc5XH9u9NEJEujgd9G7yFeBn6Yq9je6X4SY4WZ9Q7nELU3RYr9jHyNEkT8FWHxWa79VMAPLHnvuquGpYJvAS2hrRF2K1q1sKNVFrXq7"
    "jYt4RsZVJcdVfda58UW5a7vLPDQP7dEivp579PHUosEECZLVo82FpHWvee4Xzy3b1ryhtj67YqTLjq"
)
TRTL_TURTLEPAY_PAYMENT_ID = "187d5415de821c01e74249a46e9f265ce487409c7b5eea2b2443ddc3a3f38c35"
# TurtleCoin docs/blog fee-address example (RockSteady's donation address).
TRTL_ROCKSTEADY = (
    "TRTLuxEnfjdF46cBoHhyDtPN32weD9fvL43KX5cx2Ck9iSP4BLNPrJY3xtuFpXtLxiA6LDYojhF7n4SwPNyj9M64iTwJ738vnJk"
)
# Monero's (old) general fund donation address and the current general fund subaddress.
XMR_GENERAL_FUND = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)
XMR_GENERAL_FUND_SUBADDRESS = (
    "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H"
)
# mrtnetwork/blockchain_utils integrated-address test vector.
XMR_INTEGRATED = (
    "4BUqMSeJfNQGudzEJNvzQ2LXh4tbUdW4YCM7mq55edxBT7t1297vwCMZSnJwGv"
    "EKEKbH8hGmhZZAGhdHbp2te6AA38ZMi4knaCKLprMPni"
)
XMR_INTEGRATED_SPEND = "041e74983374c95f1ae1be43916e3374c1d5efc1e049b143d69cc3d4856c189c"
XMR_INTEGRATED_VIEW = "2728614da40b12c1f9174b1969b744ccef87b9e92dde59f2e27e3390249e1f0c"
# monero-python / monero-cpp test utilities (stagenet primary address and a subaddress).
XMR_STAGENET = (
    "58qRVVjZ4KxMX57TH6yWqGcH5AswvZZS494hWHcHPt6cDkP7V8AqxFhi3RKXZueVRgUnk8niQGHSpY5Bm9DjuWn16GDKXpF"
)
XMR_STAGENET_SUBADDRESS = (
    "7B9w2xieXjhDumgPX39h1CAYELpsZ7Pe8Wqtr3pVL9jJ5gGDqgxjWt55gTYUCAuhahhM85ajEp6VbQfLDPETt4oT2ZRXa6n"
)
BASE_POINT = bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")
NOT_A_POINT = (2).to_bytes(32, "little")

REAL_ADDRESSES = [
    ("athena", ATHENA_UTILS_TEST, AddressKind.STANDARD, 6581243850),
    ("athena", ATHENA_EXPLORER_DONATION, AddressKind.STANDARD, 6581243850),
    ("athena", ATHENA_POOL_CONFIG, AddressKind.STANDARD, 6581243850),
    ("turtlecoin", TRTL_TURTLEPAY, AddressKind.STANDARD, 3914525),
    ("turtlecoin", TRTL_TURTLEPAY_INTEGRATED, AddressKind.INTEGRATED, 3914525),
    ("turtlecoin", TRTL_ROCKSTEADY, AddressKind.STANDARD, 3914525),
    ("monero", XMR_GENERAL_FUND, AddressKind.STANDARD, 18),
    ("monero", XMR_GENERAL_FUND_SUBADDRESS, AddressKind.SUBADDRESS, 42),
    ("monero", XMR_INTEGRATED, AddressKind.INTEGRATED, 19),
    ("monero_stagenet", XMR_STAGENET, AddressKind.STANDARD, 24),
    ("monero_stagenet", XMR_STAGENET_SUBADDRESS, AddressKind.SUBADDRESS, 36),
]


@pytest.mark.parametrize(("network", "text", "kind", "prefix"), REAL_ADDRESSES)
def test_real_addresses_decode_and_re_encode(network: str, text: str, kind: AddressKind, prefix: int) -> None:
    address = decode_address(text, network)
    assert (address.network, address.kind, address.prefix) == (network, kind, prefix)
    assert is_valid_point(address.public_spend_key) and is_valid_point(address.public_view_key)
    encoded = encode_address(
        network,
        address.public_spend_key,
        address.public_view_key,
        kind=kind,
        payment_id_hex=address.payment_id_hex,
    )
    assert encoded == text


def test_address_lengths_follow_the_prefix() -> None:
    assert {len(ATHENA_UTILS_TEST), len(ATHENA_EXPLORER_DONATION)} == {101}
    assert len(TRTL_TURTLEPAY) == 99 and len(TRTL_TURTLEPAY_INTEGRATED) == 187
    assert len(XMR_GENERAL_FUND) == 95 and len(XMR_INTEGRATED) == 106


def test_turtlecoin_integrated_address_embeds_the_payment_id() -> None:
    integrated = decode_address(TRTL_TURTLEPAY_INTEGRATED, "turtlecoin")
    standard = decode_address(TRTL_TURTLEPAY, "turtlecoin")
    assert integrated.payment_id_hex == TRTL_TURTLEPAY_PAYMENT_ID
    assert (integrated.public_spend_key, integrated.public_view_key) == (
        standard.public_spend_key,
        standard.public_view_key,
    )


def test_monero_integrated_address_keys_and_payment_id() -> None:
    address = decode_address(XMR_INTEGRATED, "monero")
    assert address.public_spend_key.hex() == XMR_INTEGRATED_SPEND
    assert address.public_view_key.hex() == XMR_INTEGRATED_VIEW
    assert address.payment_id_hex == "bc7ce989aa900caf"


def test_athena_integrated_address_round_trip() -> None:
    standard = decode_address(ATHENA_EXPLORER_DONATION, "athena")
    payment_id = "ab" * 32
    text = encode_address(
        "athena",
        standard.public_spend_key,
        standard.public_view_key,
        kind=AddressKind.INTEGRATED,
        payment_id_hex=payment_id,
    )
    assert text.startswith("athena") and len(text) == 189
    integrated = decode_address(text, "athena")
    assert (integrated.kind, integrated.payment_id_hex) == (AddressKind.INTEGRATED, payment_id)
    assert integrated.public_spend_key == standard.public_spend_key


def test_monero_testnet_addresses_round_trip() -> None:
    for kind, first_characters in ((AddressKind.STANDARD, "9A"), (AddressKind.SUBADDRESS, "B")):
        text = encode_address("monero_testnet", BASE_POINT, BASE_POINT, kind=kind)
        assert text[0] in first_characters
        assert decode_address(text, "monero_testnet").kind is kind


@pytest.mark.parametrize(
    ("text", "network", "message"),
    [
        (XMR_GENERAL_FUND, "athena", "wrong prefix 18: this is a Monero address, not an Athena one"),
        (
            ATHENA_UTILS_TEST,
            "turtlecoin",
            "wrong prefix 6581243850: this is an Athena address, not a TurtleCoin one",
        ),
        (TRTL_ROCKSTEADY, "athena", "wrong prefix 3914525: this is a TurtleCoin address, not an Athena one"),
        (XMR_STAGENET, "monero", "wrong prefix 24: this is a Monero stagenet address, not a Monero one"),
        (
            XMR_INTEGRATED,
            "monero_testnet",
            "wrong prefix 19: this is a Monero address, not a Monero testnet one",
        ),
    ],
)
def test_wrong_coin_is_named(text: str, network: str, message: str) -> None:
    with pytest.raises(AddressError, match=f"^{message}$"):
        decode_address(text, network)


def _raw_address(prefix: int, body: bytes) -> str:
    payload = encode_varint(prefix) + body
    return base58_encode(payload + _checksum(payload))


def test_unknown_prefix() -> None:
    with pytest.raises(AddressError, match=r"^unknown address prefix 4660: not an Athena address$"):
        decode_address(_raw_address(0x1234, BASE_POINT * 2), "athena")


def test_bad_character_is_named_with_its_position() -> None:
    text = ATHENA_UTILS_TEST[:10] + "0" + ATHENA_UTILS_TEST[11:]
    with pytest.raises(AddressError, match=r"^invalid base58 character '0' at position 10$"):
        decode_address(text, "athena")


def test_impossible_length() -> None:
    with pytest.raises(AddressError, match="invalid base58 length 100"):
        decode_address(ATHENA_UTILS_TEST[:-1], "athena")


def test_wrong_body_length() -> None:
    with pytest.raises(
        AddressError, match=r"^bad length: Athena addresses with this prefix hold 64 or 128 bytes, not 65$"
    ):
        decode_address(_raw_address(6581243850, BASE_POINT * 2 + b"\x00"), "athena")
    with pytest.raises(
        AddressError, match=r"^bad length: Monero addresses with this prefix hold 64 bytes, not 72$"
    ):
        decode_address(_raw_address(18, BASE_POINT * 2 + bytes(8)), "monero")
    with pytest.raises(AddressError, match="too short to hold a checksum"):
        decode_address(base58_encode(b"\x12\x00\x00"), "monero")


def test_bad_checksum() -> None:
    position = 50
    replacement = "2" if ATHENA_UTILS_TEST[position] != "2" else "3"
    text = ATHENA_UTILS_TEST[:position] + replacement + ATHENA_UTILS_TEST[position + 1 :]
    with pytest.raises(AddressError, match=r"^bad checksum"):
        decode_address(text, "athena")


def test_keys_must_be_curve_points() -> None:
    spend_invalid = encode_address("athena", NOT_A_POINT, BASE_POINT)
    with pytest.raises(AddressError, match=r"^public spend key is not a valid curve point$"):
        decode_address(spend_invalid, "athena")
    view_invalid = encode_address("monero", BASE_POINT, NOT_A_POINT)
    with pytest.raises(AddressError, match=r"^public view key is not a valid curve point$"):
        decode_address(view_invalid, "monero")
    assert decode_address(spend_invalid, "athena", check_keys=False).public_spend_key == NOT_A_POINT


def test_turtle_payment_id_must_be_hex_text() -> None:
    text = _raw_address(3914525, b"g" * 64 + BASE_POINT * 2)
    with pytest.raises(AddressError, match=r"^bad payment id"):
        decode_address(text, "turtlecoin")


def test_encode_errors() -> None:
    with pytest.raises(AddressError, match="needs a payment id"):
        encode_address("athena", BASE_POINT, BASE_POINT, kind=AddressKind.INTEGRATED)
    with pytest.raises(AddressError, match="payment id must be 16 hex characters, got 64"):
        encode_address(
            "monero", BASE_POINT, BASE_POINT, kind=AddressKind.INTEGRATED, payment_id_hex="00" * 32
        )
    with pytest.raises(AddressError, match="is not hex"):
        encode_address(
            "turtlecoin", BASE_POINT, BASE_POINT, kind=AddressKind.INTEGRATED, payment_id_hex="zz" * 32
        )
    with pytest.raises(AddressError, match=r"^Athena has no subaddress addresses$"):
        encode_address("athena", BASE_POINT, BASE_POINT, kind=AddressKind.SUBADDRESS)
    with pytest.raises(AddressError, match="32 bytes"):
        encode_address("athena", BASE_POINT[:31], BASE_POINT)


def test_unknown_network() -> None:
    with pytest.raises(UnknownNetworkError, match="unknown address network 'bytecoin'"):
        get_network("bytecoin")
    assert issubclass(UnknownNetworkError, ValueError)


def test_describe_address_is_json_ready() -> None:
    summary = describe_address(TRTL_TURTLEPAY_INTEGRATED, "turtlecoin")
    assert json.loads(json.dumps(summary)) == summary
    assert summary["kind"] == "integrated"
    assert summary["prefix"] == 3914525
    assert summary["payment_id"] == TRTL_TURTLEPAY_PAYMENT_ID
    assert summary["public_spend_key"] == decode_address(TRTL_TURTLEPAY, "turtlecoin").public_spend_key.hex()
    with pytest.raises(AddressError, match="this is a TurtleCoin address, not an Athena one"):
        describe_address(TRTL_TURTLEPAY, "athena")


def test_networks_have_distinct_prefixes_across_coins() -> None:
    owners: dict[int, str] = {}
    for network in NETWORKS:
        for prefix in {network.standard_prefix, network.integrated_prefix, network.subaddress_prefix} - {
            None
        }:
            assert prefix is not None
            assert owners.setdefault(prefix, network.name) == network.name


def test_ed25519_point_check() -> None:
    assert is_valid_point(BASE_POINT)
    identity = (1).to_bytes(32, "little")
    assert is_valid_point(identity)
    # x = 0 with the sign bit set has no encoding; y = p is non-canonical.
    assert not is_valid_point(identity[:31] + b"\x80")
    assert not is_valid_point((2**255 - 19).to_bytes(32, "little"))
    assert not is_valid_point(NOT_A_POINT)
    assert not is_valid_point(BASE_POINT[:31])


keys = st.binary(min_size=32, max_size=32)


@given(
    network=st.sampled_from([network.name for network in NETWORKS]),
    spend_key=keys,
    view_key=keys,
    payment_id=st.binary(min_size=32, max_size=32),
)
def test_encode_decode_round_trip(network: str, spend_key: bytes, view_key: bytes, payment_id: bytes) -> None:
    monero_style = get_network(network).integrated_prefix != get_network(network).standard_prefix
    payment_id_hex = payment_id[:8].hex() if monero_style else payment_id.hex()
    for kind, pid in ((AddressKind.STANDARD, None), (AddressKind.INTEGRATED, payment_id_hex)):
        text = encode_address(network, spend_key, view_key, kind=kind, payment_id_hex=pid)
        address = decode_address(text, network, check_keys=False)
        assert (address.kind, address.payment_id_hex) == (kind, pid)
        assert (address.public_spend_key, address.public_view_key) == (spend_key, view_key)
