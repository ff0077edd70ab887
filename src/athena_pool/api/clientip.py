"""The client's IP: the TCP peer, or what X-Forwarded-For says when (and only when) the peer is a
configured trusted proxy. Nothing is trusted by default, and loopback is not special: a request from
127.0.0.1 gets no favours (the reference pool's admin bypass)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_FORWARDED_HOPS = 16


class TrustedProxies:
    def __init__(self, cidrs: Sequence[str]) -> None:
        self._networks: tuple[IpNetwork, ...] = tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)

    def trusts(self, ip: str) -> bool:
        address = _parse(ip)
        return address is not None and any(address in network for network in self._networks)

    def client_ip(self, peer: str, forwarded_for: str | None) -> str:
        """Walks X-Forwarded-For from the right while the hop is trusted; the first untrusted one is the
        client. A malformed entry stops the walk at the last trusted hop."""
        client = peer
        if not forwarded_for or not self.trusts(peer):
            return client
        hops = [hop.strip() for hop in forwarded_for.split(",")][-MAX_FORWARDED_HOPS:]
        for hop in reversed(hops):
            if _parse(hop) is None:
                break
            client = hop
            if not self.trusts(hop):
                break
        return client


def peer_ip(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return "unknown"


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
