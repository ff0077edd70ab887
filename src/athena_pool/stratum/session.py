"""One stratum session per connection (an asyncio Protocol): framing, dispatch, login, jobs, shares, vardiff.

The session id handed out at login is a random token that is only valid on the socket that logged in:
every later request is checked against this session's own id, so a leaked id is useless elsewhere (the
reference pool looked miners up by id alone, from any socket).

Requests on one connection are handled one after another, in order: a submit (hashed off the loop) or a
request over its IP's rate holds the ones behind it, and past `max_pending_bytes` of unhandled input the
connection is not read at all, so a flood costs the pool nothing but its own delay. Writes never wait:
replies and pushes go to the transport's buffer, and a miner that lets that buffer grow past
`max_send_buffer_bytes` is dropped, so a peer that does not read cannot make the pool hold more than that.
An idle session holds no task and no timer: timeouts are checked by the server's housekeeping pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from athena_pool.jobs.contracts import (
    IssuedJob,
    JobSource,
    MinerIdentity,
    NoTemplateError,
    RejectReason,
    ShareOutcome,
    ShareStatus,
)
from athena_pool.stratum import protocol
from athena_pool.stratum.config import PortConfig, StratumConfig
from athena_pool.stratum.framing import LineBuffer, OversizedLine
from athena_pool.stratum.guard import Abuse, Guard, RequestKind
from athena_pool.stratum.handshake import Origin, socket_origin
from athena_pool.stratum.login import AddressValidator, LoginError, LoginRules, check_algorithms, parse_login
from athena_pool.stratum.protocol import (
    GetJobRequest,
    HttpProbe,
    KeepaliveRequest,
    LoginRequest,
    Request,
    RequestId,
    StratumError,
    SubmitRequest,
)
from athena_pool.stratum.recent_jobs import RecentJobs
from athena_pool.stratum.registry import SessionRegistry
from athena_pool.stratum.shares import SharePipeline
from athena_pool.stratum.trust import TrustPolicy, TrustState
from athena_pool.stratum.vardiff import VardiffState, is_due, retarget

log = logging.getLogger(__name__)

NO_JOB_MESSAGE = "No job available yet (the pool is waiting for its coin daemon), try again shortly"
SLOW_DOWN_MESSAGE = "Too many requests from your address: slow down"
REFUSAL_PAUSE_S = 1.0
_KINDS = {
    LoginRequest: RequestKind.LOGIN,
    SubmitRequest: RequestKind.SUBMIT,
    GetJobRequest: RequestKind.GETJOB,
    KeepaliveRequest: RequestKind.KEEPALIVED,
}


@dataclass(frozen=True)
class SessionContext:
    """What every session of one server shares; built once by the server."""

    config: StratumConfig
    job_source: JobSource
    pipeline: SharePipeline
    registry: SessionRegistry[Session]
    validate_address: AddressValidator
    clock: Callable[[], float]
    guard: Guard
    trust: TrustPolicy


class Session(asyncio.Protocol):
    __slots__ = (
        "_admitted",
        "_bad_lines",
        "_busy",
        "_closing_since",
        "_connected_at",
        "_ctx",
        "_draining",
        "_eof",
        "_fixed_difficulty",
        "_jobs",
        "_last_request_at",
        "_limits",
        "_lines",
        "_paused",
        "_port_config",
        "_request_task",
        "_timer",
        "_transport",
        "_trust",
        "_vardiff",
        "agent",
        "closing",
        "ip",
        "miner",
        "origin",
        "port",
    )

    def __init__(
        self,
        context: SessionContext,
        port_config: PortConfig,
        port: int,
        origin: Origin | None = None,
        *,
        admitted: bool = False,
    ) -> None:
        self._ctx = context
        self._limits = context.config.limits
        self._port_config = port_config
        self.port = port
        self.origin = origin
        self.ip = origin.ip if origin is not None else "unknown"
        self.miner: MinerIdentity | None = None
        self.agent = ""
        self._admitted = admitted  # counted by the guard already (before a handshake)
        self._transport: asyncio.Transport | None = None
        self._lines = LineBuffer(self._limits.max_line_bytes, self._limits.max_buffer_bytes)
        self._jobs: RecentJobs | None = None
        self._fixed_difficulty: int | None = None
        self._vardiff: VardiffState | None = None
        self._trust: TrustState | None = None
        self._bad_lines = 0
        self._connected_at = self._last_request_at = context.clock()
        self.closing = False
        self._closing_since = 0.0
        self._busy = False  # a request is being handled or waits for its rate; the rest wait behind it
        self._paused = False
        self._eof = False
        self._draining = False  # the server is shutting down: no new requests
        self._timer: asyncio.TimerHandle | None = None
        self._request_task: asyncio.Task[None] | None = None

    # --- asyncio.Protocol ----------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        if self.origin is None:
            peer, local = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
            self.origin = socket_origin(peer, local, tls=self._port_config.tls)
            self.ip = self.origin.ip
        if not self._admitted:
            refusal = self._ctx.guard.admit(self.ip)
            if refusal is not None:
                self.closing = True
                self._ctx.registry.count_drop(f"refused: {refusal.why}")
                self._transport.abort()
                return
            self._admitted = True
        _keepalive(transport)
        self._ctx.registry.add(self)

    def data_received(self, data: bytes) -> None:
        if self.closing or self._draining:
            return
        self._lines.append(data)
        if self._lines.overflowing:
            self._ctx.guard.abuse(self.ip, Abuse.FLOOD)
            self._drop("flood: no newline within the buffer limit")
            return
        if self._lines.pending_bytes > self._limits.max_pending_bytes:
            self._pause_reading()
        self._pump()

    def eof_received(self) -> bool:
        if self.closing:
            return False  # both sides are done: let the transport close
        self._eof = True
        self._pump()
        # Keep the transport to write the last replies (closed once everything is handled); TLS has no
        # half-closed state, so there the transport closes now, after writing what is buffered.
        return self._transport is not None and self._transport.can_write_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._admitted:
            self._admitted = False
            self._ctx.guard.release(self.ip)
        self._ctx.registry.remove(self)
        if exc is not None:
            log.debug("connection from %s ended: %s", self.ip, exc)

    # --- state for the server ------------------------------------------------------------------------------

    @property
    def difficulty(self) -> int:
        if self._fixed_difficulty is not None:
            return self._fixed_difficulty
        if self._vardiff is not None:
            return self._vardiff.difficulty
        return self._port_config.vardiff.clamp(self._port_config.difficulty)

    @property
    def request_task(self) -> asyncio.Task[None] | None:
        """The submit being judged right now, if any."""
        return self._request_task

    @property
    def tls(self) -> bool:
        return self.origin is not None and self.origin.tls

    def close(self, why: str) -> None:
        """End the session from outside (timeouts, bans, shutdown), after what was written is flushed."""
        if self.closing:
            return
        self._finish(why)

    def abort(self) -> None:
        self.closing = True
        if self._transport is not None:
            self._transport.abort()

    def begin_shutdown(self) -> None:
        """Stop taking requests (the one being judged finishes); a request waiting for its rate is dropped."""
        self._draining = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._busy = False
        self._pause_reading()

    def send_reconnect(self, host: str, port: int) -> None:
        self._send(protocol.reconnect_push(host, port))

    # --- reading -------------------------------------------------------------------------------------------

    def _pump(self) -> None:
        """Handle the lines received, in order, until one has to wait (a submit, a rate) or none is left."""
        while not self._busy and not self.closing and not self._draining:
            item = self._lines.next_line()
            if item is None:
                if self._eof:
                    self._finish("")
                    if self._transport is not None:
                        self._transport.close()  # the peer already closed its side
                elif self._paused:
                    self._resume_reading()
                return
            self._handle(item)

    def _pause_reading(self) -> None:
        if not self._paused and self._transport is not None and not self._transport.is_closing():
            self._paused = True
            self._transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._paused and self._transport is not None and not self._transport.is_closing():
            self._paused = False
            self._transport.resume_reading()

    # --- writing and ending --------------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(data)
        if transport.get_write_buffer_size() > self._limits.max_send_buffer_bytes:
            self._drop("slow consumer: send buffer full")

    def _finish(self, why: str) -> None:
        """End the session after what was already written has been flushed ("" counts no drop).

        The write side is shut first (FIN after the last reply) and whatever the peer still sends is read
        and dropped until it closes too: closing a socket with unread input would send a reset, and the
        peer would lose the replies it had not read yet. A peer that never closes is aborted by
        housekeeping after `close_timeout`.
        """
        if not self.closing:
            self._closing_since = self._ctx.clock()
        self.closing = True
        if why:
            self._ctx.registry.count_drop(why)
            log.debug("closing connection from %s: %s", self.ip, why)
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if not transport.can_write_eof():
            transport.close()
            return
        try:
            transport.write_eof()
        except OSError as exc:  # the peer is already gone (ENOTCONN): nothing is left to flush
            log.debug("connection from %s already gone at close: %s", self.ip, exc)
            transport.abort()
            return
        self._paused = True  # so that _resume_reading acts
        self._resume_reading()

    def _drop(self, why: str) -> None:
        """End the session at once, discarding unsent data."""
        self._finish(why)
        if self._transport is not None:
            self._transport.abort()

    # --- periodic work (called by the server) --------------------------------------------------------------

    def housekeeping(self, now: float) -> None:
        """Timeouts, and vardiff for miners whose shares stopped coming."""
        if self.closing:
            if now - self._closing_since >= self._limits.close_timeout:
                self.abort()
            return
        if self.miner is None:
            if now - self._connected_at >= self._limits.login_timeout:
                self.close("login timeout")
            return
        if now - self._last_request_at >= self._limits.idle_timeout:
            self.close("idle timeout")
        elif self._retarget(now):
            self._push_job()

    def on_new_template(self) -> None:
        if self.miner is None or self.closing:
            return
        if self._vardiff is not None:
            self._retarget(self._ctx.clock())
        self._push_job()

    # --- requests ------------------------------------------------------------------------------------------

    def _handle(self, item: bytes | OversizedLine) -> None:
        if isinstance(item, OversizedLine):
            limit = self._limits.max_line_bytes
            self._send(protocol.error_reply(None, f"Request too large: a line may hold {limit} bytes"))
            self._ctx.guard.abuse(self.ip, Abuse.OVERSIZED)
            self._finish("oversized line")
            return
        try:
            request = protocol.parse(item)
        except StratumError as exc:
            self._bad_request(exc)
            return
        if isinstance(request, HttpProbe):
            self._send(protocol.http_probe_reply())
            self._finish("http probe")
            return
        self._last_request_at = self._ctx.clock()
        delay = self._ctx.guard.throttle(self.ip, _KINDS[type(request)])
        if delay is not None and isinstance(request, SubmitRequest) and self.miner is not None:
            hashing_wait = self._ctx.guard.hashing_wait(self.ip, self.miner.address)
            delay = None if hashing_wait is None else max(delay, hashing_wait)
        if delay is None:
            # Far over its rate: refused, and this connection is not read for a while, so a client that
            # keeps asking costs one refusal per pause rather than one per line it sends.
            self._send(protocol.error_reply(request.request_id, SLOW_DOWN_MESSAGE))
            self._wait(REFUSAL_PAUSE_S, None)
        elif delay > 0:
            self._wait(delay, request)
        else:
            self._dispatch(request)

    def _wait(self, seconds: float, request: Request | None) -> None:
        self._busy = True
        self._pause_reading()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._after_wait, request)

    def _after_wait(self, request: Request | None) -> None:
        self._timer = None
        self._busy = False
        if not self.closing and not self._draining:
            if request is not None:
                self._dispatch(request)
            self._pump()

    def _bad_request(self, error: StratumError) -> None:
        self._bad_lines += 1
        self._send(protocol.error_reply(error.request_id, error.message))
        self._ctx.guard.abuse(self.ip, Abuse.MALFORMED)
        if self._bad_lines >= self._limits.max_bad_lines:
            self._finish("too many malformed requests")

    def _dispatch(self, request: Request) -> None:
        if isinstance(request, SubmitRequest):
            self._busy = True
            task = asyncio.get_running_loop().create_task(self._submit(request))
            self._request_task = task
            task.add_done_callback(self._submit_done)
            return
        try:
            if isinstance(request, LoginRequest):
                self._login(request)
            elif isinstance(request, GetJobRequest):
                self._getjob(request)
            elif isinstance(request, KeepaliveRequest):
                self._authenticate(request.request_id, request.session_id)
                self._send(protocol.result_reply(request.request_id, protocol.status_keepalived()))
        except StratumError as exc:
            self._send(protocol.error_reply(exc.request_id, exc.message))
        except Exception:
            # A bug must cost one reply, not the connection or the server.
            log.exception("request from %s failed", self.ip)
            self._send(protocol.error_reply(_request_id_of(request), "Internal pool error"))

    def _submit_done(self, task: asyncio.Task[None]) -> None:
        self._request_task = None
        self._busy = False
        self._pump()

    def _authenticate(self, request_id: RequestId, session_id: str) -> MinerIdentity:
        miner = self.miner
        if miner is None or not secrets.compare_digest(session_id.encode(), miner.session_id.encode()):
            raise StratumError("Unauthenticated", request_id)
        return miner

    def _login(self, request: LoginRequest) -> None:
        if self.miner is not None:
            raise StratumError("Already logged in on this connection", request.request_id)
        try:
            check_algorithms(request.algos, self._ctx.job_source.algo, self._ctx.config.algo_aliases)
            details = parse_login(request.login, request.password, request.rigid, self._login_rules())
        except LoginError as exc:
            self._ctx.guard.abuse(self.ip, Abuse.BAD_LOGIN)
            raise StratumError(str(exc), request.request_id) from exc
        ban = self._ctx.guard.miner_ban(self.ip, details.payout_destination, details.worker)
        if ban is not None:
            seconds = max(1, (ban.until_ms - int(self._ctx.clock() * 1000)) // 1000)
            self._send(protocol.error_reply(request.request_id, _ban_message(ban.scope.value, seconds)))
            self._finish(f"refused: {ban.scope.value} ban")
            return
        self._start_difficulty(details.fixed_difficulty)
        miner = MinerIdentity(
            address=details.payout_destination,
            worker=details.worker,
            solo=details.solo,
            ip=self.ip,
            session_id=secrets.token_hex(16),
        )
        job = self._issue_job(request.request_id)
        self.miner = miner
        self.agent = request.agent
        if self._ctx.trust.enabled:
            self._trust = self._ctx.trust.new_state(miner.address)
        result = protocol.login_result(
            miner.session_id, job.to_stratum(miner.session_id), self._ctx.config.extensions
        )
        self._send(protocol.result_reply(request.request_id, result))
        log.info(
            "miner %s worker %r logged in from %s on port %d (%s, difficulty %d)",
            miner.address,
            miner.worker,
            self.ip,
            self.port,
            request.agent or "no agent",
            self.difficulty,
        )

    def _login_rules(self) -> LoginRules:
        vardiff = self._port_config.vardiff
        return LoginRules(
            validate_address=self._ctx.validate_address,
            payment_ids_allowed=self._ctx.config.payment_ids_allowed,
            min_difficulty=vardiff.min_difficulty,
            max_difficulty=vardiff.max_difficulty,
        )

    def _start_difficulty(self, requested: int | None) -> None:
        """`+DIFF` in the login wins, then the port's fixed difficulty, else vardiff from the port's start."""
        self._fixed_difficulty = requested if requested is not None else self._port_config.fixed_difficulty
        if self._fixed_difficulty is None:
            vardiff = self._port_config.vardiff
            self._vardiff = VardiffState.start(self._port_config.difficulty, self._ctx.clock(), vardiff)

    def _getjob(self, request: GetJobRequest) -> None:
        miner = self._authenticate(request.request_id, request.session_id)
        job = self._issue_job(request.request_id)
        self._send(protocol.result_reply(request.request_id, job.to_stratum(miner.session_id)))

    def _recent_jobs(self) -> RecentJobs:
        if self._jobs is None:
            self._jobs = RecentJobs(self._limits.max_jobs_per_session, self._limits.max_forgotten_jobs)
        return self._jobs

    def _issue_job(self, request_id: RequestId) -> IssuedJob:
        """A fresh job (never one sent before), remembered for the shares that will come for it."""
        try:
            job = self._ctx.job_source.issue_job(self.difficulty)
        except NoTemplateError as exc:
            raise StratumError(NO_JOB_MESSAGE, request_id) from exc
        self._recent_jobs().remember(job)
        return job

    def _push_job(self) -> None:
        miner = self.miner
        if miner is None or self.closing:
            return
        try:
            job = self._issue_job(None)
        except StratumError:
            return  # no template: the miner keeps its current job
        # A new template sends this to every miner at once: jobs that can write their own JSON do.
        as_json = getattr(job, "stratum_json", None)
        if as_json is not None:
            self._send(protocol.job_push_json(as_json(miner.session_id)))
        else:
            self._send(protocol.job_push(job.to_stratum(miner.session_id)))

    # --- shares --------------------------------------------------------------------------------------------

    async def _submit(self, request: SubmitRequest) -> None:
        try:
            await self._judge_submit(request)
        except StratumError as exc:
            self._send(protocol.error_reply(exc.request_id, exc.message))
        except Exception:
            log.exception("submit from %s failed", self.ip)
            self._send(protocol.error_reply(request.request_id, "Internal pool error"))

    async def _judge_submit(self, request: SubmitRequest) -> None:
        miner = self._authenticate(request.request_id, request.session_id)
        if request.algo is not None and not self._is_pool_algo(request.algo):
            raise StratumError(
                f"Unsupported algorithm: this pool mines {self._ctx.job_source.algo}", request.request_id
            )
        job = self._recent_jobs().get(request.job_id)
        if job is None:
            self._reject_unmatched(request, miner)
            return
        verify = self._trust is None or self._ctx.trust.should_verify(self._trust, job.difficulty)
        outcome = await self._ctx.pipeline.judge(job, request.nonce, request.result, miner, verify=verify)
        if outcome is None:
            raise StratumError("Share not checked: internal pool error", request.request_id)
        self._ctx.registry.count_outcome(outcome)
        if self._trust is not None:
            self._ctx.trust.record(self._trust, miner.address, outcome, verified=verify)
        if outcome.block is not None:
            log.info(
                "block candidate at height %d by %s: %s",
                outcome.block.height,
                miner.address,
                _block_verdict(outcome.block.accepted_by_daemon, outcome.block.detail),
            )
        if outcome.accepted:
            self._send(protocol.result_reply(request.request_id, protocol.status_ok()))
            self._after_accepted_share()
        else:
            reason = outcome.reason or RejectReason.BAD_HASH
            self._send(protocol.error_reply(request.request_id, reason.message))
        self._ctx.guard.judge_share(self.ip, miner.address, miner.worker, outcome)

    def _reject_unmatched(self, request: SubmitRequest, miner: MinerIdentity) -> None:
        height = self._recent_jobs().forgotten_height(request.job_id)
        reason = RejectReason.UNKNOWN_JOB if height is None else RejectReason.EXPIRED_JOB
        outcome = ShareOutcome(ShareStatus.REJECTED, credited_difficulty=0, reason=reason)
        self._ctx.pipeline.record(outcome, miner, height or 0)
        self._ctx.registry.count_outcome(outcome)
        self._send(protocol.error_reply(request.request_id, reason.message))
        self._ctx.guard.judge_share(self.ip, miner.address, miner.worker, outcome)

    def _is_pool_algo(self, name: str) -> bool:
        accepted = {self._ctx.job_source.algo.lower(), *(a.lower() for a in self._ctx.config.algo_aliases)}
        return name.strip().lower() in accepted

    def _after_accepted_share(self) -> None:
        if self._vardiff is None or self.closing:
            return
        now = self._ctx.clock()
        self._vardiff.record_share(now)
        if self._retarget(now):
            self._push_job()

    def _retarget(self, now: float) -> bool:
        """Run a due vardiff check; True when the difficulty changed (the caller pushes a new job)."""
        state = self._vardiff
        config = self._port_config.vardiff
        if state is None or not is_due(state, now, config):
            return False
        new_difficulty = retarget(state, now, config)
        state.checked(now, new_difficulty, config)
        if new_difficulty is not None:
            log.debug(
                "vardiff for %s: difficulty %d", self.miner.address if self.miner else self.ip, new_difficulty
            )
        return new_difficulty is not None


def _request_id_of(request: Request) -> RequestId:
    return None if isinstance(request, HttpProbe) else request.request_id


def _ban_message(scope: str, seconds: int) -> str:
    # Worded so xmrig retries later instead of giving up on the pool (it does on "banned").
    what = {"ip": "your address", "wallet": "this wallet from your address"}.get(
        scope, "this worker from your address"
    )
    return f"Temporarily refused: too many invalid shares or requests from {what}; retry in {seconds} s"


def _keepalive(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


def _block_verdict(accepted: bool, detail: str) -> str:
    """How a block candidate fared, for the log; an unconfirmed one says so."""
    if not accepted:
        return f"refused {detail}"
    return f"accepted ({detail})" if detail else "accepted"
