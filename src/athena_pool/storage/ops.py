"""The units of work the share recorder queues, and their one-line JSON form for the spill file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from athena_pool.storage.records import BlockCandidate, ShareRecord


@dataclass(frozen=True, slots=True)
class ShareBatch:
    batch_id: str  # the idempotency key: applying the same batch twice counts it once
    shares: tuple[ShareRecord, ...]


@dataclass(frozen=True, slots=True)
class CandidateOp:
    candidate: BlockCandidate  # idempotent by its (height, hash)


Op = ShareBatch | CandidateOp


def share_count(op: Op) -> int:
    return len(op.shares) if isinstance(op, ShareBatch) else 0


def encode_op(op: Op) -> bytes:
    """One JSON line, newline included."""
    data: dict[str, Any]
    if isinstance(op, ShareBatch):
        data = {"op": "shares", "batch_id": op.batch_id, "shares": [s.to_json() for s in op.shares]}
    else:
        data = {"op": "block", "candidate": op.candidate.to_json()}
    return json.dumps(data, separators=(",", ":")).encode() + b"\n"


def decode_op(line: bytes) -> Op:
    """Raises ValueError (or KeyError/TypeError from a malformed record) for a line that is not an op."""
    data = json.loads(line)
    if data["op"] == "shares":
        shares = tuple(ShareRecord.from_json(s) for s in data["shares"])
        return ShareBatch(batch_id=str(data["batch_id"]), shares=shares)
    if data["op"] == "block":
        return CandidateOp(BlockCandidate.from_json(data["candidate"]))
    raise ValueError(f"unknown op {data['op']!r}")
