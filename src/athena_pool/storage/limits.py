"""Bounds on what storage keeps in Redis."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoreLimits:
    # Entries kept in the PPLNS stream. It must hold the largest window the unlocker asks for (window
    # difficulty / smallest share difficulty) plus every share that arrives while a block waits to unlock,
    # because the unlocker reads the window that ended at the block, possibly hours later.
    pplns_max_entries: int = 1_000_000
    # How far back hashrate samples are kept; the longest window `Store.hashrate` can answer.
    hashrate_window_s: int = 3_600
    # How long a batch id is remembered. A batch replayed later than this would be counted twice.
    batch_dedupe_ttl_s: int = 86_400
    # IPs remembered per miner (newest first).
    ip_history: int = 32

    def __post_init__(self) -> None:
        for name in ("pplns_max_entries", "hashrate_window_s", "batch_dedupe_ttl_s", "ip_history"):
            if getattr(self, name) < 1:
                raise ValueError(f"StoreLimits.{name} must be at least 1")
