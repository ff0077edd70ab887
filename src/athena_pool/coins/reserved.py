"""Cross-checking a daemon's `reserved_offset` against the parsed reserved space (section 2.3)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from athena_pool.coins.errors import NoReservedSpaceError
from athena_pool.coins.families import BlobFamily


class ReservedOffsetVerdict(Enum):
    MATCHES = "matches"
    # Legacy Bytecoin-family RPC (Athena, TurtleCoin before PR #998, Monero before PR #2357) reports
    # the payload start + 1: it computes pubkey position + 32 + 3 instead of + 2.
    LEGACY_PLUS_ONE = "legacy_plus_one"
    NO_RESERVE = "no_reserve"
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class ReservedOffsetCheck:
    daemon_offset: int
    payload_offset: int | None
    verdict: ReservedOffsetVerdict

    @property
    def description(self) -> str:
        if self.verdict is ReservedOffsetVerdict.MATCHES:
            return f"daemon reserved_offset {self.daemon_offset} is the first reserved payload byte"
        if self.verdict is ReservedOffsetVerdict.LEGACY_PLUS_ONE:
            return (
                f"daemon reserved_offset {self.daemon_offset} is one past the payload start "
                f"{self.payload_offset} (legacy Bytecoin-family off-by-one)"
            )
        if self.verdict is ReservedOffsetVerdict.NO_RESERVE:
            return "no reserved space in the template and the daemon reported none"
        return f"daemon reserved_offset {self.daemon_offset} disagrees with the parsed payload start " + (
            "(none found)" if self.payload_offset is None else str(self.payload_offset)
        )


def _verdict(daemon_offset: int, payload_offset: int | None) -> ReservedOffsetVerdict:
    if payload_offset is None:
        return ReservedOffsetVerdict.NO_RESERVE if daemon_offset == 0 else ReservedOffsetVerdict.MISMATCH
    if daemon_offset == payload_offset:
        return ReservedOffsetVerdict.MATCHES
    if daemon_offset == payload_offset + 1:
        return ReservedOffsetVerdict.LEGACY_PLUS_ONE
    return ReservedOffsetVerdict.MISMATCH


def cross_check_reserved_offset(family: BlobFamily, blob: bytes, daemon_offset: int) -> ReservedOffsetCheck:
    """Compare what the daemon said with what parsing the coinbase extra finds; never used to write."""
    try:
        payload_offset: int | None = family.reserved_space(blob).offset
    except NoReservedSpaceError:
        payload_offset = None
    return ReservedOffsetCheck(daemon_offset, payload_offset, _verdict(daemon_offset, payload_offset))
