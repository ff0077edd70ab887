"""Who is due and how payouts are grouped: thresholds, denomination, limits, fees, payment-id separation."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payments_support import athena_addresses, integrated

from athena_pool.coins.profiles import get_coin
from athena_pool.config import ConfigError, parse_config
from athena_pool.payments.accounts import UnpayableAccountError, parse_account
from athena_pool.payments.planner import (
    UNBOUNDED,
    DuePayout,
    PayoutRules,
    due_payouts,
    plan_batches,
    shortfall,
)
from athena_pool.payments.settings import PaymentSettings, WalletSettings

ATHENA = get_coin("athena")
MONERO = get_coin("monero")
ADDRESSES = sorted(athena_addresses(40, seed=5))
A, B, C, D = ADDRESSES[:4]
PID = "12" * 32


def rules(**overrides: int | bool) -> PayoutRules:
    base: dict[str, int | bool] = dict(
        min_payout=1_000, max_threshold=UNBOUNDED, denomination=1, max_addresses=15, max_transaction_amount=0,
        fee=0, fee_per_destination=False, miner_pays_fee=False,
    )  # fmt: skip
    base.update(overrides)
    return PayoutRules(**base)  # type: ignore[arg-type]


def due(
    balances: Mapping[str, int],
    r: PayoutRules,
    thresholds: Mapping[str, int] | None = None,
    busy: tuple[str, ...] = (),
) -> list[DuePayout]:
    payouts, unpayable = due_payouts(balances, thresholds or {}, busy, r, lambda a: parse_account(a, ATHENA))
    assert unpayable == []
    return payouts


def test_the_global_minimum_and_the_miners_own_threshold_within_bounds() -> None:
    r = rules(min_payout=1_000, max_threshold=50_000)
    balances = {A: 999, B: 1_000, C: 20_000, D: 60_000}
    thresholds = {B: 5_000, C: 10, D: 10**9}  # B waits; C's is raised to the minimum; D's lowered to the max
    assert [(d.payee.account, d.gross) for d in due(balances, r, thresholds)] == [(C, 20_000), (D, 60_000)]


def test_payouts_round_down_to_the_denomination_and_respect_the_transaction_cap() -> None:
    r = rules(denomination=100, max_transaction_amount=10_050)
    payouts = due({A: 1_999, B: 25_000}, r)
    assert [d.gross for d in payouts] == [1_900, 10_000]  # the rest stays in the balance


def test_busy_accounts_wait_for_their_open_batch() -> None:
    assert [d.payee.account for d in due({A: 5_000, B: 5_000}, rules(), busy=(A,))] == [B]


def test_batches_hold_at_most_max_addresses_and_max_amount() -> None:
    r = rules(max_addresses=3, max_transaction_amount=10_000)
    balances = {address: 3_000 for address in ADDRESSES[:7]}
    batches = plan_batches(due(balances, r), r)
    assert [len(b.items) for b in batches] == [3, 3, 1]
    r = rules(max_addresses=15, max_transaction_amount=7_000)
    assert [len(b.items) for b in plan_batches(due(balances, r), r)] == [2, 2, 2, 1]


def test_payment_ids_and_integrated_addresses_get_transactions_of_their_own() -> None:
    r = rules()
    balances = {A: 5_000, f"{B}.{PID}": 6_000, integrated(C, "34" * 32): 7_000, D: 8_000}
    batches = plan_batches(due(balances, r), r)
    assert [[i.account for i in b.items] for b in batches] == [
        [A, D],
        [f"{B}.{PID}"],
        [integrated(C, "34" * 32)],
    ]
    assert [b.payment_id for b in batches] == [None, PID, None]
    assert batches[1].items[0].address == B


def test_unpayable_accounts_are_reported_and_kept() -> None:
    balances = {A: 5_000, "not-an-address": 5_000, f"{B}.xyz": 5_000}
    payouts, unpayable = due_payouts(balances, {}, (), rules(), lambda a: parse_account(a, ATHENA))
    assert [d.payee.account for d in payouts] == [A]
    assert sorted(u.account for u in unpayable) == sorted(["not-an-address", f"{B}.xyz"])


def test_monero_takes_no_standalone_payment_id() -> None:
    from athena_pool.rpc.monerod_regtest import REGTEST_ADDRESS

    with pytest.raises(UnpayableAccountError, match="standalone payment id"):
        parse_account(f"{REGTEST_ADDRESS}.{PID}", MONERO)
    assert parse_account(REGTEST_ADDRESS, MONERO).payment_id is None


def test_fixed_fee_paid_by_the_pool_or_shared_by_the_miners() -> None:
    balances = {A: 5_000, B: 5_000, C: 5_000}
    pool_pays = rules(fee=100)
    [batch] = plan_batches(due(balances, pool_pays), pool_pays)
    assert batch.fee == 100
    assert [i.net for i in batch.items] == [5_000] * 3
    assert batch.funds_needed == 15_100
    miners_pay = rules(fee=100, miner_pays_fee=True)
    [batch] = plan_batches(due(balances, miners_pay), miners_pay)
    assert [i.charge for i in batch.items] == [34, 33, 33]
    assert [i.net for i in batch.items] == [4_966, 4_967, 4_967]


def test_fee_per_destination() -> None:
    r = rules(fee=100, fee_per_destination=True, miner_pays_fee=True)
    [batch] = plan_batches(due({A: 5_000, B: 6_000}, r), r)
    assert batch.fee == 200
    assert [i.charge for i in batch.items] == [100, 100]


def test_a_miner_paid_fee_must_stay_below_the_minimum_payout() -> None:
    with pytest.raises(ValueError, match="must exceed the fee"):
        rules(min_payout=100, fee=100, miner_pays_fee=True)


def test_the_shortfall_counts_the_fee_too() -> None:
    r = rules(max_addresses=2, fee=10)
    [batch] = plan_batches(due({A: 1_000, B: 2_000}, r), r)
    assert shortfall(batch, 3_009) == 1  # 3_000 of payouts and the 10 of fee
    assert shortfall(batch, 3_010) == shortfall(batch, 10**9) == 0


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="max_threshold"):
        PaymentSettings(min_payout=100, max_threshold=10)
    with pytest.raises(ValueError, match="monero transactions hold at most 15"):
        PaymentSettings(max_addresses=16, wallet=WalletSettings(dialect="monero"))
    with pytest.raises(ValueError, match="lease_time"):
        PaymentSettings(lease_time=5, wallet=WalletSettings(transfer_timeout=10))


def test_absence_is_proven_only_past_the_transfer_timeout_and_a_margin() -> None:
    wallet = WalletSettings(timeout=10, transfer_timeout=120)
    assert PaymentSettings(wallet=wallet).absence_wait == 130  # the margin defaults to one wallet.timeout
    assert PaymentSettings(absence_margin=60, wallet=wallet).absence_wait == 180
    with pytest.raises(ValueError, match=r"^absence_margin \(5 s\) must be at least wallet.timeout \(10 s\)"):
        PaymentSettings(absence_margin=5, wallet=wallet)


def test_a_config_file_with_too_short_an_absence_margin_is_refused_in_one_line() -> None:
    data = {"coin": "athena", "devnet": {"enabled": True},
            "payments": {"absence_margin": 1, "wallet": {"timeout": 10}}}  # fmt: skip
    with pytest.raises(ConfigError) as refused:
        parse_config(data)
    assert refused.value.problems == [
        "payments: absence_margin (1 s) must be at least wallet.timeout (10 s): "
        "a wallet may still send a transfer after its call timed out"
    ]


@given(
    balances=st.lists(st.integers(min_value=0, max_value=10**18), min_size=1, max_size=40),
    fee=st.integers(min_value=0, max_value=999),
    per_destination=st.booleans(),
    miner_pays=st.booleans(),
    denomination=st.integers(min_value=1, max_value=10_000),
    max_addresses=st.integers(min_value=1, max_value=15),
    cap=st.sampled_from([0, 10**6, 10**12]),
)
def test_every_plan_adds_up_exactly(
    balances: list[int],
    fee: int,
    per_destination: bool,
    miner_pays: bool,
    denomination: int,
    max_addresses: int,
    cap: int,
) -> None:
    r = rules(
        min_payout=1_000, fee=fee, fee_per_destination=per_destination, miner_pays_fee=miner_pays,
        denomination=denomination, max_addresses=max_addresses, max_transaction_amount=cap,
    )  # fmt: skip
    accounts = dict(zip(ADDRESSES, balances, strict=False))
    batches = plan_batches(due(accounts, r), r)
    for batch in batches:
        assert 1 <= len(batch.items) <= max_addresses
        assert not cap or sum(i.gross for i in batch.items) <= cap
        if miner_pays:
            assert sum(i.charge for i in batch.items) == batch.fee
        for item in batch.items:
            assert item.net + item.charge == item.gross <= accounts[item.account]
            assert item.gross % denomination == 0 and item.net > 0
    paid_accounts = [i.account for b in batches for i in b.items]
    assert len(paid_accounts) == len(set(paid_accounts))
