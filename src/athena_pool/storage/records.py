"""What the pool hands to storage: shares and block candidates, with their JSON form (spill file).

`address` everywhere is the payout destination as the stratum login defines it: the address, or
`ADDRESS.PAYMENTID` when the miner gave a payment id (`stratum.login.LoginDetails.payout_destination`).
Storage treats it as opaque text: any character is safe in it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_HASH_HEX = re.compile(r"[0-9a-f]{64}")


class ShareKind(enum.StrEnum):
    """The outcome of one submitted share, as stored. Only VALID and STALE are credited."""

    VALID = "valid"
    STALE = "stale"  # valid for a job of an earlier template still accepted (grace period): credited
    INVALID = "invalid"  # bad hash, malformed nonce or result, unknown job
    LOW_DIFF = "low_diff"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"  # job of a template too old to accept: rejected, not credited

    @property
    def credited(self) -> bool:
        return self in _CREDITED


_CREDITED = frozenset({ShareKind.VALID, ShareKind.STALE})


class RewardType(enum.StrEnum):
    """PROP is the shared pool (paid PROP from the frozen round, or PPLNS from the stream); SOLO pays the
    finder alone from their own round."""

    PROP = "prop"
    SOLO = "solo"


@dataclass(frozen=True, slots=True)
class ShareRecord:
    address: str  # payout destination, see the module docstring
    worker: str
    difficulty: int  # the job's difficulty: what the share is worth when credited
    kind: ShareKind
    solo: bool
    time_ms: int
    height: int
    ip: str | None = None

    def __post_init__(self) -> None:
        if not self.address:
            raise ValueError("share without an address")
        _require_non_negative_int("difficulty", self.difficulty)
        _require_non_negative_int("time_ms", self.time_ms)
        _require_non_negative_int("height", self.height)

    @property
    def reward_type(self) -> RewardType:
        return RewardType.SOLO if self.solo else RewardType.PROP

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "worker": self.worker,
            "difficulty": self.difficulty,
            "kind": self.kind.value,
            "solo": self.solo,
            "time_ms": self.time_ms,
            "height": self.height,
            "ip": self.ip,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShareRecord:
        return cls(
            address=str(data["address"]),
            worker=str(data["worker"]),
            difficulty=int(data["difficulty"]),
            kind=ShareKind(data["kind"]),
            solo=bool(data["solo"]),
            time_ms=int(data["time_ms"]),
            height=int(data["height"]),
            ip=None if data.get("ip") is None else str(data["ip"]),
        )


@dataclass(frozen=True, slots=True)
class BlockCandidate:
    """A block the daemon accepted. The round it closes is the finder's solo round or the shared one."""

    height: int
    hash_hex: str  # block id, 64 lower-case hex characters
    network_difficulty: int
    reward_type: RewardType
    finder_address: str
    finder_worker: str
    time_ms: int

    def __post_init__(self) -> None:
        if not _HASH_HEX.fullmatch(self.hash_hex):
            raise ValueError(f"block hash must be 64 lower-case hex characters, got {self.hash_hex!r}")
        if not self.finder_address:
            raise ValueError("block candidate without a finder address")
        _require_non_negative_int("height", self.height)
        _require_non_negative_int("network_difficulty", self.network_difficulty)
        _require_non_negative_int("time_ms", self.time_ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "hash": self.hash_hex,
            "network_difficulty": self.network_difficulty,
            "reward_type": self.reward_type.value,
            "finder_address": self.finder_address,
            "finder_worker": self.finder_worker,
            "time_ms": self.time_ms,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BlockCandidate:
        return cls(
            height=int(data["height"]),
            hash_hex=str(data["hash"]),
            network_difficulty=int(data["network_difficulty"]),
            reward_type=RewardType(data["reward_type"]),
            finder_address=str(data["finder_address"]),
            finder_worker=str(data["finder_worker"]),
            time_ms=int(data["time_ms"]),
        )


def _require_non_negative_int(name: str, value: int) -> None:
    # bool is an int subclass; a True difficulty is a caller bug, not a difficulty of 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
