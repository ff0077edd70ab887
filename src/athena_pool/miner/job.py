"""A job as the pool sent it, checked the way xmrig checks it, and the nonce arithmetic on its blob."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from athena_pool.targets import miner_target, miner_would_submit

NONCE_OFFSET = 39  # xmrig assumes it for every CryptoNote blob (block-format.md section 2)
NONCE_SIZE = 4
MIN_BLOB_BYTES = NONCE_OFFSET + NONCE_SIZE
MAX_BLOB_BYTES = 407  # xmrig refuses blobs of 408 bytes or more
MAX_JOB_ID_CHARS = 256
SEED_HASH_CHARS = 64
NONCE_SPACE = 1 << 32
# In NiceHash mode the pool owns the top nonce byte (blob byte 42); the miner only walks the lower three.
NICEHASH_NONCE_SPACE = 1 << 24


class JobError(ValueError):
    """A job the miner cannot work on; the message says which field is wrong."""


@dataclass(frozen=True)
class MiningJob:
    job_id: str
    blob: bytes
    target_hex: str
    threshold: int  # submit when the uint64 read little-endian from hash bytes 24..31 is below this
    algo: str
    height: int
    seed: bytes | None

    @property
    def nicehash(self) -> bool:
        """xmrig's rule: a job whose blob already carries nonce bytes leaves byte 42 to the pool."""
        return any(self.blob[NONCE_OFFSET : NONCE_OFFSET + NONCE_SIZE])

    @property
    def nonce_space(self) -> int:
        return NICEHASH_NONCE_SPACE if self.nicehash else NONCE_SPACE

    def nonce_bytes(self, counter: int) -> bytes:
        """The 4 nonce bytes for the `counter`-th nonce of this job (NiceHash: the pool's top byte kept)."""
        if self.nicehash:
            top = self.blob[NONCE_OFFSET + NONCE_SIZE - 1]
            return (counter % NICEHASH_NONCE_SPACE).to_bytes(3, "little") + bytes([top])
        return (counter % NONCE_SPACE).to_bytes(NONCE_SIZE, "little")

    def blob_with_nonce(self, nonce: bytes) -> bytes:
        return self.blob[:NONCE_OFFSET] + nonce + self.blob[NONCE_OFFSET + NONCE_SIZE :]

    def meets_target(self, pow_hash: bytes) -> bool:
        return miner_would_submit(pow_hash, self.threshold)

    def same_work(self, other: MiningJob) -> bool:
        """xmrig treats an identical job sent twice as a broken pool and reconnects."""
        return (self.job_id, self.blob, self.target_hex) == (other.job_id, other.blob, other.target_hex)


def parse_job(params: object, default_algo: str) -> MiningJob:
    """Validate a `job` object from a login reply, a job push or a getjob reply."""
    if not isinstance(params, Mapping):
        raise JobError("job is not an object")
    job_id = _text(params, "job_id", MAX_JOB_ID_CHARS)
    blob = _hex_field(params, "blob", 2 * MAX_BLOB_BYTES)
    if not MIN_BLOB_BYTES <= len(blob) <= MAX_BLOB_BYTES:
        raise JobError(f"blob is {len(blob)} bytes; expected {MIN_BLOB_BYTES}..{MAX_BLOB_BYTES}")
    target_hex = _text(params, "target", 16).lower()
    try:
        threshold = miner_target(target_hex)
    except ValueError as exc:
        raise JobError(f"bad target {target_hex!r}: {exc}") from None
    algo = params.get("algo") or default_algo
    if not isinstance(algo, str) or len(algo) > 64:
        raise JobError("algo is not a short string")
    height = params.get("height", 0)
    if not isinstance(height, int) or isinstance(height, bool) or height < 0:
        raise JobError("height is not a non-negative integer")
    seed = _hex_field(params, "seed_hash", SEED_HASH_CHARS) if params.get("seed_hash") else None
    if seed is not None and len(seed) != SEED_HASH_CHARS // 2:
        raise JobError("seed_hash must be 64 hex characters")
    return MiningJob(job_id, blob, target_hex, threshold, algo, height, seed)


def _text(params: Mapping[str, object], name: str, max_chars: int) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise JobError(f"{name} must be a non-empty string of at most {max_chars} characters")
    return value


def _hex_field(params: Mapping[str, object], name: str, max_chars: int) -> bytes:
    text = _text(params, name, max_chars)
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise JobError(f"{name} is not hex") from None
