"""The CryptoNight family through the project's own C extension (`_cryptonight`)."""

from __future__ import annotations

from dataclasses import dataclass

import athena_pool.pow._cryptonight as _cryptonight
from athena_pool.pow.base import PowError

MIB = 1024 * 1024


@dataclass(frozen=True)
class CryptoNightParams:
    memory: int
    iterations: int
    mask: int
    variant: int

    @property
    def min_input(self) -> int:
        # Variant 1 reads a tweak from input bytes 35..42; the pool demands the same of variant 2, whose
        # blobs are never that short in practice. cn/r, like Monero's variant 4, takes any length.
        return 43 if self.variant in (1, 2) else 0


CN_PARAMS: dict[str, CryptoNightParams] = {
    "cn/0": CryptoNightParams(2 * MIB, 1 << 20, 0x1FFFF0, 0),
    "cn/1": CryptoNightParams(2 * MIB, 1 << 20, 0x1FFFF0, 1),
    "cn/2": CryptoNightParams(2 * MIB, 1 << 20, 0x1FFFF0, 2),
    # cn/r: variant 2's loop with a random-math program generated from the block height.
    "cn/r": CryptoNightParams(2 * MIB, 1 << 20, 0x1FFFF0, 4),
    "cn-lite/0": CryptoNightParams(1 * MIB, 1 << 19, 0xFFFF0, 0),
    "cn-lite/1": CryptoNightParams(1 * MIB, 1 << 19, 0xFFFF0, 1),
    # Pico addresses only 128 KiB of its 256 KiB scratchpad: the mask is not derived from the memory.
    "cn-pico/trtl": CryptoNightParams(256 * 1024, 1 << 17, 0x1FFF0, 2),
}


class CryptoNight:
    needs_seed = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.params = CN_PARAMS[name]
        self.needs_height = self.params.variant == 4

    def hash(self, blob: bytes, *, height: int = 0, seed: bytes | None = None) -> bytes:
        p = self.params
        if len(blob) < p.min_input:
            raise PowError(f"{self.name} needs at least {p.min_input} bytes of input, got {len(blob)}")
        try:
            return _cryptonight.cn_slow_hash(blob, p.memory, p.iterations, p.mask, p.variant, height)
        except ValueError as exc:
            raise PowError(str(exc)) from exc

    def close(self) -> None:
        """Nothing to release: scratchpads are per thread inside the extension."""


def fast_hash(data: bytes) -> bytes:
    """cn_fast_hash (Keccak-256 with the original padding), from the extension."""
    return _cryptonight.fast_hash(data)


def aes_ni_in_use() -> bool:
    return _cryptonight.aes_ni()
