"""The payment keys follow the schema's rule: no fixed part is a prefix of another key, whatever the text."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from athena_pool.storage.keys import KeySpace

KEYS = KeySpace("athena")
HASH = "cd" * 32
PAYMENT_FIXED = {
    KEYS.payment_batches_open, KEYS.payment_batches_closed, KEYS.payout_pending, KEYS.payout_fees,
    KEYS.payout_threshold, KEYS.payout_totals, KEYS.payment_txs, KEYS.payment_lease, KEYS.payments_all,
}  # fmt: skip
OTHER_FIXED = {
    KEYS.round_prop, KEYS.round_total_prop, KEYS.pplns, KEYS.blocks_candidates, KEYS.blocks_matured,
    KEYS.miners, KEYS.hashrate_pool, KEYS.pool, KEYS.network, KEYS.balances, KEYS.paid, KEYS.ledger,
    KEYS.unlocker,
}  # fmt: skip
PAYMENT_FREE: dict[str, Callable[[str], str]] = {
    "payment_batch": KEYS.payment_batch,
    "payments_miner": KEYS.payments_miner,
}
OTHER_FREE: dict[str, Callable[[str], str]] = {
    "round_solo": KEYS.round_solo, "round_total_solo": KEYS.round_total_solo, "miner": KEYS.miner,
    "miner_workers": KEYS.miner_workers, "miner_ips": KEYS.miner_ips, "hashrate_miner": KEYS.hashrate_miner,
    "batch": KEYS.batch, "miner_credits": KEYS.miner_credits,
    "block": lambda text: KEYS.block(1, HASH) + text,
    "block_round": lambda text: KEYS.block_round(1, HASH) + text,
    "block_credits": lambda text: KEYS.block_credits(1, HASH) + text,
}  # fmt: skip


def test_payment_keys_are_distinct_and_prefix_free() -> None:
    fixed = PAYMENT_FIXED | OTHER_FIXED
    assert len(fixed) == len(PAYMENT_FIXED) + len(OTHER_FIXED)
    free_parts = {name: build("") for name, build in (PAYMENT_FREE | OTHER_FREE).items()}
    for name, build in PAYMENT_FREE.items():
        part = build("")
        assert not any(key.startswith(part) for key in fixed), name
        assert not any(other.startswith(part) for n, other in free_parts.items() if n != name), name
        assert not any(part.startswith(other) for n, other in free_parts.items() if n != name), name
    for key in PAYMENT_FIXED:
        assert not any(key.startswith(part) for part in free_parts.values()), key


@given(st.text(min_size=1))
def test_an_account_cannot_forge_another_key(account: str) -> None:
    for build in PAYMENT_FREE.values():
        key = build(account)
        assert key not in PAYMENT_FIXED | OTHER_FIXED
        assert all(key != other(account) for other in OTHER_FREE.values())
