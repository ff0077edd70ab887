"""The template manager: polls the daemon, keeps the last few templates, issues jobs on the current one.

Polling asks for a fresh template every `refresh_interval` seconds. The current template is replaced when
the chain tip moved (height or previous block changed), when it is older than `max_template_age` (so new
transactions and their fees get in), or on a forced refresh after a block. The last `keep_templates`
templates stay known, so a share for a job of the previous template is judged against that template (and
credited as stale) instead of failing against the new one; older ones are expired.

A daemon that goes away is logged once and the last template keeps being served; a broken answer is
logged and ignored. Nothing here raises out of the poller.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from athena_pool.aio import cancel_until_done, wait_event
from athena_pool.coins.errors import BlobError
from athena_pool.coins.families import BlobFamily
from athena_pool.jobs.contracts import NoTemplateError
from athena_pool.jobs.job import Job
from athena_pool.jobs.template import (
    EXTRA_NONCE_LIMIT,
    EXTRA_NONCE_SIZE,
    INSTANCE_ID_SIZE,
    POOL_RESERVED_SIZE,
    Template,
    TemplateError,
    template_from_daemon,
)
from athena_pool.rpc.daemon import BlockHeader, BlockTemplate, DaemonClient
from athena_pool.rpc.errors import RpcFailure, RpcUnavailable

log = logging.getLogger(__name__)

JOB_ID_BYTES = 12  # 24 hex characters: unguessable, so nobody submits for a job they were not given
JOB_IDS_PER_DRAW = 1024  # job ids drawn from the OS at once: a new template asks for one per miner
# Past 127 bytes the extra field's length takes a 2-byte varint, where some daemons' offsets go wrong.
MAX_RESERVE_SIZE = 127


@dataclass(frozen=True)
class JobConfig:
    wallet_address: str  # the pool's address: coinbase rewards go there
    refresh_interval: float = 1.0  # seconds between getblocktemplate polls
    max_template_age: float = 30.0  # seconds before a same-tip template is replaced anyway
    keep_templates: int = 4  # templates whose jobs are still judged (the current one included)
    reserve_size: int = 16  # bytes of reserved space asked for (>= 8: extra nonce + instance id)

    def __post_init__(self) -> None:
        if not self.wallet_address:
            raise ValueError("wallet_address is required")
        if self.refresh_interval <= 0 or self.max_template_age <= 0:
            raise ValueError("refresh_interval and max_template_age must be positive")
        if self.keep_templates < 1:
            raise ValueError("keep_templates must be at least 1")
        if not POOL_RESERVED_SIZE <= self.reserve_size <= MAX_RESERVE_SIZE:
            raise ValueError(f"reserve_size must be within {POOL_RESERVED_SIZE}..{MAX_RESERVE_SIZE}")


@dataclass(frozen=True)
class NetworkState:
    """What the network looks like from the current template, for the pool's network stats."""

    height: int  # height of the block being mined
    difficulty: int
    last_block_hash: str  # the tip the template builds on
    last_block: BlockHeader | None  # the tip's header (time, reward), None if the daemon would not say


NetworkStateHook = Callable[[NetworkState], Awaitable[None] | None]
SeedHook = Callable[[bytes], Awaitable[None] | None]


def new_instance_id() -> bytes:
    """4 random bytes for this pool process, written into every job's reserved space."""
    return secrets.token_bytes(INSTANCE_ID_SIZE)


class RandomIds:
    """Random ids of `size` bytes as hex, `per_draw` of them from one read of the OS's random source.

    As unguessable as `secrets.token_hex` (the same source, never reused), at a fifth of the cost: one
    `getrandom` call serves a whole broadcast batch instead of one call per miner.
    """

    __slots__ = ("_buffer", "_per_draw", "_position", "_size")

    def __init__(self, size: int, per_draw: int) -> None:
        self._size = size
        self._per_draw = per_draw
        self._buffer = b""
        self._position = 0

    def next_hex(self) -> str:
        start = self._position
        if start + self._size > len(self._buffer):
            self._buffer = secrets.token_bytes(self._size * self._per_draw)
            start = 0
        self._position = start + self._size
        return self._buffer[start : self._position].hex()


class JobManager:
    """Implements `contracts.JobSource`; `start()` begins polling, `stop()` ends it."""

    def __init__(
        self,
        daemon: DaemonClient,
        family: BlobFamily,
        algo: str,
        config: JobConfig,
        *,
        instance_id: bytes,
        on_network_state: NetworkStateHook | None = None,
        on_next_seed: SeedHook | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if len(instance_id) != INSTANCE_ID_SIZE:
            raise ValueError(f"instance_id must be {INSTANCE_ID_SIZE} bytes")
        self.algo = algo
        self.config = config
        self._daemon = daemon
        self._family = family
        self._instance_id = instance_id
        self._on_network_state = on_network_state
        self._on_next_seed = on_next_seed
        self._clock = clock
        self._templates: deque[Template] = deque(maxlen=config.keep_templates)
        self._generation = 0
        self._extra_nonce = secrets.randbelow(EXTRA_NONCE_LIMIT)
        self._job_ids = RandomIds(JOB_ID_BYTES, JOB_IDS_PER_DRAW)
        self._listeners: list[Callable[[], None]] = []
        self._refresh_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._force_next = False
        self._poller: asyncio.Task[None] | None = None
        self._hook_tasks: set[asyncio.Task[None]] = set()
        self._announced_seed: bytes | None = None
        self._first_template = asyncio.Event()
        self.daemon_available = True
        self.last_problem: str | None = None  # the daemon trouble currently in force, if any

    # --- JobSource -----------------------------------------------------------------------------------------

    def issue_job(self, difficulty: int) -> Job:
        """A new job on the current template with a fresh extra nonce. Raises NoTemplateError.

        The difficulty is capped at the network difficulty: a share that finds a block is never refused
        as "low difficulty".
        """
        if difficulty < 1:
            raise ValueError(f"difficulty must be at least 1, got {difficulty}")
        # A new template calls this once per connected miner in one go: kept lean on purpose. The extra
        # nonce starts at a random value and wraps: with the instance id, every blob this process hands out
        # differs from every other one for 2**32 jobs, far more than one template ever sees.
        if not self._templates:
            raise NoTemplateError(self.last_problem or "no block template yet")
        template = self._templates[-1]
        extra_nonce = self._extra_nonce = (self._extra_nonce + 1) % EXTRA_NONCE_LIMIT
        payload = extra_nonce.to_bytes(EXTRA_NONCE_SIZE, "big") + self._instance_id
        return Job(
            job_id=self._job_ids.next_hex(),
            difficulty=min(difficulty, template.difficulty),
            height=template.height,
            template=template,
            extra_nonce=extra_nonce,
            instance_id=self._instance_id,
            hashing_blob=template.job_maker.hashing_blob(payload),
            algo=self.algo,
        )

    def add_template_listener(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    # --- what the judge asks -------------------------------------------------------------------------------

    def current_template(self) -> Template:
        if not self._templates:
            raise NoTemplateError(self.last_problem or "no block template yet")
        return self._templates[-1]

    def is_kept(self, template: Template) -> bool:
        """Jobs of this template are still judged (it is one of the last `keep_templates`)."""
        return any(kept is template for kept in self._templates)

    def is_stale(self, template: Template) -> bool:
        """The chain moved past this template's tip: a share on it cannot become a main-chain block."""
        return not self._templates or not template.same_tip(self._templates[-1])

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin polling in a background task (the first poll happens at once)."""
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(
                self._poll_forever(), name="template-poller"
            )

    def background_tasks(self) -> tuple[asyncio.Task[None], ...]:
        """The long-running task the owner watches: if it dies, templates stop coming."""
        return (self._poller,) if self._poller is not None else ()

    async def stop(self) -> None:
        poller, self._poller = self._poller, None
        await cancel_until_done(poller, *self._hook_tasks)

    async def wait_for_template(self) -> Template:
        """The current template, waiting for the first one if there is none yet."""
        await self._first_template.wait()
        return self.current_template()

    def refresh_now(self) -> None:
        """Ask the poller for a forced refresh right away (after a block was found or refused)."""
        self._force_next = True
        self._wake.set()

    async def refresh(self, *, force: bool = False) -> bool:
        """Fetch a template now; True when a new template became current."""
        async with self._refresh_lock:
            answer = await self._fetch()
            if answer is None:
                return False
            if not self._should_replace(answer, force):
                self._note_recovery()
                return False
            installed = self._install(answer)
            if installed:
                self._note_recovery()
            return installed

    # --- internals -----------------------------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        while True:
            force, self._force_next = self._force_next, False
            try:
                await self.refresh(force=force)
            except Exception:  # the poller must outlive any bug in one refresh
                log.exception("template refresh failed")
            await self._sleep_or_wake()

    async def _sleep_or_wake(self) -> None:
        await wait_event(self._wake, self.config.refresh_interval)
        self._wake.clear()

    async def _fetch(self) -> BlockTemplate | None:
        try:
            answer = await self._daemon.get_block_template(
                self.config.wallet_address, self.config.reserve_size
            )
        except RpcUnavailable as exc:
            self._note_problem(f"daemon unavailable: {exc}", available=False)
            return None
        except RpcFailure as exc:
            self._note_problem(f"bad getblocktemplate answer ignored: {exc}", available=True)
            return None
        return answer

    def _should_replace(self, answer: BlockTemplate, force: bool) -> bool:
        if force or not self._templates:
            return True
        current = self._templates[-1]
        if answer.height != current.height or self._prev_hash_of(answer) != current.prev_hash_hex:
            return True
        return self._clock() - current.created_at >= self.config.max_template_age

    def _prev_hash_of(self, answer: BlockTemplate) -> str | None:
        """The daemon's prev_hash, or the blob's when the dialect leaves it out (None if unparsable)."""
        if answer.prev_hash_hex is not None:
            return answer.prev_hash_hex
        try:
            return self._family.prev_id(answer.blob).hex()
        except BlobError:
            return None  # replaced, and then refused with the reason by template_from_daemon

    def _install(self, answer: BlockTemplate) -> bool:
        try:
            template = template_from_daemon(
                answer, self._family, generation=self._generation + 1, created_at=self._clock()
            )
        except TemplateError as exc:
            self._note_problem(f"template refused: {exc}", available=True)
            return False
        previous = self._templates[-1] if self._templates else None
        self._generation = template.generation
        self._templates.append(template)
        self._first_template.set()
        log.info(
            "new block template: height %d, difficulty %d, generation %d",
            template.height,
            template.difficulty,
            template.generation,
        )
        self._notify_listeners()
        self._announce_next_seed(template)
        if previous is None or not template.same_tip(previous):
            self._run_hook(self._publish_network_state(template))
        return True

    def _notify_listeners(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("template listener %r failed", listener)

    def _announce_next_seed(self, template: Template) -> None:
        seed = template.next_seed_hash
        if self._on_next_seed is None or seed is None or seed == self._announced_seed:
            return
        self._announced_seed = seed
        log.info("next RandomX seed announced: %s", seed.hex())
        self._run_hook(self._call_seed_hook(self._on_next_seed, seed))

    async def _call_seed_hook(self, hook: SeedHook, seed: bytes) -> None:
        result = hook(seed)
        if result is not None:
            await result

    async def _publish_network_state(self, template: Template) -> None:
        if self._on_network_state is None:
            return
        try:
            header: BlockHeader | None = await self._daemon.get_block_header_by_hash(template.prev_hash_hex)
        except RpcFailure as exc:
            log.debug("tip header for network stats unavailable: %s", exc)
            header = None
        state = NetworkState(template.height, template.difficulty, template.prev_hash_hex, header)
        result = self._on_network_state(state)
        if result is not None:
            await result

    def _run_hook(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._hook_tasks.add(task)
        task.add_done_callback(self._hook_done)

    def _hook_done(self, task: asyncio.Task[None]) -> None:
        self._hook_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("template hook failed", exc_info=task.exception())

    def _note_problem(self, problem: str, *, available: bool) -> None:
        # Logged when it starts or changes, not on every poll of a daemon that stays down (whose error text
        # varies from one failed connection to the next).
        went_down = self.daemon_available and not available
        if went_down or (available and problem != self.last_problem):
            serving = "; serving the last template" if self._templates else ""
            log.warning("%s%s", problem, serving)
        else:
            log.debug("%s", problem)
        self.last_problem = problem
        self.daemon_available = available

    def _note_recovery(self) -> None:
        if self.last_problem is not None:
            log.info("daemon serves usable templates again")
        self.last_problem = None
        self.daemon_available = True
