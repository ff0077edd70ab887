"""Client addresses: one canonical text per address, subnets for caps, CIDR sets for allow and trust lists."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(text: str) -> IpAddress | None:
    """The address, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) read as the IPv4 it carries; None if not one."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def canonical_ip(text: str) -> str:
    """The one text form bans, caps and rate limits key on (the text itself if it is not an address)."""
    address = parse_ip(text)
    return text if address is None else str(address)


def subnet_of(ip: str, ipv4_prefix: int, ipv6_prefix: int) -> str:
    """The subnet an address belongs to for the per-subnet cap, e.g. `203.0.113.0/24`."""
    address = parse_ip(ip)
    if address is None:
        return ip
    prefix = ipv4_prefix if address.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def is_loopback(ip: str) -> bool:
    address = parse_ip(ip)
    return address is not None and address.is_loopback


class NetworkSet:
    """A fixed set of networks, from CIDR texts (a bare address is a /32 or /128)."""

    def __init__(self, cidrs: Iterable[str]) -> None:
        self._networks: tuple[IpNetwork, ...] = tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def __contains__(self, ip: object) -> bool:
        if not self._networks or not isinstance(ip, str):
            return False
        address = parse_ip(ip)
        return address is not None and any(
            address.version == network.version and address in network for network in self._networks
        )
