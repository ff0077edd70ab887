"""A daemon block template made ready for mining: parsed, checked, immutable, numbered.

The reserved space is found by parsing the coinbase extra (never by trusting the daemon's
`reserved_offset`, which is off by one on Bytecoin-family daemons), and the pool's part of it is laid out as:

    +0..3  per-job extra nonce, uint32 big-endian (a fresh one for every job handed out)
    +4..7  instance id, 4 random bytes per pool process (two pool processes never build the same blob)
    +8..   left zero (room for a downstream proxy)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from athena_pool.coins.block import Block, ReservedSpace
from athena_pool.coins.errors import BlobError
from athena_pool.coins.families import BlobFamily
from athena_pool.coins.families.base import FamilyBase, length_prefixed_hash, merkle_root
from athena_pool.coins.families.forknote2 import (
    Forknote2Family,
    child_hashing_blob,
    parent_pow_blob,
    pool_parent,
)
from athena_pool.coins.families.plain import PlainFamily
from athena_pool.coins.hashing import HASH_SIZE, tree_branch
from athena_pool.coins.reserved import ReservedOffsetVerdict, cross_check_reserved_offset
from athena_pool.coins.transaction import (
    FIRST_RCT_VERSION,
    RCT_NULL_BASE_HASH,
    RCT_NULL_PRUNABLE_HASH,
    MinerTx,
    miner_tx_hash,
    serialize_prefix,
)
from athena_pool.coins.varint import encode_varint

# The C extension's Keccak chain itself (not a Python wrapper): a job's hashing blob in one call.
from athena_pool.pow._cryptonight import hash_chain
from athena_pool.rpc.daemon import BlockTemplate

log = logging.getLogger(__name__)

EXTRA_NONCE_SIZE = 4
INSTANCE_ID_SIZE = 4
POOL_RESERVED_SIZE = EXTRA_NONCE_SIZE + INSTANCE_ID_SIZE
EXTRA_NONCE_LIMIT = 1 << (8 * EXTRA_NONCE_SIZE)
# xmrig refuses a job blob of 408 bytes or more.
MAX_MINER_BLOB_SIZE = 407
NONCE_SIZE = 4


class TemplateError(ValueError):
    """A daemon template the pool cannot mine on (unparsable, inconsistent, or without room for us)."""


@dataclass(frozen=True)
class Template:
    """One block template, as mined by every job issued on it."""

    generation: int  # increases by one for every template the manager installs
    family: BlobFamily
    blob: bytes  # the daemon's blocktemplate_blob, reserved space still zero
    reserved: ReservedSpace  # found by parsing the coinbase extra
    difficulty: int  # network difficulty of this block
    height: int
    prev_hash_hex: str
    seed_hash: bytes | None
    next_seed_hash: bytes | None
    created_at: float  # monotonic seconds, for the maximum-age refresh
    nonce_offset: int  # where the miner's nonce sits in a job's hashing blob
    job_maker: JobMaker  # a job's hashing blob from its reserved payload, precomputed for this template
    # True when the PoW blob of an assembled block is the job's hashing blob with the nonce written in
    # (checked once per template): the judge then hashes that instead of assembling every share's block.
    pow_shortcut: bool

    def same_tip(self, other: Template) -> bool:
        """Both build on the same previous block (a share on either mines the same block height)."""
        return self.height == other.height and self.prev_hash_hex == other.prev_hash_hex

    def job_blob(self, extra_nonce: int, instance_id: bytes) -> bytes:
        """The template blob with this job's extra nonce and the instance id in the reserved space."""
        return self.family.with_extra_nonce(self.blob, 0, pool_payload(extra_nonce, instance_id))

    def job_hashing_blob(self, extra_nonce: int, instance_id: bytes) -> bytes:
        """What the miner hashes: family.hashing_blob(job_blob(...)), at a fraction of the cost."""
        return self.job_maker.hashing_blob(pool_payload(extra_nonce, instance_id))

    def pow_input(self, hashing_blob: bytes, nonce: bytes) -> bytes:
        """A job's hashing blob with the nonce written in (what consensus hashes, see pow_shortcut)."""
        end = self.nonce_offset + NONCE_SIZE
        return hashing_blob[: self.nonce_offset] + nonce + hashing_blob[end:]

    @property
    def seed_hash_hex(self) -> str | None:
        return None if self.seed_hash is None else self.seed_hash.hex()


def pool_payload(extra_nonce: int, instance_id: bytes) -> bytes:
    """The pool's part of the reserved space: extra nonce (big-endian) then the instance id."""
    if not 0 <= extra_nonce < EXTRA_NONCE_LIMIT:
        raise ValueError(f"extra nonce {extra_nonce} does not fit {EXTRA_NONCE_SIZE} bytes")
    if len(instance_id) != INSTANCE_ID_SIZE:
        raise ValueError(f"instance id must be {INSTANCE_ID_SIZE} bytes")
    return extra_nonce.to_bytes(EXTRA_NONCE_SIZE, "big") + instance_id


def template_from_daemon(
    answer: BlockTemplate, family: BlobFamily, *, generation: int, created_at: float
) -> Template:
    """Check a daemon's template against its own blob; raise TemplateError if the pool cannot use it."""
    try:
        return _checked_template(answer, family, generation, created_at)
    except BlobError as exc:
        raise TemplateError(
            f"template at height {answer.height} does not parse as {family.name}: {exc}"
        ) from exc


def _checked_template(
    answer: BlockTemplate, family: BlobFamily, generation: int, created_at: float
) -> Template:
    reserved = family.reserved_space(answer.blob)
    if reserved.size < POOL_RESERVED_SIZE:
        raise TemplateError(
            f"reserved space of {reserved.size} bytes is too small: the pool needs {POOL_RESERVED_SIZE}"
        )
    coinbase_height = family.height(answer.blob)
    if coinbase_height != answer.height:
        raise TemplateError(f"daemon says height {answer.height}, the coinbase says {coinbase_height}")
    prev_hash_hex = family.prev_id(answer.blob).hex()
    if answer.prev_hash_hex is not None and answer.prev_hash_hex != prev_hash_hex:
        raise TemplateError(f"daemon says prev_hash {answer.prev_hash_hex}, the blob holds {prev_hash_hex}")
    _check_hashing_blob(answer, family)
    _log_reserved_offset_disagreement(answer, family)
    built = build_job_maker(family, answer.blob, reserved, POOL_RESERVED_SIZE)
    return Template(
        generation=generation,
        family=family,
        blob=answer.blob,
        reserved=reserved,
        difficulty=answer.difficulty,
        height=answer.height,
        prev_hash_hex=prev_hash_hex,
        seed_hash=answer.seed_hash,
        next_seed_hash=answer.next_seed_hash,
        created_at=created_at,
        nonce_offset=family.nonce_offset(answer.blob),
        job_maker=built.maker,
        pow_shortcut=built.pow_shortcut,
    )


def _check_hashing_blob(answer: BlockTemplate, family: BlobFamily) -> None:
    hashing_blob = family.hashing_blob(answer.blob)
    # When the daemon computes the hashing blob itself (monerod), ours must agree byte for byte: if it did
    # not, every share would hash to something the daemon's consensus check never sees.
    if answer.hashing_blob_reported is not None and hashing_blob != answer.hashing_blob_reported:
        raise TemplateError(
            f"our hashing blob {hashing_blob.hex()} differs from the daemon's "
            f"{answer.hashing_blob_reported.hex()}"
        )
    if len(hashing_blob) > MAX_MINER_BLOB_SIZE:
        raise TemplateError(f"hashing blob of {len(hashing_blob)} bytes is too long for miners")
    if family.nonce_offset(answer.blob) + NONCE_SIZE > len(hashing_blob):
        raise TemplateError("the nonce does not lie inside the hashing blob")


def _log_reserved_offset_disagreement(answer: BlockTemplate, family: BlobFamily) -> None:
    check = cross_check_reserved_offset(family, answer.blob, answer.reserved_offset_reported)
    if check.verdict is ReservedOffsetVerdict.MISMATCH:
        log.warning("template at height %d: %s (the parsed offset is used)", answer.height, check.description)


# --- what one job costs -------------------------------------------------------------------------------------
#
# A job differs from its template only in the pool's 8 bytes of reserved space, inside the coinbase. Its
# hashing blob is therefore a chain of hashes from that coinbase to a fixed frame: the coinbase hash, the
# merkle branch of leaf 0 (whose siblings, the other transactions, do not change), and for merge-mined
# layouts the aux header and the parent coinbase. Everything else is computed once per template, so a job
# costs a few Keccak calls instead of parsing the blob and hashing the whole tree.


class JobMaker(Protocol):
    def hashing_blob(self, payload: bytes) -> bytes:
        """The hashing blob of the template with `payload` written at the start of the reserved space."""
        ...


@dataclass(frozen=True, slots=True)
class Splice:
    """Fixed bytes around a 32-byte hash: `head + hash + tail`."""

    head: bytes
    tail: bytes


@dataclass(frozen=True, slots=True)
class FastJobMaker:
    coinbase: Splice  # the coinbase prefix around the payload (not a hash: the payload is 8 bytes)
    coinbase_rct: bool  # v2+ coinbase: its hash wraps the prefix hash with the RCT-null constants
    upward: tuple[bytes, ...]  # siblings of leaf 0 from the leaf up (`tree_branch` reversed)
    steps: tuple[Splice, ...]  # from the merkle root upwards: each step hashes head + value + tail
    frame: Splice  # the hashing blob around the last value

    links: tuple[tuple[bytes, bytes], ...] = field(init=False)  # all of the above, for one `hash_chain` call

    def __post_init__(self) -> None:
        # Each level hashes head + value + tail: the coinbase around the payload, the RCT wrap, a merkle
        # sibling after the value, a step around it. One C call walks them all (a new template builds one
        # job per connected miner, so this runs thousands of times in a row).
        links = [(self.coinbase.head, self.coinbase.tail)]
        if self.coinbase_rct:
            links.append((b"", RCT_NULL_BASE_HASH + RCT_NULL_PRUNABLE_HASH))
        links += [(b"", sibling) for sibling in self.upward]
        links += [(step.head, step.tail) for step in self.steps]
        object.__setattr__(self, "links", tuple(links))

    def hashing_blob(self, payload: bytes) -> bytes:
        return self.frame.head + hash_chain(payload, self.links) + self.frame.tail


@dataclass(frozen=True, slots=True)
class SlowJobMaker:
    """Any family: write the payload into the blob and convert it (parses the blob every time)."""

    family: BlobFamily
    blob: bytes

    def hashing_blob(self, payload: bytes) -> bytes:
        return self.family.hashing_blob(self.family.with_extra_nonce(self.blob, 0, payload))


@dataclass(frozen=True)
class BuiltMaker:
    maker: JobMaker
    pow_shortcut: bool


class _NoShortcutError(ValueError):
    """The template does not have the layout the fast path assumes (the slow path is used)."""


def build_job_maker(
    family: BlobFamily, blob: bytes, reserved: ReservedSpace, payload_size: int
) -> BuiltMaker:
    """The fastest maker that provably agrees with the family on this template, and whether the judge may
    hash a job's hashing blob with the nonce written in instead of the assembled block's PoW blob."""
    slow = SlowJobMaker(family, blob)
    maker: JobMaker = slow
    try:
        maker = _fast_maker(family, blob, reserved, payload_size)
    except (_NoShortcutError, BlobError) as exc:
        log.warning("%s template: jobs are built the slow way (%s)", family.name, exc)
    probe = bytes(range(1, payload_size + 1))
    expected = slow.hashing_blob(probe)
    if maker is not slow and maker.hashing_blob(probe) != expected:
        log.error("%s template: the fast job path disagrees with the family; using the slow one", family.name)
        maker = slow
    return BuiltMaker(maker, _pow_shortcut_holds(family, blob, probe, expected))


def _pow_shortcut_holds(family: BlobFamily, blob: bytes, payload: bytes, hashing_blob: bytes) -> bool:
    nonce = bytes.fromhex("a1b2c3d4")
    job_blob = family.with_extra_nonce(blob, 0, payload)
    offset = family.nonce_offset(job_blob)
    written = hashing_blob[:offset] + nonce + hashing_blob[offset + NONCE_SIZE :]
    return family.pow_blob(family.assemble_block(job_blob, nonce)) == written


def _fast_maker(family: BlobFamily, blob: bytes, reserved: ReservedSpace, payload_size: int) -> FastJobMaker:
    if isinstance(family, Forknote2Family):
        return _forknote2_maker(family, blob, reserved, payload_size)
    if isinstance(family, PlainFamily):
        return _plain_maker(family, blob, reserved, payload_size)
    raise _NoShortcutError(f"no fast path for the {family.name} family")


def _plain_maker(
    family: PlainFamily, blob: bytes, reserved: ReservedSpace, payload_size: int
) -> FastJobMaker:
    """header || merkle root || varint(tx count)."""
    block = family.parse(blob)
    frame = _splice_before(family.hashing_blob(blob), merkle_root(block), encode_varint(block.tx_count))
    return FastJobMaker(
        coinbase=_coinbase_splice(family, block, blob, reserved, payload_size),
        coinbase_rct=block.miner_tx.version >= FIRST_RCT_VERSION,
        upward=tuple(reversed(tree_branch([miner_tx_hash(block.miner_tx), *block.tx_hashes]))),
        steps=(),
        frame=frame,
    )


def _forknote2_maker(
    family: Forknote2Family, blob: bytes, reserved: ReservedSpace, payload_size: int
) -> FastJobMaker:
    """root -> aux header hash (of the child hashing blob) -> pool parent coinbase hash -> parent PoW blob."""
    block = family.parse(blob)
    child = child_hashing_blob(block)
    child_step = _splice_before(child, merkle_root(block), encode_varint(block.tx_count))
    aux_step = Splice(encode_varint(len(child)) + child_step.head, child_step.tail)
    parent = pool_parent(block)
    if parent.miner_tx_branch:
        raise _NoShortcutError("the pool parent is expected to hold its coinbase alone")
    aux = length_prefixed_hash(child)
    prefix = serialize_prefix(parent.miner_tx)
    if not prefix.endswith(aux):
        raise _NoShortcutError("the parent coinbase does not end with the aux header hash")
    parent_steps = _tx_hash_steps(parent.miner_tx, Splice(prefix[: -len(aux)], b""))
    frame = _splice_before(
        parent_pow_blob(block, parent), miner_tx_hash(parent.miner_tx), encode_varint(parent.tx_count)
    )
    return FastJobMaker(
        coinbase=_coinbase_splice(family, block, blob, reserved, payload_size),
        coinbase_rct=block.miner_tx.version >= FIRST_RCT_VERSION,
        upward=tuple(reversed(tree_branch([miner_tx_hash(block.miner_tx), *block.tx_hashes]))),
        steps=(aux_step, *parent_steps),
        frame=frame,
    )


def _tx_hash_steps(tx: MinerTx, prefix: Splice) -> tuple[Splice, ...]:
    if tx.version < FIRST_RCT_VERSION:
        return (prefix,)
    return (prefix, Splice(b"", RCT_NULL_BASE_HASH + RCT_NULL_PRUNABLE_HASH))


def _coinbase_splice(
    family: FamilyBase, block: Block, blob: bytes, reserved: ReservedSpace, payload_size: int
) -> Splice:
    """The coinbase prefix (version through extra) as it sits in the blob, cut around the payload."""
    start = family.miner_tx_offset(block)
    prefix = serialize_prefix(block.miner_tx)
    if blob[start : start + len(prefix)] != prefix:
        raise _NoShortcutError("the coinbase prefix is not where the family says")
    cut = reserved.offset - start
    if cut < 0 or cut + payload_size > min(len(prefix), cut + reserved.size):
        raise _NoShortcutError("the reserved space is not inside the coinbase prefix")
    return Splice(prefix[:cut], prefix[cut + payload_size :])


def _splice_before(data: bytes, value: bytes, suffix: bytes) -> Splice:
    """`data` = head + value + suffix + nothing else after it."""
    at = len(data) - len(suffix) - HASH_SIZE
    if at < 0 or data[at : at + HASH_SIZE] != value or not data.endswith(suffix):
        raise _NoShortcutError("the hashing blob does not end with the expected root and count")
    return Splice(data[:at], data[at + HASH_SIZE :])
