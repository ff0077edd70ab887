"""What the operator sets for protection, PROXY protocol, TLS, share trust and shutdown (see `config.py`).

Every default is what a public pool on the open internet should run with; `StratumConfig` holds one of each.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

# MoneroOcean's floor: at least 20 of every 256 shares of a trusted miner are hashed.
MIN_VERIFIED_PERCENT_FLOOR = 100 * 20 / 256


class ProxyMode(enum.StrEnum):
    """PROXY protocol on a port: never read, read when a trusted balancer sends it, or required."""

    OFF = "off"
    OPTIONAL = "optional"
    MANDATORY = "mandatory"


def check_cidrs(what: str, cidrs: tuple[str, ...]) -> None:
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise ValueError(f"{what}: {cidr!r} is not an address or network ({exc})") from None


@dataclass(frozen=True)
class Rate:
    """A token bucket: `per_second` on average, up to `burst` at once."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate needs per_second > 0 and burst >= 1")


@dataclass(frozen=True)
class RateLimits:
    """Per client IP, shared by all its connections (MoneroOcean's figures where it has them).

    A request over its rate waits (its connection stops being read) until the bucket allows it; one that
    would wait longer than `max_delay` is refused and its connection is not read for a second. Neither
    counts as abuse (a farm behind one NAT goes over the login rate after every pool restart).
    """

    connect: Rate = field(default_factory=lambda: Rate(20, 256))  # new connections
    login: Rate = field(default_factory=lambda: Rate(5, 100))
    submit: Rate = field(default_factory=lambda: Rate(250, 5000))
    getjob: Rate = field(default_factory=lambda: Rate(5, 100))
    keepalived: Rate = field(default_factory=lambda: Rate(2, 100))
    # Shares that were hashed and failed (bad hash, low difficulty). Hashing is the one thing a stranger
    # can make the pool spend real CPU on, so once a sender is past its allowance its next submits wait
    # before they are hashed. Per IP + wallet, strict: a broken rig slows itself, not its NAT neighbours;
    # per IP, generous: a sender rotating wallets is capped too.
    failed_hashes_per_wallet: Rate = field(default_factory=lambda: Rate(1, 20))
    failed_hashes_per_ip: Rate = field(default_factory=lambda: Rate(10, 100))
    max_delay: float = 10.0

    def __post_init__(self) -> None:
        if self.max_delay < 0:
            raise ValueError("rates: max_delay must not be negative")


@dataclass(frozen=True)
class ConnectionCaps:
    """Open connections per client IP and per subnet (/24 for IPv4, /48 for IPv6 by default)."""

    per_ip: int = 256
    per_subnet: int = 1024
    ipv4_subnet_prefix: int = 24
    ipv6_subnet_prefix: int = 48

    def __post_init__(self) -> None:
        if self.per_ip < 1 or self.per_subnet < self.per_ip:
            raise ValueError("caps: need 1 <= per_ip <= per_subnet")
        if not 0 <= self.ipv4_subnet_prefix <= 32 or not 0 <= self.ipv6_subnet_prefix <= 128:
            raise ValueError("caps: subnet prefixes must be 0..32 (IPv4) and 0..128 (IPv6)")


@dataclass(frozen=True)
class ShareWeights:
    """How much one rejected share counts toward a ban (an accepted one, stale included, counts 0)."""

    bad_hash: float = 1.0
    low_difficulty: float = 1.0
    malformed: float = 1.0  # malformed nonce or result
    unknown_job: float = 1.0  # a job id this connection was never given
    duplicate: float = 0.5
    expired: float = 0.25  # a job of a template too old to judge: a slow miner, rarely a cheat

    def __post_init__(self) -> None:
        if min(vars(self).values()) < 0:
            raise ValueError("share weights must not be negative")


@dataclass(frozen=True)
class BanRules:
    """Bans from the invalid-share ratio (IP + wallet, or IP + wallet + worker) and from abuse (IP only).

    A wallet on an IP is banned once it sent at least `check_threshold` shares within `window` seconds
    and their weighted invalid share reaches `invalid_percent`. Abuse with no wallet (malformed or oversized
    lines, floods, spoofed or malformed PROXY headers, bad logins) adds points per IP; `abuse_threshold`
    points within `abuse_window` seconds ban the IP. Loopback and `allowlist` are never banned.
    """

    enabled: bool = True
    scope: Literal["wallet", "worker"] = "wallet"
    window: float = 600.0
    check_threshold: int = 30
    invalid_percent: float = 25.0
    ban_time: float = 600.0
    weights: ShareWeights = field(default_factory=ShareWeights)
    abuse_threshold: float = 30.0
    abuse_window: float = 60.0
    abuse_ban_time: float = 300.0
    allowlist: tuple[str, ...] = ()
    sync_interval: float = 2.0  # how often the shared bans are read back from Redis

    def __post_init__(self) -> None:
        if self.window <= 0 or self.abuse_window <= 0 or self.sync_interval <= 0:
            raise ValueError("bans: windows and sync_interval must be positive")
        if self.check_threshold < 1 or not 0 < self.invalid_percent <= 100:
            raise ValueError("bans: need check_threshold >= 1 and 0 < invalid_percent <= 100")
        if self.ban_time <= 0 or self.abuse_ban_time <= 0 or self.abuse_threshold <= 0:
            raise ValueError("bans: ban times and abuse_threshold must be positive")
        check_cidrs("bans.allowlist", self.allowlist)


@dataclass(frozen=True)
class ProtectionSettings:
    rates: RateLimits = field(default_factory=RateLimits)
    caps: ConnectionCaps = field(default_factory=ConnectionCaps)
    bans: BanRules = field(default_factory=BanRules)
    exempt: tuple[str, ...] = ()  # CIDRs free of rate limits and connection caps (never of bans)
    # Shares of one IP hashed at the same time; the others of that IP wait their turn, so one flooding IP
    # cannot take every hashing thread. 0: half the hashing threads (at least one).
    judging_per_ip: int = 0

    def __post_init__(self) -> None:
        check_cidrs("protection.exempt", self.exempt)
        if self.judging_per_ip < 0:
            raise ValueError("protection.judging_per_ip must not be negative")


@dataclass(frozen=True)
class ProxySettings:
    """Who may send a PROXY protocol header (v1 or v2), on the ports whose `proxy_protocol` is not off."""

    trusted: tuple[str, ...] = ()  # CIDRs of the balancers; a header from anyone else closes the connection
    header_timeout: float = 5.0  # seconds for the header (and, on an auto-detect port, the first byte)

    def __post_init__(self) -> None:
        check_cidrs("proxy.trusted", self.trusted)
        if self.header_timeout <= 0:
            raise ValueError("proxy.header_timeout must be positive")


@dataclass(frozen=True)
class TlsSettings:
    """The certificate of the TLS ports (PEM files: the chain, and its private key)."""

    cert_file: Path
    key_file: Path
    handshake_timeout: float = 10.0
    minimum_version: Literal["1.2", "1.3"] = "1.2"

    def __post_init__(self) -> None:
        if self.handshake_timeout <= 0:
            raise ValueError("tls.handshake_timeout must be positive")


@dataclass(frozen=True)
class TrustSettings:
    """Share trust: a miner whose shares keep verifying gets some of them accepted without hashing.

    After `trusted_after` verified shares in a row, each further good share lowers the chance of hashing by
    `step_percent`, down to `min_verified_percent` (never below 20/256, about 8 %). Block candidates are
    always hashed, and so is every share above `max_difficulty` (0: no limit). A bad share resets the
    miner's trust, counts toward a ban as usual, and the next `penalty_shares` shares are all hashed.
    """

    enabled: bool = False
    trusted_after: int = 10
    step_percent: float = 3.0
    min_verified_percent: float = 10.0
    penalty_shares: int = 30
    max_difficulty: int = 0
    offender_memory: float = (
        3600.0  # seconds a wallet's new sessions start with the penalty after a bad share
    )

    def __post_init__(self) -> None:
        if self.min_verified_percent < MIN_VERIFIED_PERCENT_FLOOR or self.min_verified_percent > 100:
            raise ValueError(
                f"trust.min_verified_percent must be within {MIN_VERIFIED_PERCENT_FLOOR:.2f}..100"
            )
        if self.trusted_after < 1 or self.step_percent <= 0 or self.penalty_shares < 0:
            raise ValueError("trust: need trusted_after >= 1, step_percent > 0, penalty_shares >= 0")
        if self.max_difficulty < 0 or self.offender_memory < 0:
            raise ValueError("trust: max_difficulty and offender_memory must not be negative")


@dataclass(frozen=True)
class ShutdownSettings:
    """A graceful stop: no new connections, shares in flight finished and stored, miners told to come back.

    Miners whose agent contains one of `reconnect_agents` (case-insensitive; "*" for all) get
    `client.reconnect` with `reconnect_host` (default: the address they connected to, the PROXY header's
    destination when proxied) and the port they used.
    """

    reconnect_host: str | None = None
    reconnect_agents: tuple[str, ...] = ("xmrig",)
    grace: float = 10.0  # seconds for shares in flight and for the last replies to be flushed

    def __post_init__(self) -> None:
        if self.grace <= 0:
            raise ValueError("shutdown.grace must be positive")
