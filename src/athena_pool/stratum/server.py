"""The stratum server: listeners, sessions, job broadcasts, protection, housekeeping, graceful shutdown.

Construct it with its collaborators, `await start()`, and `await close()` at shutdown:

    server = StratumServer(config=..., job_source=..., judge=..., share_sink=..., validate_address=...,
                           ban_store=BanStore(redis, prefix), hash_threads=verifier.threads)
    await server.start()
    ...
    await server.close()

Plain ports (no TLS, no PROXY protocol, no TLS auto-detection) are served by the loop's own server; the
others go through an accept loop that admits the client first (bans, caps, connect rate), then reads the
PROXY header, peeks at the first byte and runs the TLS handshake (`handshake.py`), so a refused address
never costs a handshake and a failed one counts as abuse. Timeouts and vardiff use the injected `clock`
(seconds, wall time) and are checked by a housekeeping pass every `limits.housekeeping_interval` seconds,
so no per-connection timer exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from athena_pool.aio import cancel_until_done
from athena_pool.jobs.contracts import JobSource, ShareJudge
from athena_pool.storage.bans_store import BanRecord
from athena_pool.stratum.address_cache import CachedAddressValidator
from athena_pool.stratum.bans import covers
from athena_pool.stratum.bansync import BanBook, BanSync
from athena_pool.stratum.config import PortConfig, StratumConfig
from athena_pool.stratum.guard import Abuse, Guard
from athena_pool.stratum.handshake import (
    HandshakeRefusedError,
    Origin,
    Peeker,
    read_proxy_header,
    socket_origin,
    starts_with_tls,
)
from athena_pool.stratum.judge_slots import JudgeSlots
from athena_pool.stratum.listeners import BACKLOG, ListeningPort, accept_forever, open_socket
from athena_pool.stratum.login import AddressValidator
from athena_pool.stratum.netaddr import NetworkSet
from athena_pool.stratum.registry import SessionRegistry, StratumStats
from athena_pool.stratum.session import Session, SessionContext
from athena_pool.stratum.settings import ProxyMode
from athena_pool.stratum.shares import SharePipeline, ShareSink
from athena_pool.stratum.tls import server_context
from athena_pool.stratum.trust import TrustPolicy

log = logging.getLogger(__name__)

# A new template reaches every miner; yielding to the loop every so many pushes keeps shares flowing
# while thousands of sessions get their job.
BROADCAST_BATCH = 512

__all__ = ["BroadcastStats", "ListeningPort", "StratumServer"]


@dataclass(frozen=True)
class BroadcastStats:
    """The last new-template broadcast: sessions it went through, seconds it took (for metrics)."""

    sessions: int
    seconds: float


class StratumServer:
    def __init__(
        self,
        *,
        config: StratumConfig,
        job_source: JobSource,
        judge: ShareJudge,
        share_sink: ShareSink,
        validate_address: AddressValidator,
        clock: Callable[[], float] = time.time,
        ban_store: BanBook | None = None,
        hash_threads: int | None = None,
        instance: str | None = None,
        trust_draw: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self.instance = instance or f"stratum:{socket.gethostname()}:{os.getpid()}"
        self.registry: SessionRegistry[Session] = SessionRegistry(clock)
        self.guard = Guard(config.protection, clock=clock, on_ban=self._on_ban, source=self.instance)
        self.trust = TrustPolicy(config.trust, clock=clock, draw=trust_draw)
        per_ip = config.protection.judging_per_ip or max(1, (hash_threads or os.cpu_count() or 1) // 2)
        self._pipeline = SharePipeline(judge, share_sink, clock, JudgeSlots(per_ip))
        if config.trust.enabled and not self._pipeline.can_skip_verification:
            raise ValueError("share trust needs a judge that takes verify=False (PoolShareJudge does)")
        self._context = SessionContext(
            config=config,
            job_source=job_source,
            pipeline=self._pipeline,
            registry=self.registry,
            validate_address=CachedAddressValidator(validate_address, config.limits.address_cache),
            clock=clock,
            guard=self.guard,
            trust=self.trust,
        )
        self._ban_sync = (
            BanSync(ban_store, self.guard, clock=clock, interval=config.protection.bans.sync_interval)
            if ban_store is not None
            else None
        )
        self._trusted_proxies = NetworkSet(config.proxy.trusted)
        self._ssl: ssl.SSLContext | None = None
        self._servers: list[asyncio.Server] = []
        self._sockets: list[socket.socket] = []
        self._listening: list[ListeningPort] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._handshakes: set[asyncio.Task[None]] = set()
        self._broadcast_task: asyncio.Task[None] | None = None
        self.last_broadcast: BroadcastStats | None = None
        self._closed = False
        job_source.add_template_listener(self._on_new_template)

    @property
    def listening(self) -> tuple[ListeningPort, ...]:
        return tuple(self._listening)

    # --- start ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind every configured port (all or none), then start housekeeping and the ban sync."""
        try:
            if self.config.tls is not None:
                self._ssl = server_context(self.config.tls)
            for port_config in self.config.ports:
                await self._listen(port_config)
        except BaseException:
            await self.close()
            raise
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._housekeeping_loop(), name="stratum-housekeeping"))
        if self._ban_sync is not None:
            self._tasks.append(loop.create_task(self._ban_sync.run(), name="ban-sync"))
        self._log_started()

    def background_tasks(self) -> tuple[asyncio.Task[None], ...]:
        """Accept loops, housekeeping and ban sync: the owner watches them (a dead accept loop is a
        port that silently stops taking miners)."""
        return tuple(self._tasks)

    def _log_started(self) -> None:
        limits, protection = self.config.limits, self.config.protection
        ports = ", ".join(
            f"{p.port}{' tls' if p.config.tls else ''}{' tls-auto' if p.config.tls_auto_detect else ''}"
            f"{'' if p.config.proxy_protocol is ProxyMode.OFF else f' proxy-{p.config.proxy_protocol}'}"
            for p in self._listening
        )
        log.info(
            "stratum listening on %s; line %d B, buffer %d B, send queue %d B, login %gs, idle %gs; "
            "%d connections per IP, %d per subnet; bans %s",
            ports,
            limits.max_line_bytes,
            limits.max_buffer_bytes,
            limits.max_send_buffer_bytes,
            limits.login_timeout,
            limits.idle_timeout,
            protection.caps.per_ip,
            protection.caps.per_subnet,
            "on" if protection.bans.enabled else "off",
        )

    async def _listen(self, port_config: PortConfig) -> None:
        reuse_port = self.config.reuse_port or self.config.cluster_workers != 1
        sock = open_socket(port_config.host, port_config.port, reuse_port=reuse_port)
        listening = ListeningPort(port_config, sock.getsockname()[1])
        loop = asyncio.get_running_loop()
        if not _needs_a_look(port_config):
            server = await loop.create_server(
                partial(Session, self._context, port_config, listening.port), sock=sock, backlog=BACKLOG
            )
            self._servers.append(server)
        else:
            self._sockets.append(sock)
            accept = partial(self._accepted, listening)
            accepting = loop.create_task(accept_forever(sock, accept), name=f"accept:{listening.port}")
            self._tasks.append(accepting)
        self._listening.append(listening)

    def _tls_timeout(self) -> float:
        return self.config.tls.handshake_timeout if self.config.tls is not None else 10.0

    # --- connections that need a look first ------------------------------------------------------------

    def _accepted(self, listening: ListeningPort, conn: socket.socket) -> None:
        if self._closed:
            conn.close()
            return
        task = asyncio.get_running_loop().create_task(self._handshake(listening, conn))
        self._handshakes.add(task)
        task.add_done_callback(self._handshakes.discard)

    async def _handshake(self, listening: ListeningPort, conn: socket.socket) -> None:
        """Admission, PROXY header, TLS detection and handshake, then the session.

        Admission is by the real client address: at once for a direct peer (before it sends a byte), after
        the PROXY header for a trusted balancer's connection."""
        try:
            origin = socket_origin(conn.getpeername(), conn.getsockname())
        except OSError:
            conn.close()
            return
        # A peer that is not a trusted balancer is the client itself: it is admitted (or refused) before
        # it may hold a connection through a slow handshake.
        admitted_ip = None if origin.peer_ip in self._trusted_proxies else origin.ip
        if admitted_ip is not None and not self._admit(admitted_ip):
            conn.close()
            return
        tls = False
        try:
            origin, tls = await self._look(listening.config, conn, origin)
            if admitted_ip is None:
                if not self._admit(origin.ip):
                    conn.close()
                    return
                admitted_ip = origin.ip
            session = Session(self._context, listening.config, listening.port, origin, admitted=True)
            await asyncio.get_running_loop().connect_accepted_socket(
                lambda: session,
                conn,
                ssl=self._ssl if tls else None,
                ssl_handshake_timeout=self._tls_timeout() if tls else None,
            )
            admitted_ip = None  # the session owns the admission now
        except HandshakeRefusedError as exc:
            self._refuse(origin, exc.why, exc.abuse)
            conn.close()
        except TimeoutError:
            self._refuse(origin, "handshake timeout", Abuse.SLOW_HEADER)
            conn.close()
        except (OSError, ssl.SSLError, EOFError) as exc:
            self._refuse(origin, f"handshake failed: {exc}", Abuse.TLS_FAILURE if tls else None)
            conn.close()
        except (
            asyncio.CancelledError
        ):  # the server closes: the socket is no session's yet, nobody else closes it
            conn.close()
            raise
        finally:
            if admitted_ip is not None:
                self.guard.release(admitted_ip)

    async def _look(self, port: PortConfig, conn: socket.socket, origin: Origin) -> tuple[Origin, bool]:
        peeker = Peeker(conn)
        async with asyncio.timeout(self.config.proxy.header_timeout):
            if port.proxy_protocol is not ProxyMode.OFF:
                origin = await read_proxy_header(peeker, port.proxy_protocol, self._trusted_proxies, origin)
            tls = port.tls or (port.tls_auto_detect and await starts_with_tls(peeker))
        return (replace(origin, tls=True) if tls else origin), tls

    def _admit(self, ip: str) -> bool:
        refusal = self.guard.admit(ip)
        if refusal is not None:
            self.registry.count_drop(f"refused: {refusal.why}")
        return refusal is None

    def _refuse(self, origin: Origin, why: str, abuse: Abuse | None) -> None:
        self.registry.count_drop(why.split(":")[0])
        log.debug("connection from %s (peer %s) refused: %s", origin.ip, origin.peer_ip, why)
        # A balancer's own mistakes (a bad header, a slow health check) never count against it.
        if abuse is not None and origin.ip not in self._trusted_proxies:
            self.guard.abuse(origin.ip, abuse)

    # --- bans ----------------------------------------------------------------------------------------------

    def _on_ban(self, ban: BanRecord, local: bool) -> None:
        """A new ban (made here, or by another process): its sessions go; ours is shared."""
        for session in self.registry.from_ip(ban.ip):
            miner = session.miner
            address, worker = (miner.address, miner.worker) if miner is not None else (None, None)
            if covers(ban, session.ip, address, worker):
                session.close(f"{ban.scope.value} ban")
        if local and self._ban_sync is not None:
            self._ban_sync.publish(ban)

    async def sync_bans(self) -> bool:
        """One ban sync round trip now (tests, admin tools); False when storage was unreachable."""
        return self._ban_sync is not None and await self._ban_sync.sync_once()

    # --- templates and housekeeping -------------------------------------------------------------------

    def _on_new_template(self) -> None:
        if self._closed:
            return
        # A newer template makes a running broadcast pointless: everyone gets the newest job instead.
        if self._broadcast_task is not None:
            self._broadcast_task.cancel()
        self._broadcast_task = asyncio.get_running_loop().create_task(self._broadcast())

    async def _broadcast(self) -> None:
        started = time.perf_counter()
        sessions = list(self.registry)
        for count, session in enumerate(sessions, start=1):
            # One session's trouble must not keep the new job from everyone after it.
            try:
                session.on_new_template()
            except Exception:
                log.exception("job push to %s failed", session.ip)
            if count % BROADCAST_BATCH == 0:
                await asyncio.sleep(0)
        self.last_broadcast = BroadcastStats(len(sessions), time.perf_counter() - started)
        log.debug(
            "new job pushed to %d sessions in %.1f ms", len(sessions), self.last_broadcast.seconds * 1000
        )

    def housekeeping(self) -> None:
        """One pass: login and idle timeouts, vardiff for silent miners, expired limits and bans."""
        now = self._clock()
        for session in self.registry:
            try:
                session.housekeeping(now)
            except Exception:
                log.exception("housekeeping of the session from %s failed", session.ip)
        self.guard.sweep()

    async def _housekeeping_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.limits.housekeeping_interval)
            self.housekeeping()

    def stats(self) -> StratumStats:
        return self.registry.stats()

    # --- shutdown ------------------------------------------------------------------------------------------

    async def close(self) -> None:
        """A graceful stop: no new connections, no new requests, shares in flight judged and recorded (and
        answered), `client.reconnect` to the miners that understand it, then every connection closed."""
        if self._closed:
            return
        self._closed = True
        grace = self.config.shutdown.grace
        self._stop_listening()
        sessions = list(self.registry)
        for session in sessions:
            session.begin_shutdown()
        in_flight = [s.request_task for s in sessions if s.request_task is not None]
        if in_flight:
            await asyncio.wait(in_flight, timeout=grace)
        await self._pipeline.drain(grace)
        self._send_reconnects(sessions)
        for session in sessions:
            session.close("server shutdown")
        await self._wait_sessions_gone(self.config.limits.close_timeout)
        await self._stop_tasks()
        if self._ban_sync is not None:
            await self._ban_sync.flush()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    def _stop_listening(self) -> None:
        for server in self._servers:
            server.close()
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        for task in (*self._tasks, *self._handshakes, self._broadcast_task):
            if task is not None:
                task.cancel()

    def _send_reconnects(self, sessions: list[Session]) -> None:
        settings = self.config.shutdown
        agents = tuple(agent.lower() for agent in settings.reconnect_agents)
        for session in sessions:
            if session.miner is None or session.closing or session.origin is None:
                continue
            agent = session.agent.lower()
            if "*" in agents or any(name in agent for name in agents):
                host = settings.reconnect_host or session.origin.local_host
                session.send_reconnect(host, session.origin.local_port or session.port)

    async def _wait_sessions_gone(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self.registry.connections():
                    await asyncio.sleep(0.02)
        for session in list(self.registry):
            session.abort()

    async def _stop_tasks(self) -> None:
        await cancel_until_done(*self._tasks, *self._handshakes, self._broadcast_task)
        self._tasks.clear()


def _needs_a_look(port: PortConfig) -> bool:
    """Whether connections to `port` go through the accept loop. TLS ports do: served by the loop's own
    server, a client would be admitted only after its handshake, so a banned or over-cap address could
    still hold half-open handshakes and make the pool pay for each one."""
    return port.tls or port.tls_auto_detect or port.proxy_protocol is not ProxyMode.OFF
