"""TurtleCoin's Argon2id "chukwa" variants through argon2-cffi (which releases the GIL)."""

from __future__ import annotations

from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw

from athena_pool.pow.base import PowError

SALT_BYTES = 16


@dataclass(frozen=True)
class ChukwaParams:
    time_cost: int
    memory_kib: int


CHUKWA_PARAMS: dict[str, ChukwaParams] = {
    "argon2/chukwa": ChukwaParams(time_cost=3, memory_kib=512),
    "argon2/chukwav2": ChukwaParams(time_cost=4, memory_kib=1024),
}


class Chukwa:
    needs_seed = False
    needs_height = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.params = CHUKWA_PARAMS[name]

    def hash(self, blob: bytes, *, height: int = 0, seed: bytes | None = None) -> bytes:
        # The blob is both the secret and, through its first 16 bytes, the salt.
        if len(blob) < SALT_BYTES:
            raise PowError(f"{self.name} needs at least {SALT_BYTES} bytes of input, got {len(blob)}")
        digest: bytes = hash_secret_raw(
            secret=blob,
            salt=blob[:SALT_BYTES],
            time_cost=self.params.time_cost,
            memory_cost=self.params.memory_kib,
            parallelism=1,
            hash_len=32,
            type=Type.ID,
            version=19,
        )
        return digest

    def close(self) -> None:
        """argon2-cffi keeps no state between calls."""
