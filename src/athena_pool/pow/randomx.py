"""RandomX (rx/0) through Debian's librandomx, bound with ctypes.

ctypes releases the GIL around every foreign call, so hashing in a thread pool uses every core.

Keys: a RandomX cache is keyed by the template's `seed_hash`, which changes every 2048 blocks. The pool
keeps the states of the last few seeds (the current one and the next one around a switch) and builds a
new one on first use. VMs are not thread-safe, so each seed state lends one VM per concurrent caller from a
free list; a state that falls out of the window is released only once no caller holds one of its VMs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from athena_pool.pow.base import PowError

log = logging.getLogger("athena_pool.pow.randomx")

FLAG_FULL_MEM = 4
HASH_SIZE = 32
LIBRARY_NAMES = ("librandomx.so.0", "librandomx.so")


class RandomXUnavailableError(RuntimeError):
    """librandomx is not installed."""


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    vp, c_int, size_t, ulong = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_ulong
    signatures: dict[str, tuple[list[type], type | None]] = {
        "randomx_get_flags": ([], c_int),
        "randomx_alloc_cache": ([c_int], vp),
        "randomx_init_cache": ([vp, vp, size_t], None),
        "randomx_release_cache": ([vp], None),
        "randomx_alloc_dataset": ([c_int], vp),
        "randomx_dataset_item_count": ([], ulong),
        "randomx_init_dataset": ([vp, vp, ulong, ulong], None),
        "randomx_release_dataset": ([vp], None),
        "randomx_create_vm": ([c_int, vp, vp], vp),
        "randomx_destroy_vm": ([vp], None),
        "randomx_calculate_hash": ([vp, vp, size_t, vp], None),
    }
    for name, (argtypes, restype) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = restype
    return lib


def load_library() -> ctypes.CDLL:
    """Load librandomx, or raise RandomXUnavailableError with the package to install."""
    candidates = [*LIBRARY_NAMES]
    found = ctypes.util.find_library("randomx")
    if found:
        candidates.append(found)
    for name in candidates:
        try:
            return _declare(ctypes.CDLL(name))
        except OSError:
            continue
    raise RandomXUnavailableError("librandomx is not installed (Debian: apt-get install librandomx0)")


@dataclass(eq=False)
class _SeedState:
    """A cache (and, in full mode, a dataset) for one seed, with its VMs."""

    seed: bytes
    cache: int
    dataset: int | None
    free_vms: list[int] = field(default_factory=list)
    borrowed: int = 0
    retired: bool = False


class RandomX:
    """rx/0 keyed by seed hash. Light mode by default; `full_mem=True` builds the 2 GiB dataset."""

    name = "rx/0"
    needs_seed = True
    needs_height = False

    def __init__(
        self,
        *,
        full_mem: bool = False,
        keep_seeds: int = 2,
        init_threads: int | None = None,
        library: ctypes.CDLL | None = None,
    ) -> None:
        self._lib = library or load_library()
        self._flags = int(self._lib.randomx_get_flags())
        self._full_mem = full_mem
        self._keep_seeds = max(1, keep_seeds)
        self._init_threads = init_threads or os.cpu_count() or 1
        self._states: OrderedDict[bytes, _SeedState] = OrderedDict()
        self._lock = threading.Lock()
        # One lock per seed being built, so two threads asking for a new seed build it once.
        self._building: dict[bytes, threading.Lock] = {}
        self._states_built = 0

    @property
    def flags(self) -> int:
        return self._flags

    @property
    def full_dataset(self) -> bool:
        return self._full_mem

    @property
    def states_built(self) -> int:
        """Seed states built so far; a seed evicted and needed again counts again (for metrics and tests)."""
        return self._states_built

    @property
    def cached_seeds(self) -> tuple[bytes, ...]:
        """The seeds whose state is kept, least recently used first."""
        with self._lock:
            return tuple(self._states)

    def hash(self, blob: bytes, *, height: int = 0, seed: bytes | None = None) -> bytes:
        if not seed:
            raise PowError("rx/0 needs the template's seed hash")
        with self._vm(seed) as vm:
            out = ctypes.create_string_buffer(HASH_SIZE)
            self._lib.randomx_calculate_hash(vm, blob, len(blob), out)
            return out.raw

    def prepare(self, seed: bytes) -> None:
        """Build the state for `seed` ahead of need (e.g. for the template's next_seed_hash)."""
        self._release(self._acquire(seed))

    def close(self) -> None:
        with self._lock:
            states = list(self._states.values())
            self._states.clear()
            for state in states:
                state.retired = True
        for state in states:
            self._maybe_free(state)

    @contextmanager
    def _vm(self, seed: bytes) -> Iterator[int]:
        state = self._acquire(seed)
        vm: int | None = None
        try:
            with self._lock:
                vm = state.free_vms.pop() if state.free_vms else None
            if vm is None:
                vm = self._create_vm(state)
            yield vm
        finally:
            if vm is not None:
                with self._lock:
                    state.free_vms.append(vm)
            self._release(state)

    def _acquire(self, seed: bytes) -> _SeedState:
        while True:
            with self._lock:
                state = self._states.get(seed)
                if state is not None:
                    self._states.move_to_end(seed)
                    state.borrowed += 1
                    return state
                building = self._building.setdefault(seed, threading.Lock())
            with building:
                with self._lock:
                    ready = seed in self._states
                if not ready:
                    self._install(self._build_state(seed))
                    with self._lock:
                        self._building.pop(seed, None)

    def _release(self, state: _SeedState) -> None:
        with self._lock:
            state.borrowed -= 1
        self._maybe_free(state)

    def _install(self, state: _SeedState) -> None:
        with self._lock:
            self._states_built += 1
            self._states[state.seed] = state
            evicted = []
            while len(self._states) > self._keep_seeds:
                _, old = self._states.popitem(last=False)
                old.retired = True
                evicted.append(old)
        for old in evicted:
            self._maybe_free(old)

    def _build_state(self, seed: bytes) -> _SeedState:
        started = time.monotonic()
        cache = self._lib.randomx_alloc_cache(self._flags)
        if not cache:
            raise MemoryError("randomx_alloc_cache failed")
        self._lib.randomx_init_cache(cache, seed, len(seed))
        dataset = self._build_dataset(cache) if self._full_mem else None
        log.info(
            "RandomX %s state for seed %s ready in %.2f s",
            "full" if dataset else "light",
            seed.hex()[:16],
            time.monotonic() - started,
        )
        return _SeedState(seed=seed, cache=cache, dataset=dataset)

    def _build_dataset(self, cache: int) -> int:
        dataset = self._lib.randomx_alloc_dataset(self._flags | FLAG_FULL_MEM)
        if not dataset:
            raise MemoryError("randomx_alloc_dataset failed (full mode needs about 2.1 GiB)")
        items = int(self._lib.randomx_dataset_item_count())
        per_thread = -(-items // self._init_threads)
        threads = [
            threading.Thread(
                target=self._lib.randomx_init_dataset,
                args=(dataset, cache, start, min(per_thread, items - start)),
            )
            for start in range(0, items, per_thread)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return int(dataset)

    def _create_vm(self, state: _SeedState) -> int:
        flags = self._flags | (FLAG_FULL_MEM if state.dataset else 0)
        vm = self._lib.randomx_create_vm(flags, state.cache, state.dataset)
        if not vm:
            raise MemoryError("randomx_create_vm failed")
        return int(vm)

    def _maybe_free(self, state: _SeedState) -> None:
        with self._lock:
            if not state.retired or state.borrowed > 0 or state.cache == 0:
                return
            vms, state.free_vms = state.free_vms, []
            cache, state.cache = state.cache, 0
            dataset, state.dataset = state.dataset, None
        for vm in vms:
            self._lib.randomx_destroy_vm(vm)
        if dataset:
            self._lib.randomx_release_dataset(dataset)
        self._lib.randomx_release_cache(cache)
