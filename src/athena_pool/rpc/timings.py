"""How long the pool waits on its daemon and wallet: per endpoint kind and method, a latency histogram
(count, sum, buckets) and the failures by kind. For the metrics endpoint.

One `RpcTimings` per process (the composition root makes it); each JSON-RPC client records into the
`EndpointTimings` of its kind (`timings.endpoint("daemon")`). The method names come from the pool's own
code (JSON-RPC methods, or the path of a plain GET/POST), never from a stranger; `MAX_METHODS` bounds
them anyway, so a bug cannot grow the figures (or the metrics) without end.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

# Seconds: from a local daemon's quick answer to a wallet transfer that takes its time.
LATENCY_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MAX_METHODS = 64  # per endpoint kind; later ones are counted under OTHER_METHOD
OTHER_METHOD = "other"


@dataclass
class MethodTimings:
    """One method's calls: `buckets[i]` counts the calls that took at most `LATENCY_BUCKETS_S[i]` (not
    cumulative; `count` includes the slower ones); failed calls count too, with the time they took."""

    count: int = 0
    seconds: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS_S))
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, seconds: float, error: str | None) -> None:
        self.count += 1
        self.seconds += seconds
        index = bisect.bisect_left(LATENCY_BUCKETS_S, seconds)
        if index < len(self.buckets):
            self.buckets[index] += 1
        if error is not None:
            self.errors[error] = self.errors.get(error, 0) + 1

    def figures(self) -> dict[str, Any]:
        """JSON for the live figures: cumulative buckets as [[upper bound, calls], ...], as Prometheus
        wants them; the bounds travel along, so a reader never depends on this process's constants."""
        cumulative, total = [], 0
        for bound, calls in zip(LATENCY_BUCKETS_S, self.buckets, strict=True):
            total += calls
            cumulative.append([bound, total])
        errors = dict(self.errors)
        return {"count": self.count, "seconds": self.seconds, "buckets": cumulative, "errors": errors}


class EndpointTimings:
    """The calls to one kind of endpoint ("daemon", "wallet")."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._methods: dict[str, MethodTimings] = {}

    def record(self, method: str, seconds: float, error: str | None = None) -> None:
        """One finished call; `error` names how it failed (None: it answered with a result)."""
        self._timings_of(method).add(max(0.0, seconds), error)

    def record_error(self, method: str, error: str) -> None:
        """A failure found after the call was timed (the caller's checks of the answer's fields)."""
        errors = self._timings_of(method).errors
        errors[error] = errors.get(error, 0) + 1

    def _timings_of(self, method: str) -> MethodTimings:
        if method not in self._methods and len(self._methods) >= MAX_METHODS:
            method = OTHER_METHOD
        return self._methods.setdefault(method, MethodTimings())

    def method(self, name: str) -> MethodTimings | None:
        return self._methods.get(name)

    def figures(self) -> dict[str, dict[str, Any]]:
        return {name: timings.figures() for name, timings in sorted(self._methods.items())}


class RpcTimings:
    """Every endpoint kind of one process."""

    def __init__(self) -> None:
        self._endpoints: dict[str, EndpointTimings] = {}

    def endpoint(self, kind: str) -> EndpointTimings:
        """The same object for the same kind: several clients of one kind add up."""
        return self._endpoints.setdefault(kind, EndpointTimings(kind))

    def figures(self) -> dict[str, dict[str, dict[str, Any]]]:
        """kind -> method -> {count, seconds, buckets, errors}; kinds without a call yet are left out."""
        found = {kind: endpoint.figures() for kind, endpoint in sorted(self._endpoints.items())}
        return {kind: methods for kind, methods in found.items() if methods}
