"""The login grammar, worker names and the algo list check (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stratum_fakes import ADDRESS, PAYMENT_ID, validate_test_address

from athena_pool.stratum.login import (
    MAX_WORKER_CHARS,
    LoginDetails,
    LoginError,
    LoginRules,
    check_algorithms,
    parse_login,
    sanitize_worker,
    worker_name,
)

RULES = LoginRules(validate_test_address, payment_ids_allowed=True, min_difficulty=100, max_difficulty=10_000)
NO_PID_RULES = LoginRules(
    validate_test_address, payment_ids_allowed=False, min_difficulty=100, max_difficulty=10_000
)


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        (ADDRESS, LoginDetails(ADDRESS, None, False, None, "default")),
        (f"  {ADDRESS}  ", LoginDetails(ADDRESS, None, False, None, "default")),
        (f"{ADDRESS}+5000", LoginDetails(ADDRESS, None, False, 5000, "default")),
        (f"{ADDRESS}+7", LoginDetails(ADDRESS, None, False, 100, "default")),
        (f"{ADDRESS}+99999999999999999999", LoginDetails(ADDRESS, None, False, 10_000, "default")),
        (f"{ADDRESS}.{PAYMENT_ID}", LoginDetails(ADDRESS, PAYMENT_ID, False, None, "default")),
        (f"{ADDRESS}.{PAYMENT_ID.upper()}", LoginDetails(ADDRESS, PAYMENT_ID, False, None, "default")),
        (f"solo:{ADDRESS}", LoginDetails(ADDRESS, None, True, None, "default")),
        (f"Solo:{ADDRESS}.{PAYMENT_ID}+300", LoginDetails(ADDRESS, PAYMENT_ID, True, 300, "default")),
    ],
)
def test_grammar(login: str, expected: LoginDetails) -> None:
    assert parse_login(login, "x", "", RULES) == expected


def test_payout_destination_keeps_the_payment_id() -> None:
    assert parse_login(ADDRESS, "", "", RULES).payout_destination == ADDRESS
    details = parse_login(f"{ADDRESS}.{PAYMENT_ID}", "", "", RULES)
    assert details.payout_destination == f"{ADDRESS}.{PAYMENT_ID}"


@pytest.mark.parametrize(
    ("login", "rules", "message"),
    [
        ("", RULES, "Missing login: expected your wallet address"),
        ("solo:", RULES, "Missing login: expected your wallet address"),
        (f"+{ADDRESS}", RULES, "Invalid difficulty in login: expected a whole number after '+'"),
        (f"{ADDRESS}+1+2", RULES, "Invalid login: more than one '+'"),
        (f"{ADDRESS}+", RULES, "Invalid difficulty in login: expected a whole number after '+'"),
        (f"{ADDRESS}+-5", RULES, "Invalid difficulty in login: expected a whole number after '+'"),
        (f"{ADDRESS}+1e5", RULES, "Invalid difficulty in login: expected a whole number after '+'"),
        (f"{ADDRESS}+{'9' * 21}", RULES, "Invalid difficulty in login: expected a whole number after '+'"),
        (f"{ADDRESS}+\u0661\u0662", RULES, "Invalid difficulty in login: expected a whole number after '+'"),
        (f"{ADDRESS}.rig1", RULES, "Invalid payment id: expected 64 hex characters after '.'"),
        (f"{ADDRESS}.{PAYMENT_ID}.x", RULES, "Invalid payment id: expected 64 hex characters after '.'"),
        (f"{ADDRESS}.{PAYMENT_ID}", NO_PID_RULES, "Invalid login: this coin takes no payment id after '.'"),
        ("bitcoin1Abcdefghijk", RULES, "Invalid address: wrong address prefix for this coin"),
        ("athena0000000000000", RULES, "Invalid address: invalid base58 character"),
        ("prop:" + ADDRESS, RULES, "Invalid address: wrong address prefix for this coin"),
    ],
)
def test_refusals(login: str, rules: LoginRules, message: str) -> None:
    with pytest.raises(LoginError) as caught:
        parse_login(login, "x", "", rules)
    assert str(caught.value) == message


def test_an_address_check_without_reason_still_explains() -> None:
    def silent(_: str) -> None:
        raise ValueError

    with pytest.raises(LoginError, match=r"^Invalid address: not an address of this coin$"):
        parse_login(ADDRESS, "", "", LoginRules(silent, True, 1, 10))


@pytest.mark.parametrize(
    ("password", "rigid", "worker"),
    [
        ("x", "", "default"),
        ("", "", "default"),
        ("  x ", "", "default"),
        ("rig-7", "", "rig-7"),
        ("pass-name", "rig-name", "rig-name"),
        ("pass-name", "   ", "pass-name"),
        ("<script>alert(1)</script>", "", "<script>alert(1)</script>"),
        ("tab\there\nnewline", "", "tab here newline"),
        ("", "рабочий-1 ⛏", "рабочий-1 ⛏"),
    ],
)
def test_worker_names(password: str, rigid: str, worker: str) -> None:
    assert worker_name(password, rigid) == worker


@settings(deadline=None)  # a shared, busy machine must not fail a test on time
@given(st.text(max_size=300))
def test_sanitised_workers_are_bounded_printable_and_never_empty(text: str) -> None:
    worker = sanitize_worker(text)
    assert 0 < len(worker) <= MAX_WORKER_CHARS
    assert worker.isprintable()
    assert worker == worker.strip()


@pytest.mark.parametrize(
    "offered",
    [None, (), ("cn-lite/1",), ("rx/0", "cn-lite/1"), ("RX/0", " CryptoNight-AeonV7 ")],
)
def test_algo_lists_that_include_the_pool_algorithm(offered: tuple[str, ...] | None) -> None:
    check_algorithms(offered, "cn-lite/1", {"cryptonight-lite/1", "cryptonight-aeonv7"})


def test_algo_list_without_the_pool_algorithm() -> None:
    with pytest.raises(LoginError, match=r"^Unsupported algorithm: this pool mines cn-lite/1"):
        check_algorithms(("rx/0", "cn/r", "argon2/chukwav2"), "cn-lite/1", {"cryptonight-lite/1"})
