"""Prometheus text exposition (format 0.0.4) of the pool: written here, no client library needed.

Everything comes from the current `PoolSnapshot` (Redis) and the live figures every pool process publishes
(stratum, job broadcasts, RPC latency to the daemon and the wallet), so the endpoint works the same
whether the API runs in the pool process or in its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from athena_pool.api.context import ApiContext
from athena_pool.api.snapshot import PoolSnapshot
from athena_pool.storage import RewardType, ShareKind
from athena_pool.storage.payment_store import BatchState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "athena"


@dataclass
class Exposition:
    """Metric families in the order first added, each with its HELP, TYPE and samples. A family's samples
    stay together however the calls interleave (instance by instance): the format wants one group each."""

    _families: dict[str, list[str]] = field(default_factory=dict)

    def add(
        self, name: str, kind: str, help_text: str, value: float, labels: Mapping[str, str] | None = None
    ) -> None:
        full = f"{PREFIX}_{name}"
        self._family(full, kind, help_text).append(f"{full}{_labels(labels or {})} {_number(value)}")

    def histogram(
        self, name: str, help_text: str, figures: Mapping[str, Any], labels: Mapping[str, str]
    ) -> None:
        """`figures`: {"count", "seconds", "buckets": [[upper bound, cumulative count], ...]}."""
        full = f"{PREFIX}_{name}"
        lines = self._family(full, "histogram", help_text)
        count = int(figures.get("count", 0))
        for bound, calls in figures.get("buckets") or ():
            lines.append(f"{full}_bucket{_labels({**labels, 'le': _number(float(bound))})} {int(calls)}")
        lines.append(f"{full}_bucket{_labels({**labels, 'le': '+Inf'})} {count}")
        lines.append(f"{full}_sum{_labels(labels)} {_number(float(figures.get('seconds', 0.0)))}")
        lines.append(f"{full}_count{_labels(labels)} {count}")

    def text(self) -> str:
        return "\n".join(line for lines in self._families.values() for line in lines) + "\n"

    def _family(self, full: str, kind: str, help_text: str) -> list[str]:
        if full not in self._families:
            self._families[full] = [f"# HELP {full} {help_text}", f"# TYPE {full} {kind}"]
        return self._families[full]


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    escaped = (f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return "{" + ",".join(escaped) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def render(ctx: ApiContext) -> str:
    out = Exposition()
    snapshot = ctx.stats.snapshot
    age = ctx.stats.age_s()
    out.add("api_stats_available", "gauge", "1 when the API has pool statistics", snapshot is not None)
    if age is not None:
        out.add("api_stats_age_seconds", "gauge", "Age of the statistics the API serves", age)
    out.add("api_longpoll_waiters", "gauge", "Requests held by long polls", ctx.gate.waiting)
    for (route, status), count in sorted(ctx.counters.counts.items()):
        out.add(
            "api_requests_total",
            "counter",
            "HTTP requests served by the API",
            count,
            {"route": route, "status": str(status)},
        )
    if snapshot is not None:
        _pool(out, snapshot)
        _services(out, snapshot)
        _stratum(out, snapshot)
        _money(out, snapshot)
        _rpc(out, snapshot)
    return out.text()


def _pool(out: Exposition, s: PoolSnapshot) -> None:
    for kind in RewardType:
        rate = s.hashrate_prop if kind is RewardType.PROP else s.hashrate_solo
        labels = {"reward_type": kind.value}
        out.add("pool_hashrate", "gauge", "Credited hashes per second over the hashrate window", rate, labels)
        out.add(
            "pool_miners", "gauge", "Addresses with credited shares in the window", s.miners_of(kind), labels
        )
        out.add(
            "pool_workers", "gauge", "Workers with credited shares in the window", s.workers_of(kind), labels
        )
        out.add(
            "pool_blocks_found_total",
            "counter",
            "Blocks found by the pool",
            s.pool.blocks_found[kind],
            labels,
        )
    for share_kind in ShareKind:
        out.add(
            "pool_shares_total",
            "counter",
            "Shares recorded, by outcome",
            s.pool.counts[share_kind],
            {"kind": share_kind.value},
        )
    out.add("pool_round_hashes", "gauge", "Difficulty credited in the current shared round", s.round_hashes)
    out.add("pool_miners_known", "gauge", "Addresses that ever sent a share", s.miners_known)
    out.add("blocks_candidates", "gauge", "Blocks waiting to unlock", s.candidates)
    out.add("bans_active", "gauge", "Live bans (IP, wallet and worker)", s.bans_active)
    if s.network is not None:
        out.add("network_difficulty", "gauge", "Difficulty of the block being mined", s.network.difficulty)
        out.add("network_height", "gauge", "Height of the block being mined", s.network.height)


def _services(out: Exposition, s: PoolSnapshot) -> None:
    for name, status in sorted(s.status.items()):
        labels = {"service": name}
        out.add(
            "service_up",
            "gauge",
            "1 when the last probe of the service succeeded",
            bool(status.get("ok")),
            labels,
        )
        latency = status.get("latency_ms")
        if latency is not None:
            out.add(
                "rpc_probe_seconds", "gauge", "Duration of the last RPC probe", float(latency) / 1000, labels
            )


def _stratum(out: Exposition, s: PoolSnapshot) -> None:
    for instance, figures in sorted(s.live.instances.items()):
        base = {"instance": instance}
        age = max(0.0, (s.taken_ms - int(figures.get("updated_ms", 0))) / 1000)
        out.add("stratum_live_age_seconds", "gauge", "Age of the instance's live figures", age, base)
        out.add(
            "stratum_connections", "gauge", "Open stratum connections", figures.get("connections", 0), base
        )
        for port, count in sorted(dict(figures.get("connections_by_port", {})).items()):
            out.add(
                "stratum_port_connections",
                "gauge",
                "Open stratum connections per port",
                count,
                {**base, "port": str(port)},
            )
        out.add("stratum_miners", "gauge", "Logged-in addresses", figures.get("miners", 0), base)
        out.add("stratum_workers", "gauge", "Logged-in workers", figures.get("workers", 0), base)
        out.add(
            "stratum_hashrate",
            "gauge",
            "Accepted difficulty per second (stratum's meter)",
            figures.get("hashrate", 0.0),
            base,
        )
        out.add(
            "stratum_blocks_found_total",
            "counter",
            "Blocks accepted by the daemon",
            figures.get("blocks_found", 0),
            base,
        )
        _counters(
            out, "stratum_shares_total", "Shares judged, by result", "result", figures.get("shares"), base
        )
        _counters(
            out, "stratum_rejects_total", "Rejected shares, by reason", "reason", figures.get("rejects"), base
        )
        _counters(
            out,
            "stratum_drops_total",
            "Connections closed by the pool, by cause",
            "cause",
            figures.get("drops"),
            base,
        )
        _instance_extras(out, figures, base)


def _counters(
    out: Exposition, name: str, help_text: str, label: str, values: Any, base: Mapping[str, str]
) -> None:
    for key, count in sorted(dict(values or {}).items()):
        out.add(name, "counter", help_text, count, {**base, label: str(key)})


def _instance_extras(out: Exposition, figures: Mapping[str, Any], base: Mapping[str, str]) -> None:
    template_age = figures.get("template_age_s")
    if isinstance(template_age, int | float):
        out.add("template_age_seconds", "gauge", "Age of the current block template", template_age, base)
    available = figures.get("daemon_available")
    if isinstance(available, bool):
        out.add("daemon_available", "gauge", "1 while the job manager reaches the daemon", available, base)
    _job_broadcast(out, figures, base)
    for algo, timing in sorted(dict(figures.get("hashing") or {}).items()):
        labels = {**base, "algorithm": str(algo)}
        out.add(
            "hashes_total", "counter", "Share hashes computed, by algorithm", timing.get("count", 0), labels
        )
        out.add(
            "hash_seconds_total",
            "counter",
            "Time spent hashing shares, by algorithm",
            timing.get("seconds", 0.0),
            labels,
        )
    recorder = figures.get("recorder")
    if isinstance(recorder, dict):
        out.add(
            "recorder_pending_shares",
            "gauge",
            "Acknowledged shares not yet in Redis",
            recorder.get("pending_shares", 0),
            base,
        )
        out.add(
            "recorder_spilled_ops",
            "gauge",
            "Batches waiting in the spill file",
            recorder.get("spilled_ops", 0),
            base,
        )
        out.add(
            "recorder_failures_total", "counter", "Failed Redis writes", recorder.get("failures", 0), base
        )
        out.add(
            "recorder_redis_available",
            "gauge",
            "1 while Redis takes the recorder's writes",
            bool(recorder.get("redis_available", False)),
            base,
        )
    for name, value in sorted(dict(figures.get("extra") or {}).items()):
        out.add(_metric_name(str(name)), "gauge", "Reported by the stratum instance", float(value), base)


def _job_broadcast(out: Exposition, figures: Mapping[str, Any], base: Mapping[str, str]) -> None:
    broadcast = figures.get("job_broadcast")
    if not isinstance(broadcast, dict):
        return  # no new template since the instance started
    out.add(
        "job_broadcast_seconds",
        "gauge",
        "Time the last new-template job broadcast took to reach every session",
        float(broadcast.get("seconds", 0.0)),
        base,
    )
    out.add(
        "job_broadcast_sessions",
        "gauge",
        "Sessions the last new-template job broadcast went to",
        int(broadcast.get("sessions", 0)),
        base,
    )


def _rpc(out: Exposition, s: PoolSnapshot) -> None:
    """Each process's calls to the daemon and the wallet, by method: latency histogram and failures."""
    for instance, figures in sorted(s.live.processes.items()):
        for endpoint, methods in sorted(dict(figures.get("rpc") or {}).items()):
            for method, timing in sorted(dict(methods).items()):
                labels = {"instance": instance, "endpoint": str(endpoint), "method": str(method)}
                out.histogram(
                    "rpc_request_seconds",
                    "Duration of the pool's RPC calls to the daemon and the wallet, failed ones included",
                    timing,
                    labels,
                )
                _counters(
                    out,
                    "rpc_errors_total",
                    "Failed RPC calls: unavailable (no answer), error_reply (an RPC error), bad_response",
                    "error",
                    timing.get("errors"),
                    labels,
                )


def _metric_name(name: str) -> str:
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in name)
    return f"extra_{cleaned[:80]}"


def _money(out: Exposition, s: PoolSnapshot) -> None:
    for state in BatchState:
        out.add(
            "payment_batches_open",
            "gauge",
            "Open payment batches, by state",
            s.open_batches.get(state.value, 0),
            {"state": state.value},
        )
    out.add("payouts_paid_atomic_total", "counter", "Atomic units paid to miners", s.payout_totals.paid)
    out.add(
        "payouts_transactions_total", "counter", "Payout transactions finalized", s.payout_totals.transactions
    )
    out.add(
        "ledger_rewards_atomic_total", "counter", "Block rewards of unlocked blocks", s.ledger.rewards_total
    )
    out.add(
        "ledger_credited_atomic_total",
        "counter",
        "Atomic units credited to balances",
        s.ledger.credited_total,
    )
    out.add("ledger_blocks_unlocked_total", "counter", "Blocks unlocked", s.ledger.blocks_unlocked)
    out.add("ledger_blocks_orphaned_total", "counter", "Blocks orphaned", s.ledger.blocks_orphaned)


def families(text: str) -> Iterable[str]:
    """Metric names declared in an exposition (tests)."""
    return [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]
