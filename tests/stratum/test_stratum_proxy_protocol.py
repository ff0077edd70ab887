"""The PROXY protocol parser: the spec's examples, every refusal, and hypothesis fuzzing (random bytes, random
valid headers, every truncation of one) that may only ever raise ProxyHeaderError."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from athena_pool.stratum import proxy_protocol as pp
from athena_pool.stratum.proxy_protocol import Detected, ProxyHeaderError


def test_v1_tcp4_from_the_spec() -> None:
    raw = b"PROXY TCP4 203.0.113.7 198.51.100.2 51234 3333\r\n"
    assert pp.header_length(raw + b'{"id":1}\n') == len(raw)
    header = pp.parse(raw)
    assert header.version == 1
    assert header.source == ("203.0.113.7", 51234)
    assert header.destination == ("198.51.100.2", 3333)
    assert header.ssl is None and not header.local


def test_v1_tcp6_and_ipv4_mapped_sources() -> None:
    header = pp.parse(b"PROXY TCP6 2001:db8::7 2001:db8::1 4000 443\r\n")
    assert header.source == ("2001:db8::7", 4000)
    mapped = pp.parse(b"PROXY TCP6 ::ffff:203.0.113.9 ::1 4000 443\r\n")
    assert mapped.source == ("203.0.113.9", 4000)


@pytest.mark.parametrize("raw", [b"PROXY UNKNOWN\r\n", b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"])
def test_v1_unknown_means_use_the_peer(raw: bytes) -> None:
    header = pp.parse(raw)
    assert header.local and header.source is None


@pytest.mark.parametrize(
    "raw",
    [
        b"PROXY TCP4 203.0.113.7 198.51.100.2 51234\r\n",  # a field missing
        b"PROXY TCP4  203.0.113.7 198.51.100.2 51234 3333\r\n",  # double space
        b"PROXY UDP4 203.0.113.7 198.51.100.2 51234 3333\r\n",
        b"PROXY TCP4 2001:db8::1 198.51.100.2 51234 3333\r\n",  # v6 address in TCP4
        b"PROXY TCP6 203.0.113.7 2001:db8::1 51234 3333\r\n",
        b"PROXY TCP4 203.0.113.07 198.51.100.2 51234 3333\r\n",  # leading zero in an octet
        b"PROXY TCP4 203.0.113.7 198.51.100.2 65536 3333\r\n",
        b"PROXY TCP4 203.0.113.7 198.51.100.2 0123 3333\r\n",
        b"PROXY TCP4 203.0.113.7 198.51.100.2 -1 3333\r\n",
        b"PROXY TCP4 203.0.113.7 198.51.100.2 \xb2 3333\r\n",
        b"PROXY TCP4 example.com 198.51.100.2 1 3333\r\n",
    ],
)
def test_v1_refusals(raw: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        pp.parse(raw)


def test_v1_without_crlf_within_107_bytes_is_refused() -> None:
    assert pp.header_length(b"PROXY TCP4 1.2.3.4") is None  # still coming
    with pytest.raises(ProxyHeaderError):
        pp.header_length(b"PROXY " + b"x" * 200)


def test_v2_tcp4_tcp6_and_lengths() -> None:
    raw = pp.v2_header(("203.0.113.7", 51234), ("198.51.100.2", 3333))
    assert raw.startswith(pp.V2_SIGNATURE) and raw[12:14] == b"\x21\x11"
    assert pp.header_length(raw[:15]) is None
    assert pp.header_length(raw + b"tail") == len(raw) == 16 + 12
    header = pp.parse(raw)
    assert (header.version, header.source, header.destination) == (
        2,
        ("203.0.113.7", 51234),
        ("198.51.100.2", 3333),
    )
    six = pp.parse(pp.v2_header(("2001:db8::7", 1), ("2001:db8::1", 2)))
    assert six.source == ("2001:db8::7", 1) and six.destination == ("2001:db8::1", 2)


def test_v2_local_is_a_health_check() -> None:
    header = pp.parse(pp.v2_header(None))
    assert header.local and header.destination is None
    # LOCAL discards whatever the block holds, even an odd family.
    odd = pp.V2_SIGNATURE + bytes([0x20, 0x31]) + struct.pack("!H", 3) + b"abc"
    assert pp.parse(odd).local


def test_v2_ssl_tlv_says_tls_was_terminated_upstream() -> None:
    header = pp.parse(pp.v2_header(("203.0.113.7", 1), ("198.51.100.2", 3333), tlvs=pp.ssl_tlv("TLSv1.3")))
    assert header.ssl is not None
    assert header.ssl.client_ssl and header.ssl.client_cert_verified and header.ssl.version == "TLSv1.3"
    plain = pp.parse(pp.v2_header(("203.0.113.7", 1), tlvs=pp.ssl_tlv(client_ssl=False)))
    assert plain.ssl is not None and not plain.ssl.client_ssl


def _with_crc(source: tuple[str, int], good: bool) -> bytes:
    tlv_zero = bytes([pp.PP2_TYPE_CRC32C]) + struct.pack("!H", 4) + bytes(4)
    raw = pp.v2_header(source, tlvs=tlv_zero)
    crc = pp.crc32c(raw) ^ (0 if good else 1)
    return raw[:-4] + crc.to_bytes(4, "big")


def test_v2_crc32c_is_checked() -> None:
    assert pp.crc32c(b"123456789") == 0xE3069283  # the standard check value
    assert pp.parse(_with_crc(("203.0.113.7", 1), good=True)).source == ("203.0.113.7", 1)
    with pytest.raises(ProxyHeaderError, match="CRC32C"):
        pp.parse(_with_crc(("203.0.113.7", 1), good=False))


@pytest.mark.parametrize(
    "raw",
    [
        pp.V2_SIGNATURE + bytes([0x11, 0x11]) + struct.pack("!H", 12) + bytes(12),  # version 1
        pp.V2_SIGNATURE + bytes([0x22, 0x11]) + struct.pack("!H", 12) + bytes(12),  # command 2
        pp.V2_SIGNATURE + bytes([0x21, 0x51]) + struct.pack("!H", 12) + bytes(12),  # family 5
        pp.V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", 8) + bytes(8),  # too short for TCP4
        pp.V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", 14) + bytes(12) + b"\x20\x00",  # TLV cut
        pp.v2_header(
            ("203.0.113.7", 1), tlvs=bytes([0x20]) + struct.pack("!H", 2) + b"\x01\x00"
        ),  # SSL short
        pp.v2_header(("203.0.113.7", 1), tlvs=bytes([0x05]) + struct.pack("!H", 9) + b"abc"),  # runs past
    ],
)
def test_v2_refusals(raw: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        pp.parse(raw)


def test_v2_length_is_bounded() -> None:
    with pytest.raises(ProxyHeaderError):
        pp.header_length(pp.V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", 60000))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", Detected.MORE),
        (b"PRO", Detected.MORE),
        (b"\r\n\r\n\x00", Detected.MORE),
        (b"PROXY ", Detected.V1),
        (pp.V2_SIGNATURE, Detected.V2),
        (b'{"id":1}', Detected.NONE),
        (b"\x16\x03\x01", Detected.NONE),
        (b"PROXX", Detected.NONE),
        (b"GET / HTTP/1.1", Detected.NONE),
    ],
)
def test_detect(data: bytes, kind: Detected) -> None:
    assert pp.detect(data) is kind


# --- fuzzing ------------------------------------------------------------------------------------------------


def _only_proxy_errors(data: bytes) -> None:
    try:
        length = pp.header_length(data)
        if length is not None and length <= len(data):
            pp.parse(data[:length])
    except ProxyHeaderError:
        pass


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_proxy_header_error(data: bytes) -> None:
    _only_proxy_errors(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_after_a_signature_only_raise_proxy_header_error(tail: bytes) -> None:
    _only_proxy_errors(pp.V2_SIGNATURE + tail)
    _only_proxy_errors(pp.V1_PREFIX + tail)


_ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
_ipv6 = st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n)))
_port = st.integers(0, 65535)


def _expected(address: str) -> str:
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.tuples(_ipv4, _ipv4), st.tuples(_ipv6, _ipv6)), _port, _port, st.booleans())
def test_generated_headers_parse_back(
    addresses: tuple[str, str], source_port: int, destination_port: int, version_two: bool
) -> None:
    source, destination = (addresses[0], source_port), (addresses[1], destination_port)
    raw = pp.v2_header(source, destination) if version_two else pp.v1_header(source, destination)
    header = pp.parse(raw)
    assert header.source == (_expected(addresses[0]), source_port)
    assert header.destination == (_expected(addresses[1]), destination_port)
    # Every truncation is "more needed" or an error, never a wrong answer or another exception.
    for cut in range(len(raw)):
        try:
            length = pp.header_length(raw[:cut])
        except ProxyHeaderError:
            continue
        assert length is None or length == len(raw)
        with pytest.raises(ProxyHeaderError):
            pp.parse(raw[:cut])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=40)), max_size=6))
def test_random_tlvs_only_raise_proxy_header_error(tlvs: list[tuple[int, bytes]]) -> None:
    encoded = b"".join(bytes([kind]) + struct.pack("!H", len(value)) + value for kind, value in tlvs)
    _only_proxy_errors(pp.v2_header(("203.0.113.7", 1), tlvs=encoded))
