"""What every handler shares, built once by `serve_api` and stored in the app under `CONTEXT`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from athena_pool.api.auth import AdminAuth
from athena_pool.api.clientip import TrustedProxies, peer_ip
from athena_pool.api.logring import RingLogHandler
from athena_pool.api.longpoll import WaiterGate
from athena_pool.api.ownership.service import OwnershipService
from athena_pool.api.settings import ApiSettings
from athena_pool.api.stats_cache import StatsCache
from athena_pool.coins.profiles import Coin
from athena_pool.rpc.wallet import WalletClient
from athena_pool.storage import Store, StoreLimits
from athena_pool.storage.api_store import ApiStore
from athena_pool.storage.bans_store import BanStore
from athena_pool.storage.ledger import Ledger
from athena_pool.storage.payment_store import PaymentStore

MAX_ROUTE_LABELS = 200


class PortLike(Protocol):
    """A stratum port as configured (`stratum.config.PortConfig` is one)."""

    @property
    def port(self) -> int: ...

    @property
    def difficulty(self) -> int: ...

    @property
    def description(self) -> str: ...

    @property
    def hidden(self) -> bool: ...

    @property
    def fixed_difficulty(self) -> int | None: ...


@dataclass(frozen=True)
class PublicPort:
    port: int
    difficulty: int
    description: str = ""
    hidden: bool = False
    fixed_difficulty: int | None = None
    tls: bool = False


def public_ports(ports: Iterable[PortLike], *, tls_ports: Iterable[int] = ()) -> tuple[PublicPort, ...]:
    tls = set(tls_ports)
    return tuple(
        PublicPort(p.port, p.difficulty, p.description, p.hidden, p.fixed_difficulty, p.port in tls)
        for p in ports
    )


@dataclass
class RequestCounters:
    """Requests served, by route and status, for /metrics (bounded: routes are the app's, not raw paths)."""

    counts: Counter[tuple[str, int]] = field(default_factory=Counter)

    def count(self, route: str, status: int) -> None:
        if (route, status) in self.counts or len(self.counts) < MAX_ROUTE_LABELS:
            self.counts[(route, status)] += 1


@dataclass(frozen=True)
class ApiContext:
    settings: ApiSettings
    coin: Coin
    store: Store
    api_store: ApiStore
    ledger: Ledger
    payments: PaymentStore
    bans: BanStore
    limits: StoreLimits
    stats: StatsCache
    gate: WaiterGate
    proxies: TrustedProxies
    auth: AdminAuth
    ownership: OwnershipService
    ports: tuple[PublicPort, ...]
    log_ring: RingLogHandler | None
    counters: RequestCounters
    wallet: WalletClient | None = None  # resolves payment batches in manual review
    clock: Callable[[], float] = time.time

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def unlock_depth(self) -> int:
        depth = self.settings.pool.unlock_depth
        return self.coin.coinbase_unlock_depth if depth is None else depth


CONTEXT = web.AppKey("athena_pool_api_context", ApiContext)


def context(request: web.Request) -> ApiContext:
    return request.app[CONTEXT]


def client_ip(request: web.Request) -> str:
    return context(request).proxies.client_ip(peer_ip(request), request.headers.get("X-Forwarded-For"))
