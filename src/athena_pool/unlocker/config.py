"""What the operator configures for the block unlocker, and the rules it resolves to for one coin."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from athena_pool.coins.addresses import AddressError, decode_address
from athena_pool.coins.profiles import Coin
from athena_pool.payments.schemes import Donation, RewardPolicy, SchemeName, percent
from athena_pool.storage.ledger import DEFAULT_CREDIT_HISTORY


@dataclass(frozen=True)
class UnlockerSettings:
    """Percentages are exact decimals ("0.5" is half a percent); no float reaches an amount.

    `pplns_factor`: a PPLNS block pays the newest shares worth factor x its network difficulty. They are
    read from the share stream, which keeps at most `redis.limits.pplns_max_entries` shares (StoreLimits,
    1,000,000 by default) and silently drops the oldest beyond that. Size the cap for the largest window
    in entries:
    factor x network difficulty / the smallest share difficulty the ports hand out (a vardiff minimum or a
    fixed port difficulty), plus the shares recorded while a block waits `unlock_depth` blocks, since the
    window is read when the block unlocks. Example: factor 2, network difficulty 300 G and shares of at
    least 100 k need 6 M entries, far past the default cap; raise the smallest share difficulty or the cap.
    A window that comes up short is credited on what was there and logged as a warning.
    """

    enabled: bool = True
    interval: float = 30.0  # seconds between passes over the candidates
    scheme: Literal["prop", "pplns"] = "pplns"  # for shared blocks; solo blocks are always paid SOLO
    pplns_factor: Decimal = Decimal(2)  # PPLNS N = factor x the block's network difficulty
    unlock_depth: int | None = None  # blocks on top before crediting; default: the coin's coinbase unlock
    orphan_depth: int | None = None  # depth of a rival block before ours counts as orphaned; default: unlock
    pool_fee_percent: Decimal = Decimal(1)
    solo_fee_percent: Decimal | None = None  # default: the pool fee
    finder_reward_percent: Decimal = Decimal(0)  # shared blocks: a bonus for the finder
    donation_address: str | None = None
    donation_percent: Decimal = Decimal(0)
    credit_history: int = DEFAULT_CREDIT_HISTORY  # credits listed per miner (block-credits keeps all)

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError("unlocker.interval must be positive")
        if self.pplns_factor <= 0:
            raise ValueError("unlocker.pplns_factor must be positive")
        for name in ("unlock_depth", "orphan_depth"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"unlocker.{name} must be at least 1")
        if self.credit_history < 1:
            raise ValueError("unlocker.credit_history must be at least 1")
        if self.donation_percent and not self.donation_address:
            raise ValueError("unlocker.donation_percent needs a donation_address")
        self.reward_policy()  # fee, finder and donation within 0..100 % and not above 100 % together

    def reward_policy(self) -> RewardPolicy:
        donation = None
        if self.donation_address and self.donation_percent:
            donation = Donation(self.donation_address, _rate("donation_percent", self.donation_percent))
        solo_fee = self.solo_fee_percent
        return RewardPolicy(
            pool_fee=_rate("pool_fee_percent", self.pool_fee_percent),
            solo_fee=None if solo_fee is None else _rate("solo_fee_percent", solo_fee),
            finder_reward=_rate("finder_reward_percent", self.finder_reward_percent),
            donation=donation,
        )


@dataclass(frozen=True)
class UnlockRules:
    """The settings resolved for one coin: depths from its profile, exact rates, a checked donation."""

    interval: float
    scheme: SchemeName  # PROP or PPLNS, for shared blocks
    pplns_factor: Fraction
    unlock_depth: int
    orphan_depth: int
    policy: RewardPolicy

    @classmethod
    def for_coin(cls, settings: UnlockerSettings, coin: Coin) -> UnlockRules:
        policy = settings.reward_policy()
        if policy.donation is not None:
            _check_address(policy.donation.address, coin)
        unlock_depth = settings.unlock_depth or coin.coinbase_unlock_depth
        return cls(
            interval=settings.interval,
            scheme=SchemeName(settings.scheme),
            pplns_factor=Fraction(settings.pplns_factor),
            unlock_depth=unlock_depth,
            orphan_depth=settings.orphan_depth or unlock_depth,
            policy=policy,
        )


def _rate(name: str, value: Decimal) -> Fraction:
    if not 0 <= value <= 100:
        raise ValueError(f"unlocker.{name} must be within 0..100, got {value}")
    return percent(value)


def _check_address(address: str, coin: Coin) -> None:
    try:
        decode_address(address, coin.address_network)
    except AddressError as exc:
        raise ValueError(f"unlocker.donation_address is not a {coin.name} address: {exc}") from None
