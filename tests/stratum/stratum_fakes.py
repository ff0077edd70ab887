"""Stand-ins for the job side, a share sink, a clock and a miner, for the stratum tests only.

The real JobManager/ShareJudge are tested on their own; here jobs are cut from a real forknote2 mining
blob (TurtleCoin template vector) with a per-job extra nonce written into the merkle-root bytes, and
shares are judged with simple deterministic rules in the contract's order, hashing with blake2b so a test
miner can find shares in microseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import socket
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from athena_pool.jobs.contracts import (
    BlockFound,
    IssuedJob,
    MinerIdentity,
    NoTemplateError,
    RejectReason,
    ShareOutcome,
    ShareStatus,
)
from athena_pool.storage.records import BlockCandidate, ShareRecord
from athena_pool.stratum import PortConfig, StratumLimits, StratumServer, VardiffConfig

NONCE_OFFSET = 39
EXTRA_NONCE_OFFSET = 71  # last 4 bytes of the merkle root in the 76-byte forknote2 mining blob
MAX_HASH = 2**256 - 1
ALGO = "cn-lite/1"
ALGO_ALIASES = frozenset({"cryptonight-lite/1", "cryptonight-aeonv7"})
KEPT_TEMPLATES = 3
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


def pow_hash(blob: bytes) -> bytes:
    return hashlib.blake2b(blob, digest_size=32).digest()


def achieved_difficulty(digest: bytes) -> int:
    value = int.from_bytes(digest, "little")
    return MAX_HASH if value == 0 else MAX_HASH // value


def target_hex(difficulty: int) -> str:
    """The pool convention: 4-byte compact target below 2^32, else an 8-byte target."""
    if difficulty < 2**32:
        top = (MAX_HASH // difficulty).to_bytes(32, "big")[:4]
        return top[::-1].hex()
    return ((2**64 - 1) // difficulty).to_bytes(8, "little").hex()


def with_nonce(blob: bytes, nonce: bytes) -> bytes:
    return blob[:NONCE_OFFSET] + nonce + blob[NONCE_OFFSET + 4 :]


@dataclass(eq=False)
class FakeJob:
    job_id: str
    difficulty: int
    height: int
    template_seq: int
    blob: bytes
    submitted_nonces: set[bytes] = field(default_factory=set)

    def to_stratum(self, session_id: str) -> dict[str, Any]:
        return {
            "blob": self.blob.hex(),
            "job_id": self.job_id,
            "target": target_hex(self.difficulty),
            "id": session_id,
            "algo": ALGO,
            "height": self.height,
        }


class FakeJobSource:
    algo = ALGO

    def __init__(self, template_blob: bytes, height: int) -> None:
        self.template_blob = template_blob
        self.height = height
        self.template_seq = 1
        self.available = True
        self.fail_next = 0  # this many coming issue_job calls raise RuntimeError (a bug on the job side)
        self.issued: dict[str, FakeJob] = {}
        self._extra_nonce = 0
        self._listeners: list[Callable[[], None]] = []

    def issue_job(self, difficulty: int) -> IssuedJob:
        if not self.available:
            raise NoTemplateError("no template yet")
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("job side bug")
        self._extra_nonce += 1
        extra = self._extra_nonce.to_bytes(4, "big")
        blob = self.template_blob[:EXTRA_NONCE_OFFSET] + extra + self.template_blob[EXTRA_NONCE_OFFSET + 4 :]
        job = FakeJob(
            f"{self.template_seq:04x}{self._extra_nonce:08x}",
            difficulty,
            self.height,
            self.template_seq,
            blob,
        )
        self.issued[job.job_id] = job
        return job

    def add_template_listener(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def new_template(self) -> None:
        self.template_seq += 1
        self.height += 1
        for listener in self._listeners:
            listener()


class FakeJudge:
    """Contract order: expired, malformed nonce/result, duplicate, hash, difficulty; block past network."""

    def __init__(self, source: FakeJobSource, network_difficulty: int = 2**40) -> None:
        self.source = source
        self.network_difficulty = network_difficulty
        self.calls = 0

    async def judge(
        self, job: IssuedJob, nonce_hex: str, result_hex: str, miner: MinerIdentity
    ) -> ShareOutcome:
        self.calls += 1
        assert isinstance(job, FakeJob)
        await asyncio.sleep(0)  # a real judge hashes in a thread; give the loop a turn as it would
        reason = self._reason(job, nonce_hex, result_hex)
        if reason is not None:
            return ShareOutcome(ShareStatus.REJECTED, 0, reason=reason)
        achieved = achieved_difficulty(bytes.fromhex(result_hex))
        stale = job.template_seq != self.source.template_seq
        if achieved >= self.network_difficulty and not stale:
            block = BlockFound(job.height, result_hex, self.network_difficulty, accepted_by_daemon=True)
            return ShareOutcome(ShareStatus.BLOCK, job.difficulty, achieved, block=block)
        return ShareOutcome(ShareStatus.ACCEPTED, job.difficulty, achieved, stale=stale)

    def _reason(self, job: FakeJob, nonce_hex: str, result_hex: str) -> RejectReason | None:
        if job.template_seq <= self.source.template_seq - KEPT_TEMPLATES:
            return RejectReason.EXPIRED_JOB
        if not _HEX8.fullmatch(nonce_hex):
            return RejectReason.MALFORMED_NONCE
        if not _HEX64.fullmatch(result_hex):
            return RejectReason.MALFORMED_RESULT
        nonce = bytes.fromhex(nonce_hex)
        if nonce in job.submitted_nonces:
            return RejectReason.DUPLICATE
        job.submitted_nonces.add(nonce)
        digest = pow_hash(with_nonce(job.blob, nonce))
        if digest.hex() != result_hex:
            return RejectReason.BAD_HASH
        if achieved_difficulty(digest) < job.difficulty:
            return RejectReason.LOW_DIFFICULTY
        return None


class TrustingFakeJudge(FakeJudge):
    """FakeJudge that also takes `verify=False`, the way PoolShareJudge does: no hash, the claimed result's
    difficulty checked, a claimed block hashed anyway."""

    def __init__(self, source: FakeJobSource, network_difficulty: int = 2**40) -> None:
        super().__init__(source, network_difficulty)
        self.unverified = 0

    async def judge(  # type: ignore[override]
        self, job: IssuedJob, nonce_hex: str, result_hex: str, miner: MinerIdentity, *, verify: bool = True
    ) -> ShareOutcome:
        if verify or not _HEX64.fullmatch(result_hex) or not _HEX8.fullmatch(nonce_hex):
            return await super().judge(job, nonce_hex, result_hex, miner)
        achieved = achieved_difficulty(bytes.fromhex(result_hex))
        if achieved >= self.network_difficulty:
            return await super().judge(job, nonce_hex, result_hex, miner)
        assert isinstance(job, FakeJob)
        nonce = bytes.fromhex(nonce_hex)
        if nonce in job.submitted_nonces:
            return ShareOutcome(ShareStatus.REJECTED, 0, reason=RejectReason.DUPLICATE)
        job.submitted_nonces.add(nonce)
        self.unverified += 1
        if achieved < job.difficulty:
            return ShareOutcome(ShareStatus.REJECTED, 0, achieved, reason=RejectReason.LOW_DIFFICULTY)
        return ShareOutcome(ShareStatus.ACCEPTED, job.difficulty, achieved)


class GatedJudge(FakeJudge):
    """FakeJudge whose verdicts wait for `gate` (a share "being hashed" as long as the test wants)."""

    def __init__(self, source: FakeJobSource) -> None:
        super().__init__(source)
        self.gate = asyncio.Event()
        self.waiting = 0

    async def judge(
        self, job: IssuedJob, nonce_hex: str, result_hex: str, miner: MinerIdentity
    ) -> ShareOutcome:
        self.waiting += 1
        await self.gate.wait()
        return await super().judge(job, nonce_hex, result_hex, miner)


class ListSink:
    """Keeps what the pool hands to storage, in order (shares and block candidates interleaved)."""

    def __init__(self) -> None:
        self.records: list[ShareRecord] = []
        self.candidates: list[BlockCandidate] = []
        self.order: list[str] = []

    def submit(self, share: ShareRecord) -> None:
        self.records.append(share)
        self.order.append(f"share:{share.kind.value}")

    async def add_block_candidate(self, candidate: BlockCandidate) -> None:
        await asyncio.sleep(0)  # the real recorder waits until the candidate is safe
        self.candidates.append(candidate)
        self.order.append("candidate")


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def validate_test_address(address: str) -> None:
    """Accepts 'athena' + at least 10 base58 characters; reasons as precise as the real decoder's."""
    if not address.startswith("athena"):
        raise ValueError("wrong address prefix for this coin")
    body = address[len("athena") :]
    if len(body) < 10:
        raise ValueError("too short")
    if re.search(r"[^1-9A-HJ-NP-Za-km-z]", body):
        raise ValueError("invalid base58 character")


ADDRESS = "athenaAbcdefghijkmnopqrstuvwxyz123"
OTHER_ADDRESS = "athenaZyxwvutsrqponmkjihgfedcba987"
PAYMENT_ID = "ab" * 32


def find_share(
    job: dict[str, Any], difficulty: int, start: int = 0, *, below: bool = False
) -> tuple[str, str]:
    """A nonce (hex) and its result (hex) meeting `difficulty` (or, with below=True, failing it)."""
    blob = bytes.fromhex(job["blob"])
    nonce = start
    while True:
        nonce_bytes = nonce.to_bytes(4, "little")
        digest = pow_hash(with_nonce(blob, nonce_bytes))
        if (achieved_difficulty(digest) >= difficulty) != below:
            return nonce_bytes.hex(), digest.hex()
        nonce += 1


class StratumClient:
    """A line-oriented test miner over real TCP; pushes are kept apart from replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.pushes: list[dict[str, Any]] = []
        self._next_id = 100

    @classmethod
    async def connect(
        cls,
        port: int,
        *,
        host: str = "127.0.0.1",
        source: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        preamble: bytes = b"",
    ) -> StratumClient:
        """Over real TCP (TLS with `ssl_context`), from `source` (a 127.0.0.x), `preamble` sent first
        (a PROXY header)."""
        local_addr = (source, 0) if source else None
        if preamble:
            sock = socket.create_connection((host, port), source_address=local_addr)
            sock.sendall(preamble)
            sock.setblocking(False)
            reader, writer = await asyncio.open_connection(
                sock=sock, ssl=ssl_context, server_hostname="localhost" if ssl_context else None
            )
        else:
            reader, writer = await asyncio.open_connection(
                host,
                port,
                local_addr=local_addr,
                ssl=ssl_context,
                server_hostname="localhost" if ssl_context else None,
            )
        return cls(reader, writer)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_raw(json.dumps(message).encode() + b"\n")

    async def read_message(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """The next message, or None at EOF."""
        async with asyncio.timeout(timeout):
            line = await self.reader.readline()
        if not line:
            self.writer.close()
            return None
        message: dict[str, Any] = json.loads(line)
        return message

    async def read_reply(self) -> dict[str, Any]:
        while True:
            message = await self.read_message()
            assert message is not None, "connection closed before the reply"
            if message.get("method") == "job":
                self.pushes.append(message)
                continue
            return message

    async def next_push(self) -> dict[str, Any]:
        if self.pushes:
            return self.pushes.pop(0)
        message = await self.read_message()
        assert message is not None, "connection closed before a push"
        assert message.get("method") == "job", message
        return message

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        await self.send({"id": self._next_id, "jsonrpc": "2.0", "method": method, "params": params})
        reply = await self.read_reply()
        assert reply["id"] == self._next_id
        return reply

    async def login(self, login: str = ADDRESS, **params: Any) -> dict[str, Any]:
        reply = await self.call("login", {"login": login, "pass": "x", "agent": "test-miner/1.0", **params})
        return reply

    async def read_until_closed(self, timeout: float = 10.0) -> bytes:
        """What the server still sends until it closes the connection (TimeoutError if it never does)."""
        received = bytearray()
        try:
            async with asyncio.timeout(timeout):
                while chunk := await self.reader.read(65536):
                    received += chunk
        except ConnectionResetError:
            pass
        self.writer.close()
        return bytes(received)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


VARDIFF = VardiffConfig(
    min_difficulty=10,
    max_difficulty=5000,
    target_time=30,
    retarget_time=60,
    variance_percent=30,
    max_jump_percent=100,
)
# Housekeeping never runs by itself in tests; a test calls server.housekeeping() after moving the clock.
TEST_LIMITS = StratumLimits(housekeeping_interval=3600, login_timeout=30, idle_timeout=600)


@dataclass
class Pool:
    server: StratumServer
    source: FakeJobSource
    judge: FakeJudge
    sink: ListSink
    clock: FakeClock

    @property
    def port(self) -> int:
        return self.server.listening[0].port

    @property
    def fixed_port(self) -> int:
        return self.server.listening[1].port


PoolFactory = Callable[..., Coroutine[Any, Any, "Pool"]]


def default_ports() -> tuple[PortConfig, ...]:
    return (
        PortConfig(0, difficulty=100, description="vardiff", vardiff=VARDIFF, host="127.0.0.1"),
        PortConfig(
            0,
            difficulty=100,
            description="fixed",
            hidden=True,
            fixed_difficulty=777,
            vardiff=VARDIFF,
            host="127.0.0.1",
        ),
    )


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Polls a condition (a safety timeout only; nothing here measures time)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
