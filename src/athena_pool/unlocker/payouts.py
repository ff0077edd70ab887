"""Which scheme pays a block, the shares it reads, and the credit that goes to the ledger.

A solo block (reward type SOLO) is paid SOLO, whatever the pool's scheme: the finder alone, and the shared
round is never touched. A shared block is paid by the pool's scheme: PROP from the round the block froze,
PPLNS from the window of N = factor x the block's network difficulty of shares ending at the block's
`pplns_cursor` (the newest share recorded before the block), so shares after the block never count.
"""

from __future__ import annotations

from athena_pool.payments import schemes
from athena_pool.payments.schemes import Payout, SchemeName
from athena_pool.storage import BlockRecord, RewardType, Store
from athena_pool.storage.ledger import BlockCredit
from athena_pool.unlocker.config import UnlockRules


async def plan_credit(
    store: Store, block: BlockRecord, reward_atomic: int, rules: UnlockRules, now_ms: int
) -> BlockCredit:
    """Reads the block's shares and splits its reward (from the daemon's header) by the right scheme."""
    c = block.candidate
    details: dict[str, str] = {}
    if c.reward_type is RewardType.SOLO:
        payout = schemes.solo(c.finder_address, reward_atomic, rules.policy)
    elif rules.scheme is SchemeName.PROP:
        round_shares = await store.block_round_shares(c.height, c.hash_hex)
        payout = schemes.prop(round_shares, reward_atomic, rules.policy, c.finder_address)
    else:
        size = schemes.pplns_window_difficulty(rules.pplns_factor, c.network_difficulty)
        window = await store.pplns_window(size, block.pplns_cursor)
        payout = schemes.pplns(window, reward_atomic, rules.policy, c.finder_address)
        details = {"pplns_window": str(size), "pplns_shares": str(sum(s.difficulty for s in window))}
    return to_block_credit(c.height, c.hash_hex, payout, now_ms, details)


def to_block_credit(
    height: int, hash_hex: str, payout: Payout, now_ms: int, details: dict[str, str] | None = None
) -> BlockCredit:
    return BlockCredit(
        height=height,
        hash_hex=hash_hex,
        scheme=payout.scheme.value,
        reward_atomic=payout.reward_atomic,
        credits=payout.credits,
        fee_atomic=payout.fee_atomic,
        remainder_atomic=payout.remainder_atomic,
        donation_atomic=payout.donation_atomic,
        finder_atomic=payout.finder_atomic,
        time_ms=now_ms,
        details=details or {},
    )
