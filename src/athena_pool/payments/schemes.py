"""Reward schemes as pure functions over integers: PROP, PPLNS and SOLO.

Amounts are ints of atomic units; rates (pool fee, finder reward, dev donation) are exact `Fraction`s, so no
float ever touches money. A block reward is split in this order:

1. pool fee      = floor(reward x fee rate)            (a SOLO block uses the solo fee rate)
2. dev donation  = floor(reward x donation rate)
3. finder reward = floor(reward x finder rate)         (shared blocks only; a solo finder gets it all anyway)
4. the miners' part, what is left, is shared by weight: PROP weighs the round's difficulty per address,
   PPLNS the difficulty per address in the window (its edge share already trimmed), SOLO gives it to the
   finder alone. Each address gets floor(part x weight / total weight).
5. the floors of step 4 leave a rounding remainder, less than one atomic unit per address credited. It is
   kept by the pool together with its fee (the ledger's `fees_total` holds both).

Hence, for every block: sum(miners) + finder + donation + fee + remainder == reward, exactly.
The floors of steps 1-3 round in the miners' favour. A shared block whose round or window holds no
difficulty at all (nobody's shares survived) gives the miners' part to the finder, who did the work.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Protocol


class SchemeName(enum.StrEnum):
    PROP = "prop"
    PPLNS = "pplns"
    SOLO = "solo"


class WindowShare(Protocol):
    """One share of a PPLNS window (`storage.PplnsShare` is one)."""

    @property
    def address(self) -> str: ...

    @property
    def difficulty(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Donation:
    address: str
    rate: Fraction

    def __post_init__(self) -> None:
        if not self.address:
            raise ValueError("a dev donation needs an address")
        _check_rate("donation", self.rate)


@dataclass(frozen=True, slots=True)
class RewardPolicy:
    """What comes off a block's reward before the miners share it. Rates are fractions of the reward."""

    pool_fee: Fraction = Fraction(0)
    solo_fee: Fraction | None = None  # None: solo blocks pay the pool fee too
    finder_reward: Fraction = Fraction(0)
    donation: Donation | None = None

    def __post_init__(self) -> None:
        _check_rate("pool fee", self.pool_fee)
        _check_rate("finder reward", self.finder_reward)
        if self.solo_fee is not None:
            _check_rate("solo fee", self.solo_fee)
        if self.pool_fee + self.finder_reward + self.donation_rate > 1:
            raise ValueError("pool fee, finder reward and donation together exceed the whole reward")
        if self.solo_fee_rate + self.donation_rate > 1:
            raise ValueError("solo fee and donation together exceed the whole reward")

    @property
    def donation_rate(self) -> Fraction:
        return self.donation.rate if self.donation else Fraction(0)

    @property
    def solo_fee_rate(self) -> Fraction:
        return self.pool_fee if self.solo_fee is None else self.solo_fee


@dataclass(frozen=True, slots=True)
class Payout:
    """How one block's reward is split. `credits` is what goes to balances; the pool keeps `kept_atomic`."""

    scheme: SchemeName
    reward_atomic: int
    miners_atomic: Mapping[str, int]  # the miners' part by weight; addresses credited 0 are left out
    finder_address: str
    finder_atomic: int
    donation_address: str | None
    donation_atomic: int
    fee_atomic: int
    remainder_atomic: int
    credits: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        if self.donation_atomic and not self.donation_address:
            raise ValueError("a donation without an address")
        credits = dict(self.miners_atomic)
        extras = ((self.finder_address, self.finder_atomic), (self.donation_address, self.donation_atomic))
        for address, amount in extras:
            if address and amount:
                credits[address] = credits.get(address, 0) + amount
        object.__setattr__(self, "credits", credits)
        total = self.credited_atomic + self.kept_atomic
        if total != self.reward_atomic:  # a bug here would create or destroy money: refuse loudly
            raise ArithmeticError(f"payout adds up to {total}, not the reward {self.reward_atomic}")

    @property
    def credited_atomic(self) -> int:
        """Everything credited to balances: miners, finder reward, dev donation."""
        return sum(self.credits.values())

    @property
    def kept_atomic(self) -> int:
        """What stays with the pool: its fee and the rounding remainder."""
        return self.fee_atomic + self.remainder_atomic


def prop(round_shares: Mapping[str, int], reward_atomic: int, policy: RewardPolicy, finder: str) -> Payout:
    """PROP: the round the block closed, address -> difficulty, shares the miners' part."""
    return _shared(SchemeName.PROP, dict(round_shares), reward_atomic, policy, finder)


def pplns(window: Iterable[WindowShare], reward_atomic: int, policy: RewardPolicy, finder: str) -> Payout:
    """PPLNS: the last N difficulty of shares before the block (`Store.pplns_window`, edge trimmed)."""
    weights: dict[str, int] = {}
    for share in window:
        weights[share.address] = weights.get(share.address, 0) + share.difficulty
    return _shared(SchemeName.PPLNS, weights, reward_atomic, policy, finder)


def solo(finder: str, reward_atomic: int, policy: RewardPolicy) -> Payout:
    """SOLO: the finder alone, less the solo fee and the donation; no one else's shares count."""
    _check_amount(reward_atomic)
    _check_address(finder)
    fee = _part(reward_atomic, policy.solo_fee_rate)
    donation = _part(reward_atomic, policy.donation_rate)
    rest = reward_atomic - fee - donation
    return Payout(
        scheme=SchemeName.SOLO,
        reward_atomic=reward_atomic,
        miners_atomic={finder: rest} if rest else {},
        finder_address=finder,
        finder_atomic=0,
        donation_address=policy.donation.address if policy.donation else None,
        donation_atomic=donation,
        fee_atomic=fee,
        remainder_atomic=0,
    )


def split_by_weight(amount: int, weights: Mapping[str, int]) -> tuple[dict[str, int], int]:
    """Each key gets floor(amount x weight / total); returns the shares (zeros left out) and what is left.

    The remainder is below the number of keys with a weight. With no weight at all, everything is left.
    """
    _check_amount(amount)
    total = 0
    for address, weight in weights.items():
        _check_address(address)
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            raise ValueError(f"weight of {address!r} must be a non-negative int, got {weight!r}")
        total += weight
    if total == 0:
        return {}, amount
    shares = {address: amount * weight // total for address, weight in weights.items()}
    shares = {address: share for address, share in shares.items() if share}
    return shares, amount - sum(shares.values())


def pplns_window_difficulty(factor: Fraction, network_difficulty: int) -> int:
    """N of PPLNS: factor x the network difficulty of the block, rounded down, at least 1."""
    if factor <= 0:
        raise ValueError(f"the PPLNS factor must be positive, got {factor}")
    if network_difficulty < 0:
        raise ValueError(f"network difficulty must not be negative, got {network_difficulty}")
    return max(1, int(factor * network_difficulty))


def percent(value: Decimal | int | str) -> Fraction:
    """An exact rate from a percentage as configured ("0.5", Decimal("0.5") or 1 -> 1/200, 1/200, 1/100)."""
    return Fraction(Decimal(value)) / 100


def _shared(
    scheme: SchemeName, weights: dict[str, int], reward_atomic: int, policy: RewardPolicy, finder: str
) -> Payout:
    _check_amount(reward_atomic)
    _check_address(finder)
    fee = _part(reward_atomic, policy.pool_fee)
    donation = _part(reward_atomic, policy.donation_rate)
    finder_reward = _part(reward_atomic, policy.finder_reward)
    miners_part = reward_atomic - fee - donation - finder_reward
    miners, remainder = split_by_weight(miners_part, weights)
    if not any(weights.values()):
        # No difficulty to share by: the finder's work is the only work this block can be traced to.
        miners, remainder = ({finder: miners_part} if miners_part else {}), 0
    return Payout(
        scheme=scheme,
        reward_atomic=reward_atomic,
        miners_atomic=miners,
        finder_address=finder,
        finder_atomic=finder_reward,
        donation_address=policy.donation.address if policy.donation else None,
        donation_atomic=donation,
        fee_atomic=fee,
        remainder_atomic=remainder,
    )


def _part(amount: int, rate: Fraction) -> int:
    return int(amount * rate)  # exact: Fraction truncates toward zero, and both are non-negative


def _check_rate(name: str, rate: Fraction) -> None:
    if not isinstance(rate, Fraction) or not 0 <= rate <= 1:
        raise ValueError(f"{name} must be a Fraction within 0..1, got {rate!r}")


def _check_amount(amount: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValueError(f"an amount must be a non-negative int of atomic units, got {amount!r}")


def _check_address(address: str) -> None:
    if not isinstance(address, str) or not address:
        raise ValueError(f"not an address: {address!r}")
