"""The API's pure parts: client IP behind proxies, the rate limiter, cursors, the payout allocation, the
settings and the admin secret, and the API's own Redis keys."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from athena_pool.api.clientip import TrustedProxies
from athena_pool.api.errors import ApiError
from athena_pool.api.logring import RingLogHandler
from athena_pool.api.pagination import decode_cursor, encode_cursor
from athena_pool.api.payout_proof import Credit, Payment, allocate
from athena_pool.api.ratelimit import SlidingWindowLimiter
from athena_pool.api.settings import (
    AdminSecret,
    AdminSecretError,
    AdminSettings,
    ApiSettings,
    load_admin_secret,
)
from athena_pool.api.views import chart_average, truncate_address
from athena_pool.storage.keys import KeySpace


def test_client_ip_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    none = TrustedProxies(())
    assert none.client_ip("203.0.113.5", "127.0.0.1") == "203.0.113.5"
    proxies = TrustedProxies(("10.0.0.0/8", "::1/128"))
    assert proxies.client_ip("10.1.2.3", "198.51.100.9") == "198.51.100.9"
    # The client may send its own X-Forwarded-For: only the hops the trusted proxies appended count.
    assert proxies.client_ip("10.1.2.3", "127.0.0.1, 198.51.100.9") == "198.51.100.9"
    assert proxies.client_ip("10.1.2.3", "198.51.100.9, 10.9.9.9") == "198.51.100.9"
    assert proxies.client_ip("10.1.2.3", "garbage") == "10.1.2.3"
    assert proxies.client_ip("::1", "2001:db8::7") == "2001:db8::7"
    assert proxies.client_ip("::ffff:10.0.0.1", "198.51.100.1") == "198.51.100.1"
    assert proxies.client_ip("198.51.100.1", "10.0.0.1") == "198.51.100.1"


def test_rate_limiter_window_and_memory_bound() -> None:
    now = [1000.0]
    limiter = SlidingWindowLimiter(limit=3, window_s=60, max_keys=2, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [0, 0, 0, 60]
    now[0] += 30
    assert limiter.retry_after("a") == 30
    now[0] += 31
    assert limiter.hit("a") == 0
    limiter.hit("b")
    limiter.hit("c")  # three keys: the least recently used ("a") is forgotten
    assert limiter.retry_after("a") == 0
    assert len(limiter._hits) == 2


@given(st.integers(min_value=-(2**60), max_value=2**60), st.text(max_size=100))
def test_cursors_round_trip(score: int, member: str) -> None:
    assert decode_cursor(encode_cursor(score, member)) == (score, member)


@pytest.mark.parametrize("text", ["!!", "e30", "WzFd", "WyJhIiwiYiJd", "x" * 600, "W3RydWUsImEiXQ"])
def test_cursors_that_the_api_never_made_are_refused(text: str) -> None:
    with pytest.raises(ApiError) as error:
        decode_cursor(text)
    assert error.value.status == 400


amounts = st.integers(min_value=1, max_value=10**9)


@given(
    st.lists(amounts, max_size=20), st.lists(amounts, max_size=20), st.integers(min_value=0, max_value=10**10)
)
def test_payout_allocation_conserves_every_unit(credits: list[int], payments: list[int], unpaid: int) -> None:
    credited = [Credit((i, "h"), amount) for i, amount in enumerate(credits)]
    paid = [Payment(f"tx{i}", gross, i) for i, gross in enumerate(payments)]
    allocations = allocate(credited, paid, unpaid)
    assert [a.total() for a in allocations] == credits
    assert sum(a.unpaid for a in allocations) == min(unpaid, sum(credits))
    used: dict[str, int] = {}
    for allocation in allocations:
        for payment, part in allocation.paid:
            used[payment.tx_hash] = used.get(payment.tx_hash, 0) + part
    assert all(used[p.tx_hash] <= p.gross for p in paid if p.tx_hash in used)
    # Newest credits are the unpaid ones; a payment only pays credits older than those.
    first_paid = next((i for i, a in enumerate(allocations) if a.paid), None)
    if first_paid is not None:
        assert all(a.unpaid == a.total() for a in allocations[:first_paid])
    # Nothing is "unknown" while payments are left to cover it.
    if any(a.unknown for a in allocations):
        assert sum(used.values()) == sum(p.gross for p in paid)


def test_payout_allocation_example() -> None:
    credits = [Credit((3, "c"), 300), Credit((2, "b"), 200), Credit((1, "a"), 100)]
    payments = [Payment("new", 250, 2), Payment("old", 100, 1)]
    a3, a2, a1 = allocate(credits, payments, 150)
    assert (a3.unpaid, [(p.tx_hash, n) for p, n in a3.paid]) == (150, [("new", 150)])
    assert (a2.unpaid, [(p.tx_hash, n) for p, n in a2.paid], a2.unknown) == (
        0,
        [("new", 100), ("old", 100)],
        0,
    )
    assert (a1.paid, a1.unknown) == ([], 100)  # older than the payment history


def test_chart_average_counts_missing_points_as_zero() -> None:
    points = [(1000, 100.0, 1), (1600, 300.0, 2)]
    assert chart_average(points, now_s=2000, span_s=1200, step_s=600) == (100 + 300) * 600 / 1200
    assert chart_average(points, now_s=5000, span_s=1200, step_s=600) == 0


def test_chart_average_of_a_young_pool_divides_by_the_time_it_has_charted() -> None:
    """A pool charting since 1200 s (steps of 600 s): at 2000 s, two steps (1200, 1800) are all it has
    measured; its 24 h average is the average over them, not a 72nd of it. Charted longer than the span:
    the span."""
    points = [(1200, 100.0, 1), (1800, 300.0, 2)]
    day = 86_400
    assert chart_average(points, 2000, day, 600, charted_since_s=1200) == (100 + 300) / 2
    assert chart_average(points, 2000, 600, 600, charted_since_s=1200) == 300
    assert chart_average(points, 1200 + day + 10, day, 600, charted_since_s=1200) == 300 * 600 / day
    assert chart_average([], 2000, day, 600, charted_since_s=None) == 0


def test_truncated_addresses() -> None:
    assert truncate_address("abcdefghijklmnopqrstuvwxyz") == "abcdefg...tuvwxyz"
    assert truncate_address("short") == "short"


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        ApiSettings(trusted_proxies=("not-a-cidr",))
    with pytest.raises(ValueError, match="cors_origins"):
        ApiSettings(cors_origins=("evil.example",))
    with pytest.raises(ValueError, match="port"):
        ApiSettings(port=70_000)


def test_admin_secret_comes_from_the_environment_or_a_file_and_never_shows(tmp_path: Path) -> None:
    secret = "s3cret-value-for-tests-only"
    loaded = load_admin_secret(AdminSettings(), {"ATHENA_POOL_ADMIN_SECRET": secret})
    assert loaded is not None and loaded.value == secret
    assert secret not in repr(loaded) and secret not in str(loaded) and secret not in repr(AdminSettings())
    assert load_admin_secret(AdminSettings(), {}) is None
    path = tmp_path / "admin.secret"
    path.write_text(secret + "\n")
    from_file = load_admin_secret(AdminSettings(secret_file=path), {})
    assert from_file == AdminSecret(secret)
    with pytest.raises(AdminSecretError, match="characters long"):
        load_admin_secret(AdminSettings(), {"ATHENA_POOL_ADMIN_SECRET": "short"})
    with pytest.raises(AdminSecretError, match="cannot read"):
        load_admin_secret(AdminSettings(secret_file=tmp_path / "missing"), {})


KEYS = KeySpace("athena")
API_FREE_TEXT = {
    "chart_miner": KEYS.chart_miner,
    "chart_workers": KEYS.chart_workers,
    "settings_challenge": KEYS.settings_challenge,
    "admin_session": KEYS.admin_session,
    "chart_pool": KEYS.chart_pool,
}


def test_api_keys_never_collide_with_any_other_key() -> None:
    """No fixed part of the API's keys is a prefix of another key of the schema, and the reverse."""
    others = [
        KEYS.round_solo(""),
        KEYS.round_total_solo(""),
        KEYS.miner(""),
        KEYS.miner_workers(""),
        KEYS.miner_ips(""),
        KEYS.hashrate_miner(""),
        KEYS.batch(""),
        KEYS.block_credits(1, "ab"),
        KEYS.miner_credits(""),
        KEYS.payment_batch(""),
        KEYS.payments_miner(""),
        KEYS.round_prop,
        KEYS.pplns,
        KEYS.miners,
        KEYS.pool,
        KEYS.network,
        KEYS.balances,
        KEYS.paid,
        KEYS.ledger,
        KEYS.payments_all,
        KEYS.payout_threshold,
    ]
    fixed_api = [KEYS.live_stratum, KEYS.service_status, KEYS.log_lines, KEYS.notify_email]
    parts = {name: build("") for name, build in API_FREE_TEXT.items()}
    for name, part in parts.items():
        assert not any(o.startswith(part) or part.startswith(o) for o in others if o), name
        assert not any(p.startswith(part) for n, p in parts.items() if n != name), name
    for fixed in fixed_api:
        assert not any(fixed.startswith(o) for o in others if o.endswith(":")), fixed


def test_log_ring_is_bounded_and_masks_secrets() -> None:
    ring = RingLogHandler(capacity=3, mask=lambda text: text.replace("hunter2-secret", "***"))
    logger = logging.getLogger("athena_pool.test_ring")
    logger.addHandler(ring)
    logger.setLevel(logging.INFO)
    try:
        for n in range(5):
            logger.info("line %d", n)
        try:
            raise RuntimeError("wallet password hunter2-secret refused")
        except RuntimeError:
            logger.exception("payment failed")
    finally:
        logger.removeHandler(ring)
    newest = ring.newest(10)
    assert [line["message"] for line in newest][1:] == ["line 4", "line 3"]
    assert newest[0]["message"] == "payment failed (RuntimeError: wallet password *** refused)"
    assert [line["message"] for line in ring.lines_after(newest[1]["seq"])] == [newest[0]["message"]]
