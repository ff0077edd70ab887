"""The face every proof-of-work algorithm shows to the rest of the pool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class PowError(ValueError):
    """An input the algorithm cannot hash (too short, missing seed, ...)."""


@dataclass(frozen=True)
class PowSettings:
    """How the pool computes hashes (never what they are): the config file's `pow` section.

    randomx_full_dataset: rx/0 builds the 2 GiB dataset per seed (about 2.1 GiB of RAM per seed kept, and
    tens of seconds to build it on every core) for hashes several times faster than light mode's
    256 MiB cache. Worth it only for a pool verifying many rx/0 shares a second; default false.
    """

    randomx_full_dataset: bool = False


class PowAlgorithm(Protocol):
    """One proof-of-work function, named as xmrig names it.

    `hash` is thread-safe and releases the GIL for the heavy part, so a thread pool scales over cores.
    """

    name: str
    needs_seed: bool
    needs_height: bool

    def hash(self, blob: bytes, *, height: int = 0, seed: bytes | None = None) -> bytes: ...

    def close(self) -> None: ...


@runtime_checkable
class SeedPreparer(Protocol):
    """An algorithm keyed by a seed (RandomX) that can build a seed's state before the first hash needs it."""

    def prepare(self, seed: bytes) -> None: ...
