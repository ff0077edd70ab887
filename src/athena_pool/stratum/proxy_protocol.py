"""The PROXY protocol (HAProxy), v1 text and v2 binary: bytes in, the real client address out (pure).

Spec: https://www.haproxy.org/download/2.4/doc/proxy-protocol.txt (other-pools.md section 9).

    v1: "PROXY TCP4 203.0.113.7 198.51.100.2 51234 3333\\r\\n", "PROXY TCP6 ...", "PROXY UNKNOWN ...\\r\\n";
        at most 107 bytes with the CRLF.
    v2: the 12-byte signature, version/command (0x20 LOCAL, 0x21 PROXY), family/transport (0x11 TCP over
        IPv4, 0x21 TCP over IPv6), a big-endian length, the addresses, then TLVs (SSL, CRC32C, ...).

`header_length` says how many bytes the header at the start of a buffer takes (or that more are needed);
`parse` reads exactly one complete header. Both raise `ProxyHeaderError` for anything malformed, and nothing
else, whatever the bytes (the fuzz tests hold them to that). LOCAL (a balancer's health check) and UNKNOWN
carry no client: the connection's own peer is the client then.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from dataclasses import dataclass
from typing import Final

V1_PREFIX: Final = b"PROXY "
V1_MAX_LENGTH: Final = 107
V2_SIGNATURE: Final = b"\r\n\r\n\x00\r\nQUIT\n"
V2_FIXED_LENGTH: Final = 16
V2_MAX_PAYLOAD: Final = 4096  # addresses and TLVs; real balancers send a few hundred bytes at most

_V2_VERSION = 0x2
_V2_LOCAL = 0x0
_V2_PROXY = 0x1
_AF_UNSPEC, _AF_INET, _AF_INET6, _AF_UNIX = 0x0, 0x1, 0x2, 0x3
_STREAM = 0x1
_ADDRESS_LENGTHS = {_AF_INET: 12, _AF_INET6: 36, _AF_UNIX: 216}

PP2_TYPE_CRC32C: Final = 0x03
PP2_TYPE_SSL: Final = 0x20
PP2_SUBTYPE_SSL_VERSION: Final = 0x21
PP2_SUBTYPE_SSL_CN: Final = 0x22
PP2_CLIENT_SSL: Final = 0x01
_SSL_FIXED = 5  # client flags (1) + verify result (4)
_MAX_TEXT = 255


class ProxyHeaderError(ValueError):
    """Not a well-formed PROXY header; the connection is closed."""


class Detected(enum.Enum):
    NONE = "none"  # the stream does not start with a PROXY header
    V1 = "v1"
    V2 = "v2"
    MORE = "more"  # too few bytes to tell


@dataclass(frozen=True, slots=True)
class SslInfo:
    """The v2 SSL TLV: the client spoke TLS to the balancer, which terminated it."""

    client_ssl: bool
    client_cert_verified: bool
    version: str | None
    common_name: str | None


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    version: int
    source: tuple[str, int] | None  # the client; None for LOCAL / UNKNOWN / unspecified families
    destination: tuple[str, int] | None  # what the client connected to, on the balancer
    ssl: SslInfo | None
    length: int  # bytes the header took

    @property
    def local(self) -> bool:
        return self.source is None


def detect(data: bytes) -> Detected:
    for prefix, kind in ((V1_PREFIX, Detected.V1), (V2_SIGNATURE, Detected.V2)):
        if data.startswith(prefix):
            return kind
        if prefix.startswith(data[: len(prefix)]) and len(data) < len(prefix):
            return Detected.MORE
    return Detected.NONE


def header_length(data: bytes) -> int | None:
    """Bytes of the header at the start of `data`, or None while they are not all known yet."""
    kind = detect(data)
    if kind is Detected.MORE:
        return None
    if kind is Detected.V1:
        end = data.find(b"\r\n", 0, V1_MAX_LENGTH)
        if end == -1:
            if len(data) >= V1_MAX_LENGTH:
                raise ProxyHeaderError("PROXY v1 header without CRLF within 107 bytes")
            return None
        return end + 2
    if kind is Detected.V2:
        if len(data) < V2_FIXED_LENGTH:
            return None
        payload: int = struct.unpack_from("!H", data, 14)[0]
        if payload > V2_MAX_PAYLOAD:
            raise ProxyHeaderError(f"PROXY v2 header of {payload} bytes is longer than {V2_MAX_PAYLOAD}")
        return V2_FIXED_LENGTH + payload
    raise ProxyHeaderError("no PROXY header")


def parse(data: bytes) -> ProxyHeader:
    """Exactly one complete header (as long as `header_length` says)."""
    length = header_length(data)
    if length is None or length != len(data):
        raise ProxyHeaderError("incomplete PROXY header")
    if detect(data) is Detected.V1:
        return _parse_v1(data)
    return _parse_v2(data)


# --- v1 -----------------------------------------------------------------------------------------------------


def _parse_v1(data: bytes) -> ProxyHeader:
    try:
        line = data[:-2].decode("ascii")
    except UnicodeDecodeError:
        raise ProxyHeaderError("PROXY v1 header is not ASCII") from None
    parts = line.split(" ")
    if len(parts) >= 2 and parts[1] == "UNKNOWN":
        return ProxyHeader(1, None, None, None, len(data))
    if len(parts) != 6:
        raise ProxyHeaderError("PROXY v1 header needs: PROXY TCP4|TCP6 source destination sport dport")
    _, family, source, destination, source_port, destination_port = parts
    if family not in ("TCP4", "TCP6"):
        raise ProxyHeaderError(f"PROXY v1 protocol {family[:8]!r} is neither TCP4, TCP6 nor UNKNOWN")
    version = 4 if family == "TCP4" else 6
    return ProxyHeader(
        1,
        (_v1_address(source, version), _v1_port(source_port)),
        (_v1_address(destination, version), _v1_port(destination_port)),
        None,
        len(data),
    )


def _v1_address(text: str, version: int) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ProxyHeaderError(f"PROXY v1 address {text[:45]!r} is not an IP address") from None
    if address.version != version:
        raise ProxyHeaderError(f"PROXY v1 address {text!r} is not IPv{version}")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _v1_port(text: str) -> int:
    if not text.isdigit() or not text.isascii() or len(text) > 5 or (len(text) > 1 and text[0] == "0"):
        raise ProxyHeaderError(f"PROXY v1 port {text[:8]!r} is not a port number")
    port = int(text)
    if port > 65535:
        raise ProxyHeaderError(f"PROXY v1 port {port} is not a port number")
    return port


# --- v2 -----------------------------------------------------------------------------------------------------


def _parse_v2(data: bytes) -> ProxyHeader:
    version_command, family_transport = data[12], data[13]
    if version_command >> 4 != _V2_VERSION:
        raise ProxyHeaderError(f"PROXY v2 version nibble {version_command >> 4} is not 2")
    command = version_command & 0x0F
    if command not in (_V2_LOCAL, _V2_PROXY):
        raise ProxyHeaderError(f"PROXY v2 command {command} is neither LOCAL nor PROXY")
    if command == _V2_LOCAL:
        # A balancer's own connection (health check): the spec says to discard the rest of the block.
        return ProxyHeader(2, None, None, None, len(data))
    family, transport = family_transport >> 4, family_transport & 0x0F
    if family not in (_AF_UNSPEC, *_ADDRESS_LENGTHS):
        raise ProxyHeaderError(f"PROXY v2 address family {family} is unknown")
    address_length = _ADDRESS_LENGTHS.get(family, 0)
    payload = data[V2_FIXED_LENGTH:]
    if len(payload) < address_length:
        raise ProxyHeaderError("PROXY v2 header too short for its addresses")
    ssl = _read_tlvs(data, V2_FIXED_LENGTH + address_length)
    source = destination = None
    if command == _V2_PROXY and transport == _STREAM and family in (_AF_INET, _AF_INET6):
        source, destination = _v2_addresses(payload, family)
    return ProxyHeader(2, source, destination, ssl, len(data))


def _v2_addresses(payload: bytes, family: int) -> tuple[tuple[str, int], tuple[str, int]]:
    size = 4 if family == _AF_INET else 16
    source = ipaddress.ip_address(payload[:size])
    destination = ipaddress.ip_address(payload[size : 2 * size])
    source_port, destination_port = struct.unpack_from("!HH", payload, 2 * size)
    return (_plain(source), source_port), (_plain(destination), destination_port)


def _plain(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _tlvs(data: bytes, start: int, end: int, what: str) -> list[tuple[int, int, int]]:
    """(type, value start, value end) of each TLV in data[start:end]."""
    found = []
    at = start
    while at < end:
        if end - at < 3:
            raise ProxyHeaderError(f"PROXY v2 {what} truncated")
        kind = data[at]
        (length,) = struct.unpack_from("!H", data, at + 1)
        if at + 3 + length > end:
            raise ProxyHeaderError(f"PROXY v2 {what} of type 0x{kind:02x} runs past the header")
        found.append((kind, at + 3, at + 3 + length))
        at += 3 + length
    return found


def _read_tlvs(data: bytes, start: int) -> SslInfo | None:
    ssl = None
    for kind, value_start, value_end in _tlvs(data, start, len(data), "TLV"):
        if kind == PP2_TYPE_CRC32C:
            _check_crc(data, value_start, value_end)
        elif kind == PP2_TYPE_SSL:
            ssl = _read_ssl(data, value_start, value_end)
    return ssl


def _check_crc(data: bytes, start: int, end: int) -> None:
    if end - start != 4:
        raise ProxyHeaderError("PROXY v2 CRC32C TLV must hold 4 bytes")
    zeroed = data[:start] + bytes(4) + data[end:]
    if crc32c(zeroed) != int.from_bytes(data[start:end], "big"):
        raise ProxyHeaderError("PROXY v2 header fails its CRC32C")


def _read_ssl(data: bytes, start: int, end: int) -> SslInfo:
    if end - start < _SSL_FIXED:
        raise ProxyHeaderError("PROXY v2 SSL TLV shorter than its fixed part")
    client = data[start]
    (verify,) = struct.unpack_from("!I", data, start + 1)
    version = common_name = None
    for kind, value_start, value_end in _tlvs(data, start + _SSL_FIXED, end, "SSL sub-TLV"):
        if kind == PP2_SUBTYPE_SSL_VERSION:
            version = _text(data[value_start:value_end])
        elif kind == PP2_SUBTYPE_SSL_CN:
            common_name = _text(data[value_start:value_end])
    return SslInfo(bool(client & PP2_CLIENT_SSL), verify == 0, version, common_name)


def _text(value: bytes) -> str:
    text = value[:_MAX_TEXT].decode("utf-8", errors="replace")
    return "".join(char if char.isprintable() else "?" for char in text)


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), bitwise: only PROXY headers that carry the TLV are checked, a few per second."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


# --- building headers (tests, the load harness) -------------------------------------------------------------


def _same_family(
    source: str, destination: str
) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Both addresses in the source's family (an IPv4 destination of an IPv6 client is IPv4-mapped)."""
    src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
    if src.version == 6 and dst.version == 4:
        dst = ipaddress.IPv6Address(f"::ffff:{dst}")
    if src.version == 4 and dst.version == 6:
        raise ValueError("an IPv4 client cannot have reached an IPv6 destination")
    return src, dst


def v1_header(source: tuple[str, int], destination: tuple[str, int]) -> bytes:
    src, dst = _same_family(source[0], destination[0])
    family = "TCP4" if src.version == 4 else "TCP6"
    text = f"PROXY {family} {src} {dst} {source[1]} {destination[1]}\r\n"
    return text.encode("ascii")


def v2_header(
    source: tuple[str, int] | None,
    destination: tuple[str, int] | None = None,
    *,
    tlvs: bytes = b"",
) -> bytes:
    """A v2 header; `source` None makes a LOCAL one (a health check)."""
    if source is None:
        return V2_SIGNATURE + bytes([0x20, 0x00]) + struct.pack("!H", len(tlvs)) + tlvs
    destination = destination or ("0.0.0.0", 0)
    src, dst = _same_family(source[0], destination[0])
    family = 0x11 if src.version == 4 else 0x21
    addresses = src.packed + dst.packed + struct.pack("!HH", source[1], destination[1])
    payload = addresses + tlvs
    return V2_SIGNATURE + bytes([0x21, family]) + struct.pack("!H", len(payload)) + payload


def ssl_tlv(version: str = "TLSv1.3", *, client_ssl: bool = True) -> bytes:
    sub = bytes([PP2_SUBTYPE_SSL_VERSION]) + struct.pack("!H", len(version)) + version.encode()
    value = bytes([PP2_CLIENT_SSL if client_ssl else 0]) + struct.pack("!I", 0) + sub
    return bytes([PP2_TYPE_SSL]) + struct.pack("!H", len(value)) + value
