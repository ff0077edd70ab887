"""What the operator configures for the stratum server: ports, limits, coin facts stratum needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from athena_pool.stratum.settings import (
    ProtectionSettings,
    ProxyMode,
    ProxySettings,
    ShutdownSettings,
    TlsSettings,
    TrustSettings,
)
from athena_pool.stratum.vardiff import VardiffConfig


@dataclass(frozen=True)
class PortConfig:
    """One listening port. `port=0` binds a free port (tests); `StratumServer.bound_ports` tells which."""

    port: int
    difficulty: int  # starting difficulty, clamped to the vardiff bounds
    description: str = ""
    hidden: bool = False  # not listed by the public API; still served
    fixed_difficulty: int | None = None  # every miner on this port gets it; no vardiff
    vardiff: VardiffConfig = field(default_factory=VardiffConfig)
    host: str = "0.0.0.0"
    tls: bool = False  # TLS only (StratumConfig.tls gives the certificate)
    tls_auto_detect: bool = False  # plain port that also takes TLS: a first byte of 0x16 starts a handshake
    proxy_protocol: ProxyMode = ProxyMode.OFF

    def __post_init__(self) -> None:
        if self.tls and self.tls_auto_detect:
            raise ValueError(f"port {self.port}: tls and tls_auto_detect exclude each other")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port}: not a TCP port number")
        if self.difficulty < 1:
            raise ValueError(f"port {self.port}: difficulty must be at least 1")
        if self.fixed_difficulty is not None and self.fixed_difficulty < 1:
            raise ValueError(f"port {self.port}: fixed_difficulty must be at least 1")


@dataclass(frozen=True)
class StratumLimits:
    """Bounds on what a stranger can make the server hold or do."""

    max_line_bytes: int = 8192  # a complete longer line: error reply, then disconnect
    max_buffer_bytes: int = 10240  # this much without a newline: disconnect at once (flood)
    max_bad_lines: int = 3  # malformed requests tolerated per connection (each gets an error reply)
    max_send_buffer_bytes: int = 256 * 1024  # unsent replies and pushes; past it the miner is dropped
    max_jobs_per_session: int = 8  # jobs a session remembers for its shares
    max_forgotten_jobs: int = 64  # ids of jobs it no longer remembers, answered "Block expired"
    login_timeout: float = 30.0  # seconds to send a good login after connecting (the login deadline)
    idle_timeout: float = 600.0  # seconds without any request after login
    housekeeping_interval: float = 5.0  # how often timeouts and vardiff of silent miners are checked
    close_timeout: float = 5.0  # how long a closing connection may take to flush before it is aborted
    max_pending_bytes: int = 65536  # received but not yet handled; past it the connection is not read
    address_cache: int = 100_000  # wallet addresses whose check (valid or not) is remembered

    def __post_init__(self) -> None:
        if not 0 < self.max_line_bytes <= self.max_buffer_bytes:
            raise ValueError("limits: need 0 < max_line_bytes <= max_buffer_bytes")
        if self.address_cache < 1:
            raise ValueError("limits: address_cache must be at least 1")
        if self.max_pending_bytes < self.max_buffer_bytes:
            raise ValueError("limits: max_pending_bytes must be at least max_buffer_bytes")
        if self.max_bad_lines < 1 or self.max_jobs_per_session < 1 or self.max_send_buffer_bytes < 1:
            raise ValueError("limits: bad lines, jobs per session and send buffer must be at least 1")


@dataclass(frozen=True)
class StratumConfig:
    ports: tuple[PortConfig, ...]
    payment_ids_allowed: bool = False
    algo_aliases: frozenset[str] = frozenset()  # other names miners use for JobSource.algo
    extensions: tuple[str, ...] = ("algo", "keepalive")  # never "connect": that is for proxies only
    limits: StratumLimits = field(default_factory=StratumLimits)
    protection: ProtectionSettings = field(default_factory=ProtectionSettings)
    proxy: ProxySettings = field(default_factory=ProxySettings)
    tls: TlsSettings | None = None
    trust: TrustSettings = field(default_factory=TrustSettings)
    shutdown: ShutdownSettings = field(default_factory=ShutdownSettings)
    # Stratum processes on this host sharing the ports (SO_REUSEPORT); "auto": one per core.
    cluster_workers: int | Literal["auto"] = 1
    reuse_port: bool = False  # SO_REUSEPORT even with one process (set by the cluster for its workers)

    def __post_init__(self) -> None:
        if not self.ports:
            raise ValueError("stratum: at least one port is needed")
        if "connect" in self.extensions or "nicehash" in self.extensions:
            raise ValueError("stratum: a pool must not advertise the 'connect' or 'nicehash' extensions")
        if self.tls is None and any(p.tls or p.tls_auto_detect for p in self.ports):
            raise ValueError("stratum: a TLS port needs the tls section (certificate and key files)")
        if isinstance(self.cluster_workers, int) and self.cluster_workers < 1:
            raise ValueError("stratum: cluster_workers must be at least 1, or 'auto'")
