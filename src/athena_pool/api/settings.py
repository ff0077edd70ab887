"""What the operator configures for the HTTP API: `ApiSettings`, one frozen dataclass per concern.

The admin secret is never part of the settings: they only say where to read it from (an environment
variable or a file), so printing or logging the settings cannot leak it. `load_admin_secret` reads it
once, at start-up, into an `AdminSecret` whose repr hides the value.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

ADMIN_SECRET_ENV = "ATHENA_POOL_ADMIN_SECRET"
MIN_SECRET_CHARS = 16
MAX_SECRET_CHARS = 1024


class AdminSecretError(ValueError):
    """The admin secret could not be loaded or is too weak to use."""


@dataclass(frozen=True)
class AdminSecret:
    """The admin secret; `repr` and `str` never show it."""

    value: str = field(repr=False)

    def __post_init__(self) -> None:
        if not MIN_SECRET_CHARS <= len(self.value) <= MAX_SECRET_CHARS:
            raise AdminSecretError(
                f"the admin secret must be {MIN_SECRET_CHARS}..{MAX_SECRET_CHARS} characters long"
            )

    def __str__(self) -> str:
        return "AdminSecret(***)"


@dataclass(frozen=True)
class LongPollSettings:
    """`/live_stats` and `/stats_address?longpoll=true` hold a request until the next stats update."""

    max_waiters: int = 1_000  # requests held at once, in total; past it: 503
    max_waiters_per_ip: int = 8  # per client IP; past it: 429
    timeout_s: float = 30.0  # longest a request is held (the next update normally comes first)

    def __post_init__(self) -> None:
        if self.max_waiters < 1 or self.max_waiters_per_ip < 1 or self.timeout_s <= 0:
            raise ValueError("long_poll: max_waiters, max_waiters_per_ip and timeout_s must be positive")


@dataclass(frozen=True)
class ChartSettings:
    """Chart points: one per `step_s` (values collected every `interval_s` are averaged into it)."""

    enabled: bool = True  # run the collector in this process (one process per pool is enough)
    interval_s: float = 60.0
    step_s: int = 600
    retention_s: int = 2 * 86_400  # pool charts and per-miner charts keep this much history
    max_workers_per_miner: int = 32  # per-worker charts kept per address (the most recent ones)
    blocks_days: int = 7  # the blocks-per-day chart

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.step_s < 1 or self.retention_s < self.step_s:
            raise ValueError("charts: need interval_s > 0, step_s >= 1 and retention_s >= step_s")
        if self.max_workers_per_miner < 1 or not 1 <= self.blocks_days <= 366:
            raise ValueError("charts: max_workers_per_miner >= 1 and blocks_days in 1..366")

    @property
    def max_points(self) -> int:
        return self.retention_s // self.step_s + 1


@dataclass(frozen=True)
class AdminSettings:
    """Admin authentication. The secret comes from `secret_env` or, if set, `secret_file`."""

    secret_env: str = ADMIN_SECRET_ENV
    secret_file: Path | None = None
    session_ttl_s: int = 12 * 3_600
    cookie_secure: bool = False  # set True behind HTTPS: the session cookie is then only sent over TLS
    login_attempts: int = 5  # login attempts (and failed bearer checks) per client IP ...
    login_window_s: float = 300.0  # ... per this many seconds
    tracked_ips: int = 10_000  # the rate limiter forgets the least recently seen IPs beyond this

    def __post_init__(self) -> None:
        if self.session_ttl_s < 60 or self.login_attempts < 1 or self.login_window_s <= 0:
            raise ValueError("admin: session_ttl_s >= 60, login_attempts >= 1, login_window_s > 0")


@dataclass(frozen=True)
class PayoutBounds:
    """What a miner may choose as payout threshold, in atomic units (`max_atomic` None: no maximum)."""

    min_atomic: int = 100
    max_atomic: int | None = None
    default_atomic: int = 10_000

    def __post_init__(self) -> None:
        if self.min_atomic < 1 or (self.max_atomic is not None and self.max_atomic < self.min_atomic):
            raise ValueError("payout: need 1 <= min_atomic <= max_atomic")


@dataclass(frozen=True)
class PoolFacts:
    """Facts other parts own (fees, payments, explorers) that the API shows; the composition root copies
    them from their sections. Percentages are plain numbers (1.5 means 1.5 %)."""

    pool_host: str = ""
    fee_percent: float = 1.0
    solo_fee_percent: float = 1.0
    finder_reward_percent: float = 0.0
    donation_percent: float = 0.0
    payment_scheme: str = "prop"
    payments_interval_s: int = 600
    transfer_fee_atomic: int = 0
    denomination_atomic: int = 1
    unlock_depth: int | None = None  # default: the coin's coinbase unlock depth
    blockchain_explorer: str = ""  # URL template with {id}; {symbol} is replaced too
    transaction_explorer: str = ""
    links: tuple[tuple[str, str], ...] = ()  # (name, URL) pairs for the front-end (telegram, discord)


@dataclass(frozen=True)
class ApiSettings:
    host: str = "0.0.0.0"
    port: int = 8117  # 0 binds a free port (tests)
    cors_origins: tuple[str, ...] = ()  # exact origins allowed cross-site; "*" allows any (no cookies)
    trusted_proxies: tuple[str, ...] = ()  # CIDRs whose X-Forwarded-For is believed
    update_interval_s: float = 5.0  # stats recomputed (and long polls answered) this often
    hashrate_window_s: int = 600
    compat_list_size: int = 30  # blocks and payments per page of the compatible API
    page_size_default: int = 25
    page_size_max: int = 100
    max_body_bytes: int = 16 * 1024
    max_active_miners: int = 100_000  # miners read per stats update (the most recently active ones)
    luck_window_blocks: int = 500  # newest blocks read for totals, luck and the blocks chart
    max_listed_workers: int = 200  # workers listed per address by the compatible API
    challenge_ttl_s: int = 600  # how long a settings-change challenge may be signed
    challenges_per_ip: int = 10  # challenges (and proof attempts) per client IP ...
    challenge_window_s: float = 600.0  # ... per this many seconds
    challenges_total: int = 2_000  # challenges from all clients together per challenge_window_s
    health_interval_s: float = 30.0  # daemon and wallet probes (when the API is given probes)
    probe_timeout_s: float = 10.0
    live_stale_s: float = 30.0  # a stratum instance's live figures older than this are ignored
    log_lines: int = 500  # log lines kept for the admin page
    long_poll: LongPollSettings = field(default_factory=LongPollSettings)
    charts: ChartSettings = field(default_factory=ChartSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    payout: PayoutBounds = field(default_factory=PayoutBounds)
    pool: PoolFacts = field(default_factory=PoolFacts)

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"api.port {self.port}: not a TCP port number")
        if self.update_interval_s <= 0 or not 10 <= self.hashrate_window_s <= 86_400:
            raise ValueError("api: update_interval_s > 0 and hashrate_window_s in 10..86400")
        if not 1 <= self.page_size_default <= self.page_size_max <= 1_000:
            raise ValueError("api: need 1 <= page_size_default <= page_size_max <= 1000")
        if not 1 <= self.compat_list_size <= 1_000 or self.max_body_bytes < 1_024:
            raise ValueError("api: compat_list_size in 1..1000 and max_body_bytes >= 1024")
        for cidr in self.trusted_proxies:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"api.trusted_proxies: {exc}") from None
        for origin in self.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"api.cors_origins: {origin!r} is not an origin (scheme://host[:port])")


def load_admin_secret(settings: AdminSettings, environ: dict[str, str] | None = None) -> AdminSecret | None:
    """The admin secret from `secret_file` if set, else from the environment; None if neither is set
    (the admin endpoints then answer 503). Raises AdminSecretError for an unreadable or weak secret."""
    if settings.secret_file is not None:
        try:
            text = settings.secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AdminSecretError(f"cannot read the admin secret file: {exc.strerror}") from None
        return AdminSecret(text)
    value = (os.environ if environ is None else environ).get(settings.secret_env, "").strip()
    return AdminSecret(value) if value else None
