"""When is a candidate block unlocked, orphaned, or still waiting? A pure rule over the daemon's header.

The daemon is asked for the main-chain header at the candidate's height:
- the same hash, not flagged orphan: the block is ours and on the main chain. It unlocks once `depth`
  (blocks on top of it) reaches the unlock depth, the coinbase unlock window: by then the reward is
  spendable, and a reorg that deep is as unlikely as the coin's own rules assume.
- a different hash (or an orphan flag): another block holds that height *now*. That alone is not final: a
  daemon briefly on the losing side of a race, or one that is re-organising, shows a rival that may
  itself be reorged away within a block or two, and the reference pool orphans good blocks that way.
  So the block is orphaned only once the rival is buried at least `orphan_depth` deep (by default the
  unlock depth): the same certainty that unlocking demands, the other way round. Until then it waits.
- no block at that height (the daemon is behind or its chain got shorter): it cannot tell; wait.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from athena_pool.rpc.daemon import BlockHeader


class Verdict(enum.Enum):
    WAIT = "wait"
    UNLOCK = "unlock"
    ORPHAN = "orphan"


@dataclass(frozen=True, slots=True)
class Depths:
    unlock: int
    orphan: int

    def __post_init__(self) -> None:
        if self.unlock < 1 or self.orphan < 1:
            raise ValueError("unlock and orphan depths must be at least 1")


def classify(hash_hex: str, header: BlockHeader | None, depths: Depths) -> Verdict:
    """The verdict for our block `hash_hex` given the daemon's main-chain header at its height."""
    if header is None:
        return Verdict.WAIT
    ours = header.hash_hex.lower() == hash_hex.lower() and not header.orphan
    needed = depths.unlock if ours else depths.orphan
    if header.depth < needed:
        return Verdict.WAIT
    return Verdict.UNLOCK if ours else Verdict.ORPHAN
