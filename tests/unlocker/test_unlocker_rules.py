"""The unlock rule (pure) and the unlocker's settings: defaults from the coin, exact rates, refusals."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from athena_pool.coins.profiles import get_coin
from athena_pool.devnet.keys import generate_address
from athena_pool.payments.schemes import SchemeName
from athena_pool.rpc import BlockHeader
from athena_pool.unlocker import Depths, UnlockerSettings, UnlockRules, Verdict, classify

OURS, RIVAL = "ab" * 32, "cd" * 32
DEPTHS = Depths(unlock=4, orphan=6)


def header(hash_hex: str, depth: int, *, orphan: bool = False) -> BlockHeader:
    return BlockHeader(
        height=10, hash_hex=hash_hex, orphan=orphan, reward_atomic=5, difficulty=1, depth=depth, timestamp=0,
        prev_hash_hex="00" * 32,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        (header(OURS, 0), Verdict.WAIT),
        (header(OURS, 3), Verdict.WAIT),
        (header(OURS, 4), Verdict.UNLOCK),
        (header(OURS.upper(), 100), Verdict.UNLOCK),  # hex case is not identity
        (header(RIVAL, 0), Verdict.WAIT),  # a rival that may itself be reorged away
        (header(RIVAL, 5), Verdict.WAIT),
        (header(RIVAL, 6), Verdict.ORPHAN),
        (header(OURS, 6, orphan=True), Verdict.ORPHAN),  # the daemon says it is off the main chain
        (header(OURS, 5, orphan=True), Verdict.WAIT),
        (None, Verdict.WAIT),  # no block at that height in the daemon's chain
    ],
)
def test_unlock_rule(answer: BlockHeader | None, verdict: Verdict) -> None:
    assert classify(OURS, answer, DEPTHS) is verdict


def test_depths_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Depths(unlock=0, orphan=1)


@pytest.mark.parametrize(("coin", "depth"), [("athena", 4), ("turtlecoin", 40), ("monero", 60)])
def test_depths_default_to_the_coins_coinbase_unlock(coin: str, depth: int) -> None:
    rules = UnlockRules.for_coin(UnlockerSettings(), get_coin(coin))
    assert (rules.unlock_depth, rules.orphan_depth) == (depth, depth)


def test_configured_depths_win() -> None:
    rules = UnlockRules.for_coin(UnlockerSettings(unlock_depth=10, orphan_depth=20), get_coin("monero"))
    assert (rules.unlock_depth, rules.orphan_depth) == (10, 20)


def test_settings_from_json_give_exact_rates() -> None:
    dev = generate_address(random.Random(1), "athena")
    data: dict[str, Any] = {
        "interval": 15,
        "scheme": "prop",
        "pplns_factor": 1.5,
        "pool_fee_percent": 0.1,  # a JSON float: read as the decimal it was written as
        "solo_fee_percent": "0.05",
        "finder_reward_percent": 0.2,
        "donation_address": dev,
        "donation_percent": 0.3,
    }
    settings = TypeAdapter(UnlockerSettings).validate_python(data)
    rules = UnlockRules.for_coin(settings, get_coin("athena"))

    assert rules.scheme is SchemeName.PROP and rules.pplns_factor == Fraction(3, 2) and rules.interval == 15
    policy = rules.policy
    assert (policy.pool_fee, policy.solo_fee, policy.finder_reward) == (
        Fraction(1, 1000),
        Fraction(1, 2000),
        Fraction(1, 500),
    )
    assert policy.donation is not None and (policy.donation.address, policy.donation.rate) == (
        dev,
        Fraction(3, 1000),
    )


def test_defaults_are_pplns_with_a_one_percent_fee() -> None:
    rules = UnlockRules.for_coin(UnlockerSettings(), get_coin("athena"))
    assert (rules.scheme, rules.pplns_factor, rules.policy.pool_fee) == (
        SchemeName.PPLNS,
        2,
        Fraction(1, 100),
    )
    assert rules.policy.donation is None and rules.policy.solo_fee_rate == Fraction(1, 100)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"interval": 0}, "interval"),
        ({"scheme": "pps"}, "scheme"),
        ({"pplns_factor": 0}, "pplns_factor"),
        ({"unlock_depth": 0}, "unlock_depth"),
        ({"orphan_depth": -1}, "orphan_depth"),
        ({"pool_fee_percent": 101}, "pool_fee_percent"),
        ({"pool_fee_percent": -1}, "pool_fee_percent"),
        ({"pool_fee_percent": 60, "finder_reward_percent": 50}, "exceed"),
        ({"donation_percent": 1}, "donation_address"),
        ({"credit_history": 0}, "credit_history"),
    ],
)
def test_bad_settings_are_refused_with_their_name(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TypeAdapter(UnlockerSettings).validate_python(fields)


def test_a_donation_address_of_another_coin_is_refused() -> None:
    settings = UnlockerSettings(donation_address=generate_address(random.Random(2), "monero"),
                                donation_percent=Decimal(1))  # fmt: skip
    with pytest.raises(ValueError, match="donation_address"):
        UnlockRules.for_coin(settings, get_coin("athena"))
