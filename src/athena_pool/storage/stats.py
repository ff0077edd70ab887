"""What storage reads back: typed views of the stats hashes, block records and PPLNS entries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from athena_pool.storage.keys import split_worker_field
from athena_pool.storage.records import BlockCandidate, RewardType, ShareKind

# Stat names of the miner, worker and pool hashes besides the per-kind counts (ShareKind values).
HASHES = "hashes"
LAST_SHARE_MS = "last_share_ms"  # last credited share
LAST_SEEN_MS = "last_seen_ms"  # last share of any kind


def hashes_field(reward_type: RewardType) -> str:
    return f"hashes_{reward_type.value}"


def blocks_field(reward_type: RewardType) -> str:
    return f"blocks_{reward_type.value}"


def last_block_field(reward_type: RewardType) -> str:
    return f"last_block_ms_{reward_type.value}"


@dataclass(frozen=True, slots=True)
class ShareCounts:
    by_kind: Mapping[ShareKind, int]

    def __getitem__(self, kind: ShareKind) -> int:
        return self.by_kind.get(kind, 0)

    @property
    def accepted(self) -> int:
        return sum(n for kind, n in self.by_kind.items() if kind.credited)

    @property
    def rejected(self) -> int:
        return sum(n for kind, n in self.by_kind.items() if not kind.credited)

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> ShareCounts:
        return cls({kind: int(fields[kind.value]) for kind in ShareKind if kind.value in fields})


@dataclass(frozen=True, slots=True)
class ActivityStats:
    """The stats kept for a miner and for each of its workers."""

    counts: ShareCounts
    hashes: int  # sum of credited difficulty
    last_share_ms: int
    last_seen_ms: int

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> ActivityStats:
        return cls(
            counts=ShareCounts.from_fields(fields),
            hashes=int(fields.get(HASHES, 0)),
            last_share_ms=int(fields.get(LAST_SHARE_MS, 0)),
            last_seen_ms=int(fields.get(LAST_SEEN_MS, 0)),
        )


def group_worker_fields(fields: Mapping[str, str]) -> dict[str, ActivityStats]:
    """Splits the `{stat}:{worker}` fields of a miner-workers hash into stats per worker."""
    per_worker: dict[str, dict[str, str]] = {}
    for field, value in fields.items():
        stat, worker = split_worker_field(field)
        per_worker.setdefault(worker, {})[stat] = value
    return {worker: ActivityStats.from_fields(stats) for worker, stats in per_worker.items()}


@dataclass(frozen=True, slots=True)
class PoolStats:
    counts: ShareCounts
    hashes: Mapping[RewardType, int]
    last_share_ms: int
    blocks_found: Mapping[RewardType, int]
    last_block_ms: Mapping[RewardType, int]

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> PoolStats:
        def per_type(name_of: Callable[[RewardType], str]) -> dict[RewardType, int]:
            return {rt: int(fields.get(name_of(rt), 0)) for rt in RewardType}

        return cls(
            counts=ShareCounts.from_fields(fields),
            hashes=per_type(hashes_field),
            last_share_ms=int(fields.get(LAST_SHARE_MS, 0)),
            blocks_found=per_type(blocks_field),
            last_block_ms=per_type(last_block_field),
        )


@dataclass(frozen=True, slots=True)
class BlockRecord:
    candidate: BlockCandidate
    round_shares: int  # total difficulty of the round the block closed
    pplns_cursor: str  # id of the newest PPLNS entry when the block was found ("0-0" if none)
    status: str  # "candidate" until the unlocker changes it
    fields: Mapping[str, str]  # the whole record, including fields later writers add

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> BlockRecord:
        return cls(
            candidate=BlockCandidate.from_json(fields),
            round_shares=int(fields["round_shares"]),
            pplns_cursor=fields["pplns_cursor"],
            status=fields["status"],
            fields=dict(fields),
        )


@dataclass(frozen=True, slots=True)
class PplnsShare:
    entry_id: str
    address: str
    difficulty: int  # the edge share of a window is cut to what fits
    time_ms: int


@dataclass(frozen=True, slots=True)
class NetworkStats:
    height: int
    difficulty: int
    last_block_hash: str
    last_block_time_s: int
    updated_ms: int

    def to_fields(self) -> dict[str, str]:
        return {
            "height": str(self.height),
            "difficulty": str(self.difficulty),
            "last_block_hash": self.last_block_hash,
            "last_block_time_s": str(self.last_block_time_s),
            "updated_ms": str(self.updated_ms),
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> NetworkStats:
        return cls(
            height=int(fields["height"]),
            difficulty=int(fields["difficulty"]),
            last_block_hash=fields["last_block_hash"],
            last_block_time_s=int(fields["last_block_time_s"]),
            updated_ms=int(fields["updated_ms"]),
        )
