"""Before a session starts: the PROXY protocol header and the TLS auto-detection of an accepted socket.

Nothing here reads past what it owns. The first bytes are *peeked* (MSG_PEEK) to tell a PROXY header, a TLS
ClientHello or plain stratum apart, and only the PROXY header itself is taken off the socket, so whatever
follows (stratum lines or a TLS handshake) reaches the session untouched.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, replace

from athena_pool.stratum import proxy_protocol
from athena_pool.stratum.guard import Abuse
from athena_pool.stratum.netaddr import NetworkSet, canonical_ip
from athena_pool.stratum.proxy_protocol import Detected, ProxyHeaderError
from athena_pool.stratum.settings import ProxyMode
from athena_pool.stratum.tls import TLS_HANDSHAKE_RECORD

# While a header is incomplete the socket stays readable (the partial bytes are only peeked), so waiting
# for the rest polls at this interval instead of spinning; only slow or hostile peers ever get here.
PARTIAL_POLL_S = 0.01
PEEK_BYTES = proxy_protocol.V1_MAX_LENGTH


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a connection comes from and what it connected to (the PROXY header's view when proxied)."""

    ip: str  # the client: bans, caps and rate limits key on this
    peer_ip: str  # the TCP peer (the balancer when proxied)
    local_host: str  # the address the client connected to (for client.reconnect)
    local_port: int
    tls: bool = False  # TLS with us, or with a balancer that terminated it (PROXY v2 SSL TLV)
    proxied: bool = False


class HandshakeRefusedError(Exception):
    def __init__(self, why: str, abuse: Abuse | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.abuse = abuse


def socket_origin(peer: object, local: object, *, tls: bool = False) -> Origin:
    """The origin a socket's own addresses give (`peername`, `sockname`)."""
    peer_ip = canonical_ip(str(peer[0])) if isinstance(peer, tuple) and peer else "unknown"
    local_host, local_port = ("", 0)
    if isinstance(local, tuple) and len(local) >= 2:
        local_host, local_port = str(local[0]), int(local[1])
    return Origin(peer_ip, peer_ip, local_host, local_port, tls)


class Peeker:
    """Looks at the first bytes of a non-blocking socket without consuming them, or takes exactly n."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._loop = asyncio.get_running_loop()

    async def peek(self, at_least: int, at_most: int) -> bytes:
        """At least `at_least` bytes (fewer only at EOF), at most `at_most`, all left on the socket."""
        seen = -1
        while True:
            await self._readable()
            data = self._sock.recv(at_most, socket.MSG_PEEK)
            if not data:
                raise HandshakeRefusedError("closed before its first bytes")
            if len(data) >= at_least or len(data) == at_most:
                return data
            if len(data) == seen:
                await asyncio.sleep(PARTIAL_POLL_S)
            seen = len(data)

    async def take(self, count: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < count:
            await self._readable()
            data = self._sock.recv(count - len(chunks))
            if not data:
                raise HandshakeRefusedError("closed within its PROXY header")
            chunks += data
        return bytes(chunks)

    async def _readable(self) -> None:
        ready: asyncio.Future[None] = self._loop.create_future()
        fd = self._sock.fileno()
        self._loop.add_reader(fd, _set_once, ready)
        try:
            await ready
        finally:
            self._loop.remove_reader(fd)


def _set_once(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def read_proxy_header(peeker: Peeker, mode: ProxyMode, trusted: NetworkSet, origin: Origin) -> Origin:
    """The origin a PROXY header gives (or the socket's own when none is needed); HandshakeRefusedError when a
    header is missing where mandatory, comes from an untrusted peer, or is malformed."""
    peer_trusted = origin.peer_ip in trusted
    if mode is ProxyMode.MANDATORY and not peer_trusted:
        raise HandshakeRefusedError("direct connection to a PROXY-protocol port")
    kind, peeked = await _detect(peeker)
    if kind is Detected.NONE:
        if mode is ProxyMode.MANDATORY:
            raise HandshakeRefusedError("no PROXY header", Abuse.BAD_PROXY_HEADER)
        return origin
    if not peer_trusted:
        raise HandshakeRefusedError("PROXY header from an untrusted peer", Abuse.SPOOFED_PROXY_HEADER)
    try:
        length = await _header_length(peeker, peeked)
        header = proxy_protocol.parse(await peeker.take(length))
    except ProxyHeaderError as exc:
        raise HandshakeRefusedError(f"bad PROXY header: {exc}", Abuse.BAD_PROXY_HEADER) from None
    if header.source is None:
        return replace(origin, proxied=True)  # LOCAL / UNKNOWN: the balancer itself (a health check)
    local = header.destination or (origin.local_host, origin.local_port)
    tls = header.ssl is not None and header.ssl.client_ssl
    return Origin(canonical_ip(header.source[0]), origin.peer_ip, local[0], local[1], tls, True)


async def _detect(peeker: Peeker) -> tuple[Detected, bytes]:
    wanted = 1
    while True:
        peeked = await peeker.peek(wanted, PEEK_BYTES)
        kind = proxy_protocol.detect(peeked)
        if kind is not Detected.MORE:
            return kind, peeked
        if len(peeked) < wanted:
            raise HandshakeRefusedError("closed within its PROXY header")
        wanted = len(peeked) + 1


async def _header_length(peeker: Peeker, peeked: bytes) -> int:
    while True:
        length = proxy_protocol.header_length(peeked)
        if length is not None:
            return length
        wanted = len(peeked) + 1
        peeked = await peeker.peek(wanted, max(PEEK_BYTES, wanted))
        if len(peeked) < wanted:
            raise HandshakeRefusedError("closed within its PROXY header")


async def starts_with_tls(peeker: Peeker) -> bool:
    """An auto-detect port: does the client open with a TLS handshake record?"""
    first = await peeker.peek(1, 1)
    return first[0] == TLS_HANDSHAKE_RECORD
