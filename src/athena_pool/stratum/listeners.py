"""Listening sockets: bound by us (SO_REUSEPORT when several processes share the ports), and the accept loop
of the ports whose connections need a look before their session starts (PROXY header, TLS auto-detect)."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from athena_pool.stratum.config import PortConfig

log = logging.getLogger(__name__)

BACKLOG = 4096  # the kernel caps it at net.core.somaxconn
# Out of file descriptors or memory: accepting again at once would spin; the backlog holds the rest.
ACCEPT_PAUSE_S = 0.1
_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


@dataclass(frozen=True)
class ListeningPort:
    config: PortConfig
    port: int  # the bound port (differs from config.port when that is 0)


def open_socket(host: str, port: int, *, reuse_port: bool, backlog: int = BACKLOG) -> socket.socket:
    """A non-blocking listening TCP socket on the first address `host` resolves to."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def accept_forever(sock: socket.socket, on_accept: Callable[[socket.socket], None]) -> None:
    """Hands every accepted (non-blocking) socket to `on_accept` until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            conn, _ = await loop.sock_accept(sock)
        except OSError as exc:
            if exc.errno in _RESOURCE_ERRORS:
                log.warning("accept on port %d failed: %s", sock.getsockname()[1], exc)
                await asyncio.sleep(ACCEPT_PAUSE_S)
            continue
        conn.setblocking(False)
        on_accept(conn)
