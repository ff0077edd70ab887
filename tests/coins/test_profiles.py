"""Coin profiles are data, looked up by name."""

from __future__ import annotations

import dataclasses

import pytest

from athena_pool.coins import COINS, RpcDialect, UnknownCoinError, get_coin, get_family, get_network


def test_athena_profile() -> None:
    athena = get_coin("athena")
    assert (athena.symbol, athena.decimal_places, athena.atomic_units_per_coin) == ("ATHX", 2, 100)
    assert (athena.blob_family, athena.pow_algorithm) == ("forknote2", "cn-lite/1")
    assert (athena.coinbase_unlock_depth, athena.target_block_seconds) == (4, 3600)
    assert (athena.default_daemon_rpc_port, athena.rpc_dialect) == (12001, RpcDialect.TURTLE)
    assert athena.network().standard_prefix == 6581243850
    assert athena.supports_payment_ids and athena.supports_integrated_addresses


def test_turtlecoin_and_monero_profiles() -> None:
    turtle, monero = get_coin("turtlecoin"), get_coin("monero")
    assert (turtle.atomic_units_per_coin, turtle.pow_algorithm, turtle.coinbase_unlock_depth) == (
        100,
        "argon2/chukwav2",
        40,
    )
    assert (turtle.target_block_seconds, turtle.network().standard_prefix) == (30, 3914525)
    assert (monero.atomic_units_per_coin, monero.pow_algorithm, monero.coinbase_unlock_depth) == (
        10**12,
        "rx/0",
        60,
    )
    assert (monero.target_block_seconds, monero.rpc_dialect, monero.blob_family) == (
        120,
        RpcDialect.MONERO,
        "monero",
    )


def test_every_profile_resolves_its_family_and_network() -> None:
    for coin in COINS:
        assert coin.family().name == get_family(coin.blob_family).name
        assert coin.network() == get_network(coin.address_network)


def test_lookup_by_symbol_and_case() -> None:
    assert get_coin("XMR") is get_coin("monero")
    assert get_coin("Athena") is get_coin("athena")


def test_unknown_coin_lists_known_names() -> None:
    with pytest.raises(
        UnknownCoinError, match="unknown coin 'aeon'; known coins: athena, turtlecoin, monero"
    ):
        get_coin("aeon")
    # Unknown names are bad input: CLI and config validation catch ValueError.
    assert issubclass(UnknownCoinError, ValueError)


def test_profiles_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_coin("athena").decimal_places = 8  # type: ignore[misc]
