"""The face every proof-of-work algorithm shows to the rest of the pool."""

from __future__ import annotations

from typing import Protocol


class PowError(ValueError):
    """An input the algorithm cannot hash (too short, missing seed, ...)."""


class PowAlgorithm(Protocol):
    """One proof-of-work function, named as xmrig names it.

    `hash` is thread-safe and releases the GIL for the heavy part, so a thread pool scales over cores.
    """

    name: str
    needs_seed: bool
    needs_height: bool

    def hash(self, blob: bytes, *, height: int = 0, seed: bytes | None = None) -> bytes: ...

    def close(self) -> None: ...
