"""One job handed to one miner: a template copy with its own extra nonce, at the miner's difficulty."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from athena_pool.jobs.template import Template
from athena_pool.targets import job_target_hex


@dataclass(eq=False, slots=True)
class Job:
    """Implements `contracts.IssuedJob`. Equality is identity: two jobs are never the same job.

    A job keeps only what differs from its template (the extra nonce) and what the miner hashes; the full
    blob is rebuilt from the template when a share needs it, so thousands of miners' jobs cost little memory.
    """

    job_id: str
    difficulty: int  # share difficulty credited for an accepted share
    height: int
    template: Template  # the template this job was built on; shares are judged against it, never another
    extra_nonce: int
    instance_id: bytes  # the pool process's id, written after the extra nonce
    hashing_blob: bytes  # what the miner hashes (nonce bytes still zero)
    algo: str
    _nonces: set[bytes] | None = field(default=None, repr=False)

    @property
    def submitted_nonces(self) -> set[bytes]:
        """Nonces already submitted for this job; made on the first share (most jobs never see one)."""
        if self._nonces is None:
            self._nonces = set()
        return self._nonces

    @submitted_nonces.setter
    def submitted_nonces(self, nonces: set[bytes]) -> None:
        self._nonces = nonces

    @property
    def blob(self) -> bytes:
        """The full template blob with this job's extra nonce and instance id written."""
        return self.template.job_blob(self.extra_nonce, self.instance_id)

    def to_stratum(self, session_id: str) -> dict[str, Any]:
        """The job object xmrig expects (other-pools.md section 8.1)."""
        job: dict[str, Any] = {
            "blob": self.hashing_blob.hex(),
            "job_id": self.job_id,
            "target": job_target_hex(self.difficulty),
            "id": session_id,
            "height": self.height,
            "algo": self.algo,
        }
        seed_hash_hex = self.template.seed_hash_hex
        if seed_hash_hex is not None:
            job["seed_hash"] = seed_hash_hex
        return job

    def stratum_json(self, session_id: str) -> str:
        """`to_stratum` as JSON text, without the JSON encoder: a new template sends one of these to every
        miner at once. Every part is hex or a number except two texts, which are quoted safely."""
        seed_hash_hex = self.template.seed_hash_hex
        seed = "" if seed_hash_hex is None else f',"seed_hash":"{seed_hash_hex}"'
        return (
            f'{{"blob":"{self.hashing_blob.hex()}","job_id":"{self.job_id}",'
            f'"target":"{job_target_hex(self.difficulty)}","id":{_json_id(session_id)},'
            f'"height":{self.height},"algo":{_json_algo(self.algo)}{seed}}}'
        )


def _json_id(session_id: str) -> str:
    # The pool's own session ids are hex: quoted as they are; anything else goes through `_json_text`.
    if session_id.isalnum() and session_id.isascii():
        return f'"{session_id}"'
    return _json_text(session_id)


@functools.lru_cache(maxsize=64)  # a pool mines one or two algorithms
def _json_algo(algo: str) -> str:
    return _json_text(algo)


def _json_text(text: str) -> str:
    """A JSON string literal; the common case (a token, an algorithm name) without the encoder."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text)
