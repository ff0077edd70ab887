"""An Athena chain held in memory (and, optionally, journaled to disk): real forknote2 blocks, real ids.

Every block is a real Athena major-4 blob built with the coins template builder; ids, heights, rewards,
timestamps and cumulative difficulty are computed from the blobs, never made up. What is simpler than the
real chain, and why nothing the pool checks depends on it:

- one fixed, configurable difficulty instead of Athena's LWMA-2 retargeting (so tests can pick a cheap one);
- no transactions besides coinbases (no mempool);
- coinbase output keys are derived by hashing (tx key, index, address) instead of one-time key derivation,
  and the receiving address is stored beside each block, so the devnet wallet knows whose coins they are;
- the genesis block uses the same major-4 layout as every other block (Athena's real genesis is major 1);
- above a demo-sized difficulty, "other people's" blocks are not ground (their nonce is arbitrary): see
  `NetworkMiner`. Every block submitted through the RPC must carry real proof of work.

Blocks form a tree; the main chain is the branch with the most cumulative difficulty, the first seen
winning a tie, as in CryptoNote. A valid block on a known non-tip parent is kept as an alternative block
(the real daemon answers OK to such a submitblock); it becomes main only if its branch gets heavier.
"""

from __future__ import annotations

import random
import statistics
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum

from athena_pool.coins.block import Block
from athena_pool.coins.errors import BlobError
from athena_pool.coins.extra import find_merge_mining_tag, find_tx_public_key
from athena_pool.coins.families.forknote2 import (
    CoinbaseParts,
    Forknote2Family,
    TemplateParts,
    aux_chain_root,
    build_template,
)
from athena_pool.coins.hashing import HASH_SIZE, cn_fast_hash
from athena_pool.coins.transaction import miner_tx_hash
from athena_pool.coins.varint import encode_varint
from athena_pool.devnet.emission import ATHENA_EMISSION, EmissionRule, split_into_digit_outputs
from athena_pool.devnet.journal import Journal
from athena_pool.targets import meets

ZERO_HASH = bytes(HASH_SIZE)
MAX_RESERVE_SIZE = 255  # TX_EXTRA_NONCE_MAX_COUNT
COINBASE_TX_VERSION = 1
OUTPUT_KEY_DOMAIN = b"athena-devnet coinbase output key"


class BlockSource(Enum):
    GENESIS = "genesis"
    SUBMITTED = "submitted"  # arrived through submitblock (the pool, or anyone)
    NETWORK = "network"  # "other people's" block, mined by the devnet itself


class BlockRejectedError(Exception):
    """A block the chain refuses; the message says why (the RPC answers "Block not accepted" regardless)."""


@dataclass(frozen=True)
class ChainParams:
    difficulty: int = 100
    block_time: float = 30.0  # seconds between "other people's" blocks, on average
    major_version: int = 4  # Athena's current blocks: forknote2 with a parent, CN-Lite variant 1
    minor_version: int = 0
    unlock_window: int = 4  # CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW: coinbase unlock_time = height + 4
    emission: EmissionRule = ATHENA_EMISSION
    timestamp_check_window: int = 11  # BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW_V3: no older than this median
    future_limit_blocks: int = 6  # CRYPTONOTE_BLOCK_FUTURE_TIME_LIMIT_V4 = 6 block times
    remembered_templates: int = 4096

    def __post_init__(self) -> None:
        if self.difficulty < 1:
            raise ValueError(f"difficulty must be at least 1, got {self.difficulty}")
        if self.block_time <= 0:
            raise ValueError(f"block time must be positive, got {self.block_time}")

    @property
    def future_limit_seconds(self) -> int:
        return max(60, int(self.future_limit_blocks * self.block_time))


@dataclass(frozen=True)
class ChainBlock:
    block_id: bytes
    blob: bytes
    height: int
    prev_id: bytes
    timestamp: int
    nonce: int
    major_version: int
    minor_version: int
    difficulty: int
    cumulative_difficulty: int
    reward: int
    generated_coins: int  # every coin created up to and including this block, along its branch
    miner_address: str  # who the coinbase pays ("" when the block did not come from one of our templates)
    source: BlockSource
    coinbase_hash: bytes

    @property
    def size(self) -> int:
        return len(self.blob)


@dataclass(frozen=True)
class BlockTemplate:
    blob: bytes
    height: int
    difficulty: int
    prev_id: bytes
    expected_reward: int
    legacy_reserved_offset: int  # what the real Athena daemon reports: payload start + 1 (0 with no reserve)


@dataclass(frozen=True)
class Candidate:
    """A block that passed every check but the proof of work, which the caller hashes off the event loop."""

    blob: bytes
    block: Block
    block_id: bytes
    parent: ChainBlock
    pow_blob: bytes
    reward: int
    miner_address: str


@dataclass
class _State:
    blocks: dict[bytes, ChainBlock] = field(default_factory=dict)
    main: list[bytes] = field(default_factory=list)  # block ids by height


class Chain:
    def __init__(
        self,
        params: ChainParams,
        *,
        genesis_address: str,
        clock: Callable[[], float],
        rng: random.Random,
        journal: Journal | None = None,
    ) -> None:
        self.params = params
        self.family = Forknote2Family()
        self._clock = clock
        self._rng = rng
        self._journal = journal
        self._state = _State()
        self._template_payees: OrderedDict[bytes, str] = OrderedDict()
        records = journal.load() if journal is not None else []
        if records:
            self._replay(records)
        else:
            self._add_genesis(genesis_address)

    # -- reading -----------------------------------------------------------------------------------

    @property
    def tip(self) -> ChainBlock:
        return self._state.blocks[self._state.main[-1]]

    @property
    def height(self) -> int:
        """Height (index) of the top block; the block count is one more."""
        return len(self._state.main) - 1

    @property
    def genesis(self) -> ChainBlock:
        return self._state.blocks[self._state.main[0]]

    def block_at(self, height: int) -> ChainBlock | None:
        """The main-chain block at `height`."""
        if 0 <= height < len(self._state.main):
            return self._state.blocks[self._state.main[height]]
        return None

    def block_by_id(self, block_id: bytes) -> ChainBlock | None:
        return self._state.blocks.get(block_id)

    def is_main(self, block: ChainBlock) -> bool:
        return self.block_at(block.height) == block

    def main_blocks(self, first: int = 0, count: int | None = None) -> Iterator[ChainBlock]:
        end = len(self._state.main) if count is None else min(len(self._state.main), first + count)
        for height in range(max(first, 0), end):
            yield self._state.blocks[self._state.main[height]]

    @property
    def alternative_block_count(self) -> int:
        return len(self._state.blocks) - len(self._state.main)

    def next_difficulty(self) -> int:
        return self.params.difficulty

    # -- templates ---------------------------------------------------------------------------------

    def template(self, address: str, reserve_size: int, parent_id: bytes | None = None) -> BlockTemplate:
        """A block template paying `address`, on top of the tip (or of `parent_id`, for a deliberate fork)."""
        if not 0 <= reserve_size <= MAX_RESERVE_SIZE:
            raise ValueError(f"reserve size must be 0..{MAX_RESERVE_SIZE}, got {reserve_size}")
        parent = self.tip if parent_id is None else self._require_block(parent_id)
        height = parent.height + 1
        reward = self.params.emission.block_reward(height, parent.generated_coins)
        tx_public_key = self._rng.randbytes(HASH_SIZE)
        blob = build_template(
            TemplateParts(
                major_version=self.params.major_version,
                minor_version=self.params.minor_version,
                prev_id=parent.block_id,
                timestamp=self._template_timestamp(parent),
                height=height,
                coinbase=CoinbaseParts(
                    unlock_time=height + self.params.unlock_window,
                    outputs=_coinbase_outputs(reward, tx_public_key, address),
                    tx_public_key=tx_public_key,
                    reserve_size=reserve_size,
                ),
            )
        )
        self._remember_payee(tx_public_key, address)
        return BlockTemplate(
            blob=blob,
            height=height,
            difficulty=self.next_difficulty(),
            prev_id=parent.block_id,
            expected_reward=reward,
            legacy_reserved_offset=_legacy_reserved_offset(blob, tx_public_key) if reserve_size else 0,
        )

    def _template_timestamp(self, parent: ChainBlock) -> int:
        # The real daemon uses the current time, raised to the median of recent blocks if the clock is behind.
        return max(int(self._clock()), self._timestamp_median(parent))

    def _remember_payee(self, tx_public_key: bytes, address: str) -> None:
        self._template_payees[tx_public_key] = address
        while len(self._template_payees) > self.params.remembered_templates:
            self._template_payees.popitem(last=False)

    # -- accepting blocks --------------------------------------------------------------------------

    def check_block(self, blob: bytes, *, check_future: bool = True) -> Candidate:
        """Every consensus check except the proof of work; raises BlockRejectedError with the reason."""
        try:
            block = self.family.parse(blob)
            block_id = self.family.block_id(blob)
            pow_blob = self.family.pow_blob(blob)
            coinbase_height = block.height
        except (BlobError, ValueError) as exc:
            raise BlockRejectedError(f"cannot parse the block: {exc}") from None
        if block_id in self._state.blocks:
            raise BlockRejectedError(f"block {block_id.hex()} is already known")
        parent = self._state.blocks.get(block.prev_id)
        if parent is None:
            raise BlockRejectedError(f"unknown parent {block.prev_id.hex()} (orphan block)")
        self._check_header(block, parent, coinbase_height, check_future)
        reward = self._check_coinbase(block, parent)
        self._check_merge_mining(block)
        payee = find_tx_public_key(block.miner_tx.extra_fields)
        address = self._template_payees.get(payee, "") if payee is not None else ""
        return Candidate(blob, block, block_id, parent, pow_blob, reward, address)

    def accept(
        self, candidate: Candidate, pow_hash: bytes, source: BlockSource = BlockSource.SUBMITTED
    ) -> ChainBlock:
        """Add a checked block whose PoW hash the caller computed; returns the stored block."""
        difficulty = self.next_difficulty()
        if not meets(pow_hash, difficulty):
            raise BlockRejectedError(f"proof of work {pow_hash.hex()} does not meet difficulty {difficulty}")
        return self._add(candidate, difficulty, source)

    def accept_network_block_unground(self, candidate: Candidate) -> ChainBlock:
        """Add one of "other people's" blocks without grinding its nonce (see NetworkMiner, `real_pow`).

        Only for blocks the devnet makes itself: the pool never checks other miners' proof of work (it
        reads their ids, heights and rewards from headers), and at a demo difficulty grinding them would
        cost a CPU core. Submitted blocks always go through `accept`.
        """
        return self._add(candidate, self.next_difficulty(), BlockSource.NETWORK)

    def _add(self, candidate: Candidate, difficulty: int, source: BlockSource) -> ChainBlock:
        if candidate.block_id in self._state.blocks:
            raise BlockRejectedError(f"block {candidate.block_id.hex()} is already known")
        stored = self._store(candidate, difficulty, source)
        self._journal_block(stored)
        return stored

    def _check_header(
        self, block: Block, parent: ChainBlock, coinbase_height: int, check_future: bool
    ) -> None:
        expected_major = self.params.major_version
        if block.major_version != expected_major:
            raise BlockRejectedError(f"major version {block.major_version}, expected {expected_major}")
        if coinbase_height != parent.height + 1:
            raise BlockRejectedError(f"coinbase height {coinbase_height}, expected {parent.height + 1}")
        if block.tx_hashes:
            raise BlockRejectedError(f"{len(block.tx_hashes)} transactions the devnet never saw")
        median = self._timestamp_median(parent)
        if block.timestamp < median:
            raise BlockRejectedError(f"timestamp {block.timestamp} is below the recent median {median}")
        limit = int(self._clock()) + self.params.future_limit_seconds
        if check_future and block.timestamp > limit:
            raise BlockRejectedError(f"timestamp {block.timestamp} is too far in the future (limit {limit})")

    def _check_coinbase(self, block: Block, parent: ChainBlock) -> int:
        tx = block.miner_tx
        height = parent.height + 1
        if tx.version != COINBASE_TX_VERSION:
            raise BlockRejectedError(f"coinbase version {tx.version}, expected {COINBASE_TX_VERSION}")
        unlock_time = height + self.params.unlock_window
        if tx.unlock_time != unlock_time:
            raise BlockRejectedError(f"coinbase unlock time {tx.unlock_time}, expected {unlock_time}")
        expected = self.params.emission.block_reward(height, parent.generated_coins)
        paid = sum(output.amount_atomic for output in tx.outputs)
        if paid != expected:
            raise BlockRejectedError(f"coinbase pays {paid}, the reward at height {height} is {expected}")
        return paid

    def _check_merge_mining(self, block: Block) -> None:
        """TurtleCoin's checkProofOfWorkV2, second half: the parent's 03 tag must commit to this block."""
        if block.parent is None:
            raise BlockRejectedError("the block has no parent (merge-mining) section")
        tag = find_merge_mining_tag(block.parent.miner_tx.extra_fields)
        if tag is None:
            raise BlockRejectedError("the parent coinbase has no merge-mining tag")
        expected = aux_chain_root(block, self.genesis.block_id)
        if tag.merkle_root != expected:
            raise BlockRejectedError(
                f"merge-mining root {tag.merkle_root.hex()} does not commit to this block ({expected.hex()})"
            )

    def _timestamp_median(self, parent: ChainBlock) -> int:
        timestamps: list[int] = []
        block: ChainBlock | None = parent
        while block is not None and len(timestamps) < self.params.timestamp_check_window:
            timestamps.append(block.timestamp)
            block = self._state.blocks.get(block.prev_id)
        # CryptoNote's medianValue: the mean of the two middle values for an even count.
        return int(statistics.median(timestamps))

    # -- storing and fork choice -------------------------------------------------------------------

    def _store(self, candidate: Candidate, difficulty: int, source: BlockSource) -> ChainBlock:
        block, parent = candidate.block, candidate.parent
        stored = ChainBlock(
            block_id=candidate.block_id,
            blob=candidate.blob,
            height=parent.height + 1,
            prev_id=parent.block_id,
            timestamp=block.timestamp,
            nonce=int.from_bytes(block.nonce, "little"),
            major_version=block.major_version,
            minor_version=block.minor_version,
            difficulty=difficulty,
            cumulative_difficulty=parent.cumulative_difficulty + difficulty,
            reward=candidate.reward,
            generated_coins=parent.generated_coins + candidate.reward,
            miner_address=candidate.miner_address,
            source=source,
            coinbase_hash=miner_tx_hash(block.miner_tx),
        )
        self._state.blocks[stored.block_id] = stored
        if stored.cumulative_difficulty > self.tip.cumulative_difficulty:
            self._switch_to(stored)
        return stored

    def _switch_to(self, new_tip: ChainBlock) -> None:
        """Make `new_tip`'s branch the main chain (a plain extension, or a reorganisation)."""
        branch: list[bytes] = []
        block = new_tip
        while self.block_at(block.height) != block:
            branch.append(block.block_id)
            block = self._require_block(block.prev_id)
        del self._state.main[block.height + 1 :]
        self._state.main.extend(reversed(branch))

    def _require_block(self, block_id: bytes) -> ChainBlock:
        block = self._state.blocks.get(block_id)
        if block is None:
            raise KeyError(f"unknown block {block_id.hex()}")
        return block

    # -- genesis, journal --------------------------------------------------------------------------

    def _add_genesis(self, address: str) -> None:
        reward = self.params.emission.block_reward(0, 0)
        tx_public_key = self._rng.randbytes(HASH_SIZE)
        template = build_template(
            TemplateParts(
                major_version=self.params.major_version,
                minor_version=self.params.minor_version,
                prev_id=ZERO_HASH,
                timestamp=int(self._clock()),
                height=0,
                coinbase=CoinbaseParts(
                    unlock_time=self.params.unlock_window,
                    outputs=_coinbase_outputs(reward, tx_public_key, address),
                    tx_public_key=tx_public_key,
                    reserve_size=0,
                ),
            )
        )
        # Like a real genesis, its proof of work is never checked; its parent commits to it like any block's.
        blob = self.family.assemble_block(template, bytes(4))
        self._store_genesis(blob, address)
        self._journal_block(self.genesis)

    def _store_genesis(self, blob: bytes, address: str) -> None:
        block = self.family.parse(blob)
        reward = sum(output.amount_atomic for output in block.miner_tx.outputs)
        genesis = ChainBlock(
            block_id=self.family.block_id(blob),
            blob=blob,
            height=0,
            prev_id=ZERO_HASH,
            timestamp=block.timestamp,
            nonce=int.from_bytes(block.nonce, "little"),
            major_version=block.major_version,
            minor_version=block.minor_version,
            difficulty=1,
            cumulative_difficulty=1,
            reward=reward,
            generated_coins=reward,
            miner_address=address,
            source=BlockSource.GENESIS,
            coinbase_hash=miner_tx_hash(block.miner_tx),
        )
        self._state.blocks[genesis.block_id] = genesis
        self._state.main.append(genesis.block_id)

    def _journal_block(self, block: ChainBlock) -> None:
        if self._journal is not None:
            self._journal.append(
                {
                    "blob": block.blob.hex(),
                    "miner_address": block.miner_address,
                    "source": block.source.value,
                    "difficulty": block.difficulty,
                }
            )

    def _replay(self, records: list[dict[str, object]]) -> None:
        """Rebuild from the journal: every derived field is recomputed from the blobs.

        Proofs of work were checked when the blocks arrived and are not hashed again (that would take
        minutes on a long devnet chain); every other check runs again.
        """
        genesis, *rest = records
        self._store_genesis(bytes.fromhex(str(genesis["blob"])), str(genesis["miner_address"]))
        for record in rest:
            checked = self.check_block(bytes.fromhex(str(record["blob"])), check_future=False)
            candidate = replace(checked, miner_address=str(record["miner_address"]))
            difficulty = record["difficulty"]
            if not isinstance(difficulty, int):
                raise ValueError("journal record without an integer difficulty")
            self._store(candidate, difficulty, BlockSource(str(record["source"])))


def _coinbase_outputs(reward: int, tx_public_key: bytes, address: str) -> list[tuple[int, bytes]]:
    amounts = split_into_digit_outputs(reward)
    return [(amount, _output_key(tx_public_key, index, address)) for index, amount in enumerate(amounts)]


def _output_key(tx_public_key: bytes, index: int, address: str) -> bytes:
    return cn_fast_hash(OUTPUT_KEY_DOMAIN + tx_public_key + encode_varint(index) + address.encode())


def _legacy_reserved_offset(blob: bytes, tx_public_key: bytes) -> int:
    """Athena's RpcServer: slow_memmem(blob, tx pubkey) + 32 + 3: one past the payload start (r < 128)."""
    return blob.find(tx_public_key) + HASH_SIZE + 3
