"""The protection parts on their own (pure, clock passed in): rates, addresses, bans, trust, slots."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stratum_fakes import FakeClock

from athena_pool.jobs.contracts import RejectReason, ShareOutcome, ShareStatus
from athena_pool.storage.bans_store import BanRecord, BanScope, ban_id
from athena_pool.stratum.bans import BanList, covers
from athena_pool.stratum.framing import LineBuffer, OversizedLine
from athena_pool.stratum.guard import Abuse, Guard, RequestKind
from athena_pool.stratum.judge_slots import JudgeSlots
from athena_pool.stratum.netaddr import NetworkSet, canonical_ip, is_loopback, subnet_of
from athena_pool.stratum.ratelimit import RateTable
from athena_pool.stratum.settings import (
    BanRules,
    ConnectionCaps,
    ProtectionSettings,
    Rate,
    RateLimits,
    TrustSettings,
)
from athena_pool.stratum.trust import TrustPolicy

CLIENT = "203.0.113.7"
NEIGHBOUR = "203.0.113.8"
FAR = "198.51.100.1"
GOOD = ShareOutcome(ShareStatus.ACCEPTED, 100, 150)
STALE = ShareOutcome(ShareStatus.ACCEPTED, 100, 150, stale=True)


def rejected(reason: RejectReason) -> ShareOutcome:
    return ShareOutcome(ShareStatus.REJECTED, 0, reason=reason)


# --- rates --------------------------------------------------------------------------------------------------


def test_a_burst_passes_then_requests_are_spaced_then_refused() -> None:
    table = RateTable(Rate(per_second=10, burst=3), max_delay=0.25)
    assert [table.reserve(CLIENT, 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    delays = [table.reserve(CLIENT, 0.0) for _ in range(2)]
    assert delays == pytest.approx([0.1, 0.2])
    assert table.reserve(CLIENT, 0.0) is None  # would wait 0.3 s > max_delay
    assert table.reserve(NEIGHBOUR, 0.0) == 0.0  # another key has its own bucket
    assert table.reserve(CLIENT, 10.0) == 0.0  # refilled
    table.sweep(100.0)
    assert len(table) == 0


def test_a_cost_known_afterwards_is_charged_then_waited_out() -> None:
    table = RateTable(Rate(per_second=10, burst=2), max_delay=1.0)
    assert table.wait(CLIENT, 0.0) == 0.0  # nothing charged yet
    table.charge(CLIENT, 0.0)
    assert table.wait(CLIENT, 0.0) == 0.0  # within the burst
    table.charge(CLIENT, 0.0)
    table.charge(CLIENT, 0.0)
    assert table.wait(CLIENT, 0.0) == pytest.approx(0.2)  # two past the burst of 2: 2 x 100 ms
    assert table.wait(CLIENT, 0.15) == pytest.approx(0.05)
    assert table.wait(NEIGHBOUR, 0.0) == 0.0
    assert table.wait(CLIENT, 1.0) == 0.0
    table.sweep(1.0)
    assert len(table) == 0


def test_failed_hashes_slow_the_wallet_first_and_a_wallet_rotating_ip_too() -> None:
    now = [0.0]
    rates = RateLimits(
        failed_hashes_per_wallet=Rate(per_second=1, burst=2),
        failed_hashes_per_ip=Rate(per_second=4, burst=4),
        max_delay=3.0,
    )
    guard = Guard(ProtectionSettings(rates=rates), clock=lambda: now[0])
    bad = ShareOutcome(ShareStatus.REJECTED, 0, reason=RejectReason.BAD_HASH)
    low = ShareOutcome(ShareStatus.REJECTED, 0, reason=RejectReason.LOW_DIFFICULTY)
    duplicate = ShareOutcome(ShareStatus.REJECTED, 0, reason=RejectReason.DUPLICATE)
    for outcome in (GOOD, STALE, duplicate, duplicate):  # none of these cost a failed hash
        guard.judge_share(CLIENT, "wallet-a", "", outcome)
    assert guard.hashing_wait(CLIENT, "wallet-a") == 0.0
    for outcome in (bad, low, bad):
        guard.judge_share(CLIENT, "wallet-a", "", outcome)
    assert guard.hashing_wait(CLIENT, "wallet-a") == pytest.approx(2.0)  # one past its burst of 2, 1 s each
    assert guard.hashing_wait(CLIENT, "wallet-b") == 0.0  # the neighbour is still within the IP's burst
    guard.judge_share(CLIENT, "wallet-c", "", bad)
    guard.judge_share(CLIENT, "wallet-d", "", bad)  # the IP's 5th: over its burst of 4
    assert guard.hashing_wait(CLIENT, "wallet-b") == pytest.approx(0.5)
    assert guard.hashing_wait(NEIGHBOUR, "wallet-a") == 0.0
    for _ in range(3):
        guard.judge_share(CLIENT, "wallet-a", "", bad)
    assert guard.hashing_wait(CLIENT, "wallet-a") is None  # 4 s > max_delay: refused
    now[0] = 10.0
    assert guard.hashing_wait(CLIENT, "wallet-a") == 0.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200))
def test_no_more_than_burst_plus_rate_times_time_ever_passes(gaps: list[float]) -> None:
    rate = Rate(per_second=5, burst=4)
    table = RateTable(rate, max_delay=0.0)
    now, passed = 0.0, 0
    for gap in gaps:
        now += gap
        if table.reserve(CLIENT, now) == 0.0:
            passed += 1
    assert passed <= rate.burst + rate.per_second * now + 1e-9


# --- addresses ----------------------------------------------------------------------------------------------


def test_addresses_and_subnets() -> None:
    assert canonical_ip("::ffff:203.0.113.7") == CLIENT
    assert canonical_ip("2001:DB8::1") == "2001:db8::1"
    assert subnet_of(CLIENT, 24, 48) == "203.0.113.0/24"
    assert subnet_of("2001:db8:aa:bb::1", 24, 48) == "2001:db8:aa::/48"
    assert is_loopback("127.0.0.9") and is_loopback("::1") and not is_loopback(CLIENT)
    allow = NetworkSet(["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"])
    assert "10.1.2.3" in allow and "2001:db8::9" in allow and "192.0.2.1" in allow
    assert CLIENT not in allow and "not an ip" not in allow and not NetworkSet([])


# --- guard: caps, bans, abuse -------------------------------------------------------------------------------


def make_guard(clock: FakeClock, **bans: object) -> tuple[Guard, list[tuple[BanRecord, bool]]]:
    seen: list[tuple[BanRecord, bool]] = []
    settings = ProtectionSettings(
        rates=RateLimits(connect=Rate(1000, 1000)),
        caps=ConnectionCaps(per_ip=2, per_subnet=3),
        bans=BanRules(check_threshold=10, invalid_percent=25, **bans),  # type: ignore[arg-type]
    )
    guard = Guard(settings, clock=clock, on_ban=lambda ban, local: seen.append((ban, local)))
    return guard, seen


def test_connection_caps_per_ip_and_per_subnet() -> None:
    guard, _ = make_guard(FakeClock())
    assert guard.admit(CLIENT) is None and guard.admit(CLIENT) is None
    assert guard.admit(CLIENT) is not None  # third from the IP
    assert guard.admit(NEIGHBOUR) is None
    assert guard.admit("203.0.113.99") is not None  # fourth in the /24
    assert guard.admit(FAR) is None
    guard.release(CLIENT)
    assert guard.admit("203.0.113.99") is None
    assert guard.connections_from(CLIENT) == 1


def test_stale_and_duplicate_weigh_less_than_bad_hashes() -> None:
    clock = FakeClock()
    guard, seen = make_guard(clock)
    # 10 shares, 5 of them expired (0.25 each): 1.25 / 10 = 12.5 % < 25 %: no ban.
    for outcome in [GOOD] * 5 + [rejected(RejectReason.EXPIRED_JOB)] * 5:
        assert guard.judge_share(CLIENT, "wallet-a", "rig", outcome) is None
    # Duplicates (0.5 each): 5 of 20 would be 2.5 + 1.25 over 20 = 18.75 %: still none.
    for outcome in [GOOD] * 5 + [rejected(RejectReason.DUPLICATE)] * 5:
        assert guard.judge_share(CLIENT, "wallet-a", "rig", outcome) is None
    assert not seen
    # Bad hashes weigh 1: 5 more take it past 25 %.
    bans = [guard.judge_share(CLIENT, "wallet-a", "rig", rejected(RejectReason.BAD_HASH)) for _ in range(5)]
    ban = next(b for b in bans if b is not None)
    assert (ban.scope, ban.ip, ban.address, ban.worker) == (BanScope.WALLET, CLIENT, "wallet-a", "")
    assert seen == [(ban, True)]
    # The neighbour's wallet on the same IP is untouched.
    assert guard.miner_ban(CLIENT, "wallet-b", "rig") is None
    assert guard.miner_ban(CLIENT, "wallet-a", "other-rig") == ban
    assert guard.admit(CLIENT) is None  # a wallet ban does not refuse the IP's connections
    clock.advance(601)
    assert guard.miner_ban(CLIENT, "wallet-a", "rig") is None


def test_the_window_forgets_old_invalid_shares() -> None:
    clock = FakeClock()
    guard, seen = make_guard(clock)
    for _ in range(9):
        guard.judge_share(CLIENT, "wallet-a", "rig", rejected(RejectReason.BAD_HASH))
    clock.advance(700)  # past the 600 s window
    for _ in range(40):
        guard.judge_share(CLIENT, "wallet-a", "rig", GOOD)
    assert not seen


def test_worker_scope_bans_one_rig_only() -> None:
    guard, _ = make_guard(FakeClock(), scope="worker")
    for _ in range(10):
        guard.judge_share(CLIENT, "wallet-a", "bad-rig", rejected(RejectReason.BAD_HASH))
    assert guard.miner_ban(CLIENT, "wallet-a", "bad-rig") is not None
    assert guard.miner_ban(CLIENT, "wallet-a", "good-rig") is None


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1", "10.9.9.9"])
def test_loopback_and_the_allowlist_are_never_banned(ip: str) -> None:
    guard, seen = make_guard(FakeClock(), allowlist=("10.0.0.0/8",))
    for _ in range(50):
        guard.judge_share(ip, "wallet-a", "rig", rejected(RejectReason.BAD_HASH))
        guard.abuse(ip, Abuse.FLOOD)
    assert not seen and guard.ip_ban(ip) is None


def test_abuse_points_ban_the_ip() -> None:
    guard, _ = make_guard(FakeClock(), abuse_threshold=20)
    assert guard.abuse(CLIENT, Abuse.FLOOD) is None
    ban = guard.abuse(CLIENT, Abuse.FLOOD)
    assert ban is not None and ban.scope is BanScope.IP
    assert guard.admit(CLIENT) is not None  # refused at connect
    assert guard.miner_ban(CLIENT, "any", "any") == ban


def test_disabled_bans_decide_nothing() -> None:
    guard, seen = make_guard(FakeClock(), enabled=False)
    for _ in range(50):
        guard.judge_share(CLIENT, "wallet-a", "rig", rejected(RejectReason.BAD_HASH))
        guard.abuse(CLIENT, Abuse.SPOOFED_PROXY_HEADER)
    assert not seen


def test_exempt_networks_skip_caps_and_rates() -> None:
    settings = ProtectionSettings(
        rates=RateLimits(submit=Rate(1, 1), max_delay=0),
        caps=ConnectionCaps(per_ip=1, per_subnet=1),
        exempt=("203.0.113.0/24",),
    )
    guard = Guard(settings, clock=FakeClock())
    assert all(guard.admit(CLIENT) is None for _ in range(5))
    assert all(guard.throttle(CLIENT, RequestKind.SUBMIT) == 0.0 for _ in range(5))
    assert guard.throttle(FAR, RequestKind.SUBMIT) == 0.0
    assert guard.throttle(FAR, RequestKind.SUBMIT) is None


# --- the ban list -------------------------------------------------------------------------------------------


def ban(scope: BanScope, until_ms: int, address: str = "", worker: str = "") -> BanRecord:
    return BanRecord(scope, CLIENT, address, worker, "test", 0, until_ms)


def test_ban_list_extends_never_shortens_and_replaces() -> None:
    bans = BanList()
    wallet = ban(BanScope.WALLET, 5000, "wallet-a")
    assert bans.apply(wallet) and not bans.apply(ban(BanScope.WALLET, 4000, "wallet-a"))
    assert bans.apply(ban(BanScope.WALLET, 9000, "wallet-a"))
    assert bans.miner_ban(CLIENT, "wallet-a", "x", 8000) is not None
    assert bans.miner_ban(CLIENT, "wallet-a", "x", 9000) is None  # expired
    worker = ban(BanScope.WORKER, 9000, "wallet-b", "rig")
    fresh = bans.replace_all([ban(BanScope.WALLET, 9000, "wallet-a"), worker])
    assert fresh == [worker]
    assert bans.remove(worker.ban_id) == worker and bans.remove(worker.ban_id) is None
    bans.sweep(10_000)
    assert len(bans) == 0


def test_ban_ids_are_unambiguous_and_coverage_is_exact() -> None:
    assert ban_id(BanScope.WALLET, CLIENT, "a:b", "") != ban_id(BanScope.WALLET, CLIENT, "a", "b")
    wallet = ban(BanScope.WALLET, 1, "wallet-a")
    assert covers(wallet, CLIENT, "wallet-a", "any") and not covers(wallet, CLIENT, "wallet-b", "any")
    assert not covers(wallet, CLIENT, None, None) and not covers(wallet, FAR, "wallet-a", "any")
    assert covers(ban(BanScope.IP, 1), CLIENT, None, None)
    with pytest.raises(ValueError):
        BanRecord(BanScope.WALLET, CLIENT)


# --- trust --------------------------------------------------------------------------------------------------


def test_trust_is_earned_floored_and_lost() -> None:
    draws = itertools.cycle([i / 100 for i in range(100)])  # an even spread over [0, 1)
    policy = TrustPolicy(
        TrustSettings(
            enabled=True, trusted_after=5, step_percent=10, min_verified_percent=10, penalty_shares=3
        ),
        clock=FakeClock(),
        draw=lambda: next(draws),
    )
    state = policy.new_state("wallet-a")
    verified = []
    for _ in range(1000):
        verify = policy.should_verify(state, 100)
        verified.append(verify)
        policy.record(state, "wallet-a", GOOD, verified=verify)
    assert all(verified[:5])  # nothing skipped before trust is earned
    assert 0.09 <= sum(verified[500:]) / 500 <= 0.11  # the floor holds
    policy.record(state, "wallet-a", rejected(RejectReason.BAD_HASH), verified=True)
    assert [policy.should_verify(state, 100) for _ in range(3)] == [True] * 3
    assert state.verify_chance == 1.0 and state.penalty == 3
    # A new session of that wallet starts under penalty; another wallet's does not.
    assert policy.new_state("wallet-a").penalty == 3 and policy.new_state("wallet-b").penalty == 0


def test_trust_off_or_above_its_difficulty_verifies_everything() -> None:
    clock = FakeClock()
    off = TrustPolicy(TrustSettings(), clock=clock, draw=lambda: 0.99)
    assert off.should_verify(off.new_state("w"), 1)
    capped = TrustPolicy(TrustSettings(enabled=True, trusted_after=1, max_difficulty=1000), clock=clock)
    state = capped.new_state("w")
    capped.record(state, "w", GOOD, verified=True)
    assert capped.should_verify(state, 5000)
    with pytest.raises(ValueError):
        TrustSettings(min_verified_percent=5)  # below 20/256


# --- judging slots ------------------------------------------------------------------------------------------


async def test_one_ip_holds_at_most_its_slots_and_is_served_in_order() -> None:
    slots = JudgeSlots(per_key=2)
    order: list[int] = []
    gate = asyncio.Event()

    async def share(index: int, key: str) -> None:
        async with slots.held(key):
            order.append(index)
            await gate.wait()

    tasks = [asyncio.create_task(share(i, CLIENT)) for i in range(5)]
    tasks.append(asyncio.create_task(share(99, FAR)))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == [0, 1, 99] and slots.in_use(CLIENT) == 2
    tasks[3].cancel()  # a waiter that gives up leaves the queue
    gate.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == [0, 1, 99, 2, 4]
    assert slots.in_use(CLIENT) == 0 and slots.in_use(FAR) == 0


# --- framing, lazily ----------------------------------------------------------------------------------------


def test_lines_come_out_one_at_a_time() -> None:
    buffer = LineBuffer(max_line_bytes=10, max_buffer_bytes=20)
    buffer.append(b"one\r\n\ntwo\n" + b"x" * 15 + b"\nthr")
    assert buffer.next_line() == b"one"
    assert buffer.pending_bytes > 0
    assert buffer.next_line() == b"two"
    assert buffer.next_line() == OversizedLine(15)
    assert buffer.next_line() is None
    buffer.append(b"ee\n")
    assert buffer.next_line() == b"three"
    buffer.append(b"y" * 21)
    assert buffer.overflowing and buffer.next_line() is None


# --- the address check, remembered --------------------------------------------------------------------------


def test_address_verdicts_are_remembered_and_bounded() -> None:
    from athena_pool.stratum.address_cache import CachedAddressValidator

    checked: list[str] = []

    def validate(address: str) -> None:
        checked.append(address)
        if address.startswith("bad"):
            raise ValueError("wrong prefix")

    cache = CachedAddressValidator(validate, size=2)
    cache("good-1")
    cache("good-1")
    for _ in range(2):
        with pytest.raises(ValueError, match="wrong prefix"):
            cache("bad-1")
    assert checked == ["good-1", "bad-1"]
    cache("good-2")  # evicts the least recently used: good-1
    cache("good-1")
    assert checked == ["good-1", "bad-1", "good-2", "good-1"] and len(cache) == 2


def test_a_farm_over_its_caps_and_rates_is_refused_never_banned() -> None:
    """After a pool restart every rig behind one NAT reconnects at once: refusals, never a ban."""
    clock = FakeClock()
    guard, seen = make_guard(clock)
    refused = sum(guard.admit(CLIENT) is not None for _ in range(1000))
    limited = Guard(ProtectionSettings(rates=RateLimits(login=Rate(1, 1), max_delay=0)), clock=clock)
    refused += sum(limited.throttle(CLIENT, RequestKind.LOGIN) is None for _ in range(1000))
    assert refused == 998 + 999
    assert not seen and guard.ip_ban(CLIENT) is None and limited.ip_ban(CLIENT) is None
