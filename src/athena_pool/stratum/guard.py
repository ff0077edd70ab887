"""The stratum server's protection in one place: connection caps, rate limits, bans, abuse points.

Everything keys on the real client address (the PROXY header's source when a trusted balancer sent one).
Loopback and the ban allowlist are never banned; the `exempt` networks skip caps and rate limits too.
A ban goes into the local `BanList` at once and to `on_ban(ban, local)`, which the server uses to close the
sessions it covers and, for a ban made here (`local`), to share it through Redis.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from athena_pool.jobs.contracts import RejectReason, ShareOutcome
from athena_pool.storage.bans_store import BanRecord, BanScope
from athena_pool.stratum.bans import BanList, Tallies, share_weight, weight_table
from athena_pool.stratum.netaddr import NetworkSet, is_loopback, subnet_of
from athena_pool.stratum.ratelimit import RateTable
from athena_pool.stratum.settings import ProtectionSettings

log = logging.getLogger(__name__)


class Abuse(enum.Enum):
    """Misbehaviour before (or without) a wallet, with the points it adds to the IP's abuse tally.

    Going over a rate or a connection cap is not abuse: a farm behind one NAT does it after every pool
    restart. Those are refused (and slowed down) without points, so they never ban an address.
    """

    MALFORMED = ("malformed request", 1.0)
    BAD_LOGIN = ("refused login", 1.0)
    SLOW_HEADER = ("no PROXY header or first byte in time", 1.0)
    TLS_FAILURE = ("failed TLS handshake", 1.0)
    OVERSIZED = ("oversized line", 5.0)
    BAD_PROXY_HEADER = ("malformed PROXY header", 5.0)
    FLOOD = ("flood: no newline within the buffer limit", 10.0)
    SPOOFED_PROXY_HEADER = ("PROXY header from an untrusted peer", 30.0)

    def __init__(self, text: str, points: float) -> None:
        self.text = text
        self.points = points


class RequestKind(enum.Enum):
    LOGIN = "login"
    SUBMIT = "submit"
    GETJOB = "getjob"
    KEEPALIVED = "keepalived"


@dataclass(frozen=True)
class Refusal:
    why: str  # for the drop counters and the log


class Guard:
    def __init__(
        self,
        settings: ProtectionSettings,
        *,
        clock: Callable[[], float],
        on_ban: Callable[[BanRecord, bool], None] | None = None,
        source: str = "stratum",
    ) -> None:
        self.settings = settings
        self._clock = clock
        self.on_ban = on_ban or _ignore_ban
        self._source = source
        rates = settings.rates
        self._connect = RateTable(rates.connect, max_delay=0.0)
        self._requests = {
            RequestKind.LOGIN: RateTable(rates.login, rates.max_delay),
            RequestKind.SUBMIT: RateTable(rates.submit, rates.max_delay),
            RequestKind.GETJOB: RateTable(rates.getjob, rates.max_delay),
            RequestKind.KEEPALIVED: RateTable(rates.keepalived, rates.max_delay),
        }
        self._failed_per_wallet = RateTable(rates.failed_hashes_per_wallet, rates.max_delay)
        self._failed_per_ip = RateTable(rates.failed_hashes_per_ip, rates.max_delay)
        self._exempt = NetworkSet(settings.exempt)
        self._allowlist = NetworkSet(settings.bans.allowlist)
        self._weights = weight_table(settings.bans.weights)
        self.bans = BanList()
        self._shares = Tallies(settings.bans.window)
        self._abuse = Tallies(settings.bans.abuse_window)
        self._per_ip: Counter[str] = Counter()
        self._per_subnet: Counter[str] = Counter()

    # --- connections ---------------------------------------------------------------------------------------

    def admit(self, ip: str) -> Refusal | None:
        """A new connection from `ip`: refused, or counted (call `release` when it ends)."""
        now = self._clock()
        ban = self.bans.ip_ban(ip, _ms(now))
        if ban is not None:
            return Refusal("banned IP")
        caps = self.settings.caps
        subnet = subnet_of(ip, caps.ipv4_subnet_prefix, caps.ipv6_subnet_prefix)
        if ip not in self._exempt:
            refusal = self._over_caps(ip, subnet, now)
            if refusal is not None:
                return refusal
        self._per_ip[ip] += 1
        self._per_subnet[subnet] += 1
        return None

    def _over_caps(self, ip: str, subnet: str, now: float) -> Refusal | None:
        caps = self.settings.caps
        if self._per_ip[ip] >= caps.per_ip or self._per_subnet[subnet] >= caps.per_subnet:
            return Refusal("connection cap")
        if self._connect.reserve(ip, now) is None:
            return Refusal("connection rate")
        return None

    def release(self, ip: str) -> None:
        caps = self.settings.caps
        _decrement(self._per_ip, ip)
        _decrement(self._per_subnet, subnet_of(ip, caps.ipv4_subnet_prefix, caps.ipv6_subnet_prefix))

    def connections_from(self, ip: str) -> int:
        return self._per_ip[ip]

    # --- requests ------------------------------------------------------------------------------------------

    def throttle(self, ip: str, kind: RequestKind) -> float | None:
        """Seconds the request must wait (usually 0), or None: refuse it (the caller then pauses)."""
        if ip in self._exempt:
            return 0.0
        return self._requests[kind].reserve(ip, self._clock())

    def hashing_wait(self, ip: str, address: str) -> float | None:
        """Seconds a share of this miner must wait before it is hashed (usually 0), or None: refuse it.

        Non-zero only for a sender past its allowance of failed hashes (see `RateLimits`).
        """
        if ip in self._exempt:
            return 0.0
        now = self._clock()
        per_wallet = self._failed_per_wallet.wait(_wallet_key(ip, address), now)
        wait = max(per_wallet, self._failed_per_ip.wait(ip, now))
        return None if wait > self.settings.rates.max_delay else wait

    def _charge_failed_hash(self, ip: str, address: str, outcome: ShareOutcome) -> None:
        if outcome.reason not in _FAILED_HASH or ip in self._exempt:
            return
        now = self._clock()
        self._failed_per_wallet.charge(_wallet_key(ip, address), now)
        self._failed_per_ip.charge(ip, now)

    # --- bans ----------------------------------------------------------------------------------------------

    def never_banned(self, ip: str) -> bool:
        return is_loopback(ip) or ip in self._allowlist

    def ip_ban(self, ip: str) -> BanRecord | None:
        return self.bans.ip_ban(ip, _ms(self._clock()))

    def miner_ban(self, ip: str, address: str, worker: str) -> BanRecord | None:
        return self.bans.miner_ban(ip, address, worker, _ms(self._clock()))

    def judge_share(self, ip: str, address: str, worker: str, outcome: ShareOutcome) -> BanRecord | None:
        """Counts a judged share; returns the ban it triggered, if any."""
        self._charge_failed_hash(ip, address, outcome)
        rules = self.settings.bans
        if not rules.enabled:
            return None
        key = (ip, address, worker if rules.scope == "worker" else "")
        now = self._clock()
        total, invalid = self._shares.add(key, now, 1.0, share_weight(outcome, self._weights))
        if total < rules.check_threshold or invalid * 100 < rules.invalid_percent * total:
            return None
        self._shares.forget(key)
        if self.never_banned(ip):
            return None
        scope = BanScope.WORKER if rules.scope == "worker" else BanScope.WALLET
        reason = f"{invalid:g} of {total:g} shares invalid (weighted) within {rules.window:g} s"
        return self.ban(scope, ip, rules.ban_time, reason, address=address, worker=key[2])

    def abuse(self, ip: str, kind: Abuse) -> BanRecord | None:
        """Counts abuse from an IP; returns the IP ban it triggered, if any."""
        rules = self.settings.bans
        if not rules.enabled or self.never_banned(ip):
            return None
        _, points = self._abuse.add(ip, self._clock(), 1.0, kind.points)
        if points < rules.abuse_threshold:
            return None
        self._abuse.forget(ip)
        return self.ban(BanScope.IP, ip, rules.abuse_ban_time, f"abuse, last: {kind.text}")

    def ban(
        self, scope: BanScope, ip: str, seconds: float, reason: str, *, address: str = "", worker: str = ""
    ) -> BanRecord | None:
        if self.never_banned(ip):
            return None
        now_ms = _ms(self._clock())
        ban = BanRecord(
            scope, ip, address, worker, reason, now_ms, now_ms + int(seconds * 1000), self._source
        )
        self.apply(ban, local=True)
        return ban

    def apply(self, ban: BanRecord, *, local: bool) -> bool:
        """A ban made here or read back from storage; True (and `on_ban` called) when it is news here."""
        if not self.bans.apply(ban):
            return False
        self._announce(ban, local)
        return True

    def lift(self, ban_id: str) -> None:
        ban = self.bans.remove(ban_id)
        if ban is not None:
            log.info("ban %s %s %s lifted", ban.scope.value, ban.ip, ban.address)

    def replace_shared(self, bans: Iterable[BanRecord]) -> None:
        """The full shared list, read back from storage."""
        for ban in self.bans.replace_all(bans):
            self._announce(ban, False)

    def _announce(self, ban: BanRecord, local: bool) -> None:
        log.warning(
            "ban %s %s%s for %d s: %s",
            ban.scope.value,
            ban.ip,
            f" {ban.address}" + (f"/{ban.worker}" if ban.worker else "") if ban.address else "",
            max(0, (ban.until_ms - _ms(self._clock())) // 1000),
            ban.reason,
        )
        self.on_ban(ban, local)

    # --- housekeeping --------------------------------------------------------------------------------------

    def sweep(self) -> None:
        now = self._clock()
        self._connect.sweep(now)
        for table in (*self._requests.values(), self._failed_per_wallet, self._failed_per_ip):
            table.sweep(now)
        self._shares.sweep(now)
        self._abuse.sweep(now)
        self.bans.sweep(_ms(now))


# Shares that cost a full hash to refuse (stale, duplicate and malformed ones are refused without hashing).
_FAILED_HASH = frozenset({RejectReason.BAD_HASH, RejectReason.LOW_DIFFICULTY})


def _wallet_key(ip: str, address: str) -> str:
    return f"{ip} {address}"


def _ignore_ban(ban: BanRecord, local: bool) -> None:
    pass


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
