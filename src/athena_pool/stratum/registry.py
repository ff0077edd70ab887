"""Who is connected, for the console and the API: connections, miners, workers, a hashrate estimate."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from athena_pool.jobs.contracts import MinerIdentity, ShareCounters, ShareOutcome


class SessionInfo(Protocol):
    @property
    def port(self) -> int: ...

    @property
    def ip(self) -> str: ...

    @property
    def miner(self) -> MinerIdentity | None: ...


S = TypeVar("S", bound=SessionInfo)


class HashrateMeter:
    """Accepted difficulty per second over a sliding window, in fixed-size buckets (bounded memory)."""

    def __init__(
        self, window_seconds: float = 600.0, bucket_seconds: float = 10.0, *, started: float | None = None
    ) -> None:
        if not 0 < bucket_seconds <= window_seconds:
            raise ValueError("hashrate meter: need 0 < bucket_seconds <= window_seconds")
        self._window = window_seconds
        self._bucket = bucket_seconds
        self._started = started  # when the meter began counting; None: long enough ago
        self._buckets: deque[list[float]] = deque()  # [bucket start, difficulty sum], oldest first

    def add(self, difficulty: int, now: float) -> None:
        start = now - now % self._bucket
        if self._buckets and self._buckets[-1][0] == start:
            self._buckets[-1][1] += difficulty
        else:
            self._buckets.append([start, float(difficulty)])
        self._forget_before(now)

    def rate(self, now: float) -> float:
        """Hashes per second: the difficulty accepted in the window, divided by the window, or by the time
        since `started` while that is shorter (at least one bucket): a new meter must not read low."""
        self._forget_before(now)
        span = self._window
        if self._started is not None:
            span = min(span, max(self._bucket, now - self._started))
        return sum(total for _, total in self._buckets) / span

    def _forget_before(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - self._window:
            self._buckets.popleft()


@dataclass(frozen=True)
class StratumStats:
    connections: int
    connections_by_port: dict[int, int]
    miners: int
    workers: int
    hashrate: float
    shares: dict[str, int] = field(default_factory=dict)
    rejects: dict[str, int] = field(default_factory=dict)
    blocks_found: int = 0
    drops: dict[str, int] = field(default_factory=dict)


class SessionRegistry(Generic[S]):
    """The live sessions and pool-wide counters; one per stratum server."""

    def __init__(self, clock: Callable[[], float], hashrate: HashrateMeter | None = None) -> None:
        self._clock = clock
        self._sessions: set[S] = set()
        self._by_ip: dict[str, set[S]] = {}
        self._hashrate = hashrate or HashrateMeter(started=clock())
        self._shares = ShareCounters()
        self._blocks_found = 0
        self._drops: Counter[str] = Counter()

    def add(self, session: S) -> None:
        self._sessions.add(session)
        self._by_ip.setdefault(session.ip, set()).add(session)

    def remove(self, session: S) -> None:
        if session not in self._sessions:
            return
        self._sessions.discard(session)
        same_ip = self._by_ip.get(session.ip)
        if same_ip is not None:
            same_ip.discard(session)
            if not same_ip:
                del self._by_ip[session.ip]

    def from_ip(self, ip: str) -> list[S]:
        """The sessions of one client address (a snapshot)."""
        return list(self._by_ip.get(ip, ()))

    def __iter__(self) -> Iterator[S]:
        """A snapshot, safe to iterate while sessions come and go."""
        return iter(list(self._sessions))

    def connections(self) -> int:
        return len(self._sessions)

    def connections_by_port(self) -> dict[int, int]:
        return dict(Counter(session.port for session in self._sessions))

    def miners_online(self) -> int:
        return len({miner.address for miner in self._miners()})

    def workers_online(self) -> int:
        return len({(miner.address, miner.worker) for miner in self._miners()})

    def hashrate(self) -> float:
        return self._hashrate.rate(self._clock())

    def count_outcome(self, outcome: ShareOutcome) -> None:
        self._shares.count(outcome)
        if outcome.accepted:
            self._hashrate.add(outcome.credited_difficulty, self._clock())
        if outcome.block is not None and outcome.block.accepted_by_daemon:
            self._blocks_found += 1

    def count_drop(self, why: str) -> None:
        self._drops[why] += 1

    def stats(self) -> StratumStats:
        return StratumStats(
            connections=self.connections(),
            connections_by_port=self.connections_by_port(),
            miners=self.miners_online(),
            workers=self.workers_online(),
            hashrate=self.hashrate(),
            shares=dict(self._shares.by_status),
            rejects=dict(self._shares.by_reason),
            blocks_found=self._blocks_found,
            drops=dict(self._drops),
        )

    def _miners(self) -> Iterator[MinerIdentity]:
        return (session.miner for session in self._sessions if session.miner is not None)
