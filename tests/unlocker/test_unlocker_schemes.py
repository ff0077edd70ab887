"""The reward schemes: exact to the atomic unit for any shares, rates and rewards."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from athena_pool.payments.schemes import (
    Donation,
    Payout,
    RewardPolicy,
    SchemeName,
    percent,
    pplns,
    pplns_window_difficulty,
    prop,
    solo,
    split_by_weight,
)

ADDRESSES = ("alice", "bob", "c:a:rol", "dave.0123", "finder", "dev")
FINDER = "finder"
DEV = "dev"


@dataclass(frozen=True)
class Share:
    address: str
    difficulty: int


rates = st.fractions(min_value=0, max_value=1, max_denominator=10_000)
rewards = st.integers(min_value=0, max_value=2**63 - 1)
weights = st.dictionaries(st.sampled_from(ADDRESSES), st.integers(min_value=0, max_value=2**48), max_size=6)


@st.composite
def policies(draw: st.DrawFn) -> RewardPolicy:
    """Any valid policy: the three shared-block rates, and solo fee plus donation, each at most 100 %."""
    fee, finder, donation = draw(rates), draw(rates), draw(rates)
    assume(fee + finder + donation <= 1)
    solo_fee = draw(st.none() | rates)
    assume(solo_fee is None or solo_fee + donation <= 1)
    return RewardPolicy(
        pool_fee=fee,
        solo_fee=solo_fee,
        finder_reward=finder,
        donation=Donation(DEV, donation) if donation else None,
    )


def assert_exact(payout: Payout) -> None:
    parts = sum(payout.miners_atomic.values()) + payout.finder_atomic + payout.donation_atomic
    assert parts + payout.fee_atomic + payout.remainder_atomic == payout.reward_atomic
    assert payout.credited_atomic + payout.kept_atomic == payout.reward_atomic
    amounts = [*payout.credits.values(), payout.fee_atomic, payout.remainder_atomic, payout.donation_atomic]
    assert all(isinstance(a, int) and a >= 0 for a in amounts)
    assert all(a > 0 for a in payout.credits.values())  # nobody is listed with 0


@given(weights, rewards, policies())
def test_prop_adds_up_to_the_reward_exactly(
    shares: dict[str, int], reward: int, policy: RewardPolicy
) -> None:
    payout = prop(shares, reward, policy, FINDER)

    assert_exact(payout)
    assert payout.fee_atomic == reward * policy.pool_fee // 1
    assert payout.donation_atomic == reward * policy.donation_rate // 1
    assert payout.finder_atomic == reward * policy.finder_reward // 1
    assert payout.remainder_atomic < max(1, sum(1 for w in shares.values() if w))


@given(weights, rewards, policies())
def test_miners_are_paid_in_proportion_to_their_difficulty(
    shares: dict[str, int], reward: int, policy: RewardPolicy
) -> None:
    payout = prop(shares, reward, policy, FINDER)
    total = sum(shares.values())
    assume(total > 0)
    miners_part = reward - payout.fee_atomic - payout.donation_atomic - payout.finder_atomic

    for address, weight in shares.items():
        exact = Fraction(miners_part * weight, total)
        paid = payout.miners_atomic.get(address, 0)
        assert exact - 1 < paid <= exact  # rounded down, by less than one atomic unit
    ordered = sorted(shares, key=shares.__getitem__)
    paid_in_order = [payout.miners_atomic.get(address, 0) for address in ordered]
    assert paid_in_order == sorted(paid_in_order)  # more difficulty never earns less


@given(
    st.lists(st.tuples(st.sampled_from(ADDRESSES), st.integers(0, 2**40)), max_size=40), rewards, policies()
)
def test_pplns_pays_the_window_like_prop_pays_its_round(
    window: list[tuple[str, int]], reward: int, policy: RewardPolicy
) -> None:
    """A PPLNS window is a multiset of shares: the same difficulty per address pays the same."""
    summed: dict[str, int] = {}
    for address, difficulty in window:
        summed[address] = summed.get(address, 0) + difficulty

    payout = pplns([Share(a, d) for a, d in window], reward, policy, FINDER)

    assert_exact(payout)
    assert payout.scheme is SchemeName.PPLNS
    assert payout.miners_atomic == prop(summed, reward, policy, FINDER).miners_atomic


@given(st.sampled_from(ADDRESSES), rewards, policies())
def test_solo_pays_the_finder_alone(finder: str, reward: int, policy: RewardPolicy) -> None:
    payout = solo(finder, reward, policy)

    assert_exact(payout)
    assert set(payout.miners_atomic) <= {finder}
    assert set(payout.credits) <= {finder, DEV}
    assert payout.fee_atomic == reward * policy.solo_fee_rate // 1
    assert payout.finder_atomic == payout.remainder_atomic == 0
    assert payout.miners_atomic.get(finder, 0) == reward - payout.fee_atomic - payout.donation_atomic


@given(rewards, policies(), st.sampled_from([{}, {"alice": 0}, {"alice": 0, "bob": 0}]))
def test_a_round_without_difficulty_pays_the_finder(
    reward: int, policy: RewardPolicy, empty: dict[str, int]
) -> None:
    payout = prop(empty, reward, policy, FINDER)

    assert_exact(payout)
    assert set(payout.miners_atomic) <= {FINDER}
    assert payout.remainder_atomic == 0


@given(st.integers(min_value=0, max_value=10**20), weights)
def test_split_by_weight_is_exact_and_bounded(amount: int, shares: dict[str, int]) -> None:
    split, left = split_by_weight(amount, shares)

    assert sum(split.values()) + left == amount
    assert all(v > 0 for v in split.values())
    if any(shares.values()):
        assert 0 <= left < sum(1 for w in shares.values() if w)
    else:
        assert (split, left) == ({}, amount)


def test_exact_numbers_of_a_prop_block_with_every_deduction() -> None:
    policy = RewardPolicy(
        pool_fee=percent("1.5"), finder_reward=percent("0.5"), donation=Donation(DEV, percent("0.25"))
    )
    payout = prop({"alice": 3, "bob": 2, "carol": 2}, 1_000_003, policy, "bob")

    # fee floor(15000.045), donation floor(2500.0075), finder floor(5000.015); the rest 977_503 split 3:2:2
    assert (payout.fee_atomic, payout.donation_atomic, payout.finder_atomic) == (15_000, 2_500, 5_000)
    assert dict(payout.miners_atomic) == {"alice": 418_929, "bob": 279_286, "carol": 279_286}
    assert payout.remainder_atomic == 2
    assert dict(payout.credits) == {"alice": 418_929, "bob": 284_286, "carol": 279_286, DEV: 2_500}


def test_exact_numbers_of_a_solo_block() -> None:
    policy = RewardPolicy(pool_fee=percent(2), solo_fee=percent("0.5"), donation=Donation(DEV, percent(1)))
    payout = solo("carol", 1_999, policy)

    assert (payout.fee_atomic, payout.donation_atomic) == (9, 19)
    assert dict(payout.credits) == {"carol": 1_971, DEV: 19}


def test_pplns_window_size_is_factor_times_network_difficulty() -> None:
    assert pplns_window_difficulty(Fraction(2), 1_000_003) == 2_000_006
    assert pplns_window_difficulty(Fraction(1, 3), 10) == 3
    assert pplns_window_difficulty(Fraction(1, 100), 1) == 1  # never an empty window
    with pytest.raises(ValueError, match="factor"):
        pplns_window_difficulty(Fraction(0), 10)


def test_percentages_are_exact_rationals() -> None:
    assert percent("0.1") == Fraction(1, 1000)
    assert percent(Decimal("33.3")) == Fraction(333, 1_000)
    assert percent(100) == 1


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (lambda: RewardPolicy(pool_fee=Fraction(3, 2)), "pool fee"),
        (lambda: RewardPolicy(pool_fee=Fraction(-1, 100)), "pool fee"),
        (
            lambda: RewardPolicy(
                pool_fee=Fraction(1, 2),
                finder_reward=Fraction(1, 2),
                donation=Donation(DEV, Fraction(1, 100)),
            ),
            "exceed",
        ),
        (
            lambda: RewardPolicy(solo_fee=Fraction(99, 100), donation=Donation(DEV, Fraction(2, 100))),
            "exceed",
        ),
        (lambda: RewardPolicy(pool_fee=0.01), "pool fee"),  # type: ignore[arg-type]  # a float: refused
        (lambda: Donation("", Fraction(1, 100)), "address"),
    ],
)
def test_policies_that_would_create_money_are_refused(policy: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        policy()  # type: ignore[operator]


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_rewards_must_be_non_negative_ints(bad: object) -> None:
    with pytest.raises(ValueError, match="atomic units"):
        prop({"alice": 1}, bad, RewardPolicy(), FINDER)  # type: ignore[arg-type]


def test_negative_difficulty_is_refused() -> None:
    with pytest.raises(ValueError, match="weight"):
        prop({"alice": -1}, 100, RewardPolicy(), FINDER)
