""" "Other people" on the devnet: blocks mined with real proof of work, on a timer and on operator request.

Timer blocks keep the chain moving (so a pool sees new templates and its own blocks get buried). The operator
can also mine N blocks at once, or orphan the last N main-chain blocks: that mines N+1 blocks on a fork from
below them, and ordinary fork choice (most cumulative difficulty) makes the fork the main chain.
Every block made here goes through the same checks as a submitted block. With `real_pow` (the default up
to a demo-sized difficulty) its nonce is ground with the real hash until the PoW meets the difficulty;
without it the nonce is left random, because grinding costs difficulty x ~7 ms of CPU per block and the
pool never checks other miners' proof of work, only the ids, heights and rewards it reads from headers.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass

from athena_pool.devnet.chain import BlockSource, Chain, ChainBlock
from athena_pool.pow import PowVerifier
from athena_pool.targets import meets

log = logging.getLogger(__name__)

EXTRA_NONCE_SIZE = 8
MAX_BLOCKS_PER_REQUEST = 100
# Fork choice needs N+1 blocks to overtake N; a pool block landing on the old branch meanwhile needs more.
EXTRA_REORG_BLOCKS = 10
MAX_TIP_RACES = 100


class BlockSearchAbandonedError(Exception):
    """The nonce search ran out of attempts (only possible at absurd difficulties)."""


class TipMovedError(Exception):
    """A timer block lost the race: someone else extended the tip first, so its work is dropped."""


@dataclass(frozen=True)
class OrphanReport:
    orphaned: tuple[ChainBlock, ...]
    new_blocks: tuple[ChainBlock, ...]


class NetworkMiner:
    def __init__(
        self,
        chain: Chain,
        verifier: PowVerifier,
        addresses: Sequence[str],
        *,
        rng: random.Random,
        real_pow: bool = True,
        max_attempts_per_block: int = 1_000_000,
    ) -> None:
        if not addresses:
            raise ValueError("the network needs at least one miner address")
        self._chain = chain
        self._verifier = verifier
        self._addresses = tuple(addresses)
        self._rng = rng
        self._max_attempts = max_attempts_per_block
        self.real_pow = real_pow
        # Operator requests and the timer take turns, so a reorg is never interleaved with a timer block.
        self._lock = asyncio.Lock()

    async def mine(self, count: int) -> list[ChainBlock]:
        """Mine `count` blocks on the tip, one after another."""
        _check_count(count)
        async with self._lock:
            return [await self._mine_on_tip() for _ in range(count)]

    async def orphan_last(self, count: int) -> OrphanReport:
        """Replace the last `count` main-chain blocks by a longer fork mined by someone else."""
        _check_count(count)
        async with self._lock:
            if count > self._chain.height:
                raise ValueError(f"cannot orphan {count} blocks: the chain is only {self._chain.height} high")
            fork_point = self._require_main(self._chain.height - count)
            old_branch = tuple(self._chain.main_blocks(fork_point.height + 1))
            new_blocks = await self._mine_fork(fork_point, count)
            orphaned = tuple(block for block in old_branch if not self._chain.is_main(block))
            return OrphanReport(orphaned, new_blocks)

    async def run_timer(self) -> None:
        """Mine a block every so often (uniformly 0.5..1.5 block times), until cancelled."""
        block_time = self._chain.params.block_time
        while True:
            await asyncio.sleep(self._rng.uniform(0.5, 1.5) * block_time)
            async with self._lock:
                try:
                    block = await self._mine_on_tip()
                except Exception:  # keep the chain moving whatever one attempt ran into
                    log.exception("network block attempt failed")
                    continue
                log.info("network block %d %s", block.height, block.block_id.hex())

    async def _mine_fork(self, fork_point: ChainBlock, count: int) -> tuple[ChainBlock, ...]:
        mined: list[ChainBlock] = []
        parent = fork_point
        for _ in range(count + 1 + EXTRA_REORG_BLOCKS):
            block = await self._mine_block(parent)
            mined.append(block)
            parent = block
            if len(mined) > count and self._chain.is_main(block):
                return tuple(mined)
        raise BlockSearchAbandonedError("the fork never overtook the main chain")

    async def _mine_on_tip(self) -> ChainBlock:
        """A block on the current tip; when a submitted block moves the tip first, start again on it."""
        for _ in range(MAX_TIP_RACES):
            try:
                return await self._mine_block(self._chain.tip, give_up_if_tip_moves=True)
            except TipMovedError:
                continue
        raise BlockSearchAbandonedError(f"the tip moved {MAX_TIP_RACES} times while mining")

    async def _mine_block(self, parent: ChainBlock, *, give_up_if_tip_moves: bool = False) -> ChainBlock:
        address = self._rng.choice(self._addresses)
        template = self._chain.template(address, EXTRA_NONCE_SIZE, parent_id=parent.block_id)
        family = self._chain.family
        space = family.reserved_space(template.blob)
        job_blob = family.with_extra_nonce(template.blob, 0, self._rng.randbytes(space.size))
        if not self.real_pow:
            unground = family.assemble_block(job_blob, self._rng.randbytes(4))
            return self._chain.accept_network_block_unground(self._chain.check_block(unground))
        start = self._rng.getrandbits(32)
        for attempt in range(self._max_attempts):
            if give_up_if_tip_moves and self._chain.tip is not parent:
                raise TipMovedError
            nonce = ((start + attempt) % (1 << 32)).to_bytes(4, "little")
            blob = family.assemble_block(job_blob, nonce)
            pow_hash = await self._verifier.hash(family.pow_blob(blob))
            if meets(pow_hash, template.difficulty):
                candidate = self._chain.check_block(blob)
                return self._chain.accept(candidate, pow_hash, BlockSource.NETWORK)
        raise BlockSearchAbandonedError(f"no block found in {self._max_attempts} attempts")

    def _require_main(self, height: int) -> ChainBlock:
        block = self._chain.block_at(height)
        if block is None:
            raise ValueError(f"no main-chain block at height {height}")
        return block


def _check_count(count: int) -> None:
    if not 1 <= count <= MAX_BLOCKS_PER_REQUEST:
        raise ValueError(f"count must be 1..{MAX_BLOCKS_PER_REQUEST}, got {count}")
