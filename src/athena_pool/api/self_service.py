"""Applying a miner's settings change once its proof of ownership checked out, and reading them back."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from athena_pool.api.context import ApiContext
from athena_pool.api.errors import bad_request
from athena_pool.api.ownership.service import SettingsChange

log = logging.getLogger(__name__)

MAX_AMOUNT_CHARS = 40


async def apply_change(ctx: ApiContext, account: str, change: SettingsChange) -> None:
    if change.payout_threshold is not None:
        await ctx.payments.set_threshold(account, change.payout_threshold)
    if change.email is not None:
        await ctx.api_store.set_email(account, change.email or None)
    log.info("settings of %s changed after a proof of ownership: %s", account, change.describe(ctx.coin))


def coins_to_atomic(ctx: ApiContext, text: str, name: str = "level") -> int:
    """A coin amount as people type it ("12.5") in atomic units, rounded down."""
    try:
        value = Decimal(text.strip()) if len(text) <= MAX_AMOUNT_CHARS else Decimal("NaN")
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0:
        raise bad_request(f"{name}: expected a positive amount of {ctx.coin.symbol}")
    return int(value * ctx.coin.atomic_units_per_coin)


def effective_threshold(ctx: ApiContext, chosen: int | None) -> int:
    """The threshold payments will use: the miner's own one clamped to the bounds, else the default."""
    bounds = ctx.settings.payout
    value = bounds.default_atomic if chosen is None else chosen
    value = max(value, bounds.min_atomic)
    return value if bounds.max_atomic is None else min(value, bounds.max_atomic)
