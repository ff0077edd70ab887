"""CryptoNote addresses: varint(prefix) || body || first 4 bytes of H(prefix || body), in base58.

Two integrated-address layouts exist. Monero gives them their own prefix and appends an 8-byte payment
id after the keys. TurtleCoin (and forks such as Athena) keep the standard prefix and put the payment id,
as 64 ASCII hex characters, in front of the keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from athena_pool.coins import base58
from athena_pool.coins.ed25519 import KEY_SIZE, is_valid_point
from athena_pool.coins.errors import BlobError
from athena_pool.coins.hashing import cn_fast_hash
from athena_pool.coins.varint import decode_varint, encode_varint

CHECKSUM_SIZE = 4
MONERO_PAYMENT_ID_SIZE = 8
TURTLE_PAYMENT_ID_CHARS = 64
KEYS_SIZE = 2 * KEY_SIZE


class AddressError(ValueError):
    """An address that cannot be used on this network, with the precise reason."""


class UnknownNetworkError(LookupError, ValueError):
    """No address network has that name (a ValueError too, so input validation catches it)."""


class AddressKind(Enum):
    STANDARD = "standard"
    INTEGRATED = "integrated"
    SUBADDRESS = "subaddress"


class IntegratedStyle(Enum):
    MONERO = "monero"
    TURTLE = "turtle"


@dataclass(frozen=True)
class AddressNetwork:
    name: str
    label: str
    standard_prefix: int
    integrated_prefix: int | None
    subaddress_prefix: int | None
    integrated_style: IntegratedStyle

    def kinds_for_prefix(self, prefix: int) -> tuple[AddressKind, ...]:
        prefixes = {
            AddressKind.STANDARD: self.standard_prefix,
            AddressKind.INTEGRATED: self.integrated_prefix,
            AddressKind.SUBADDRESS: self.subaddress_prefix,
        }
        return tuple(kind for kind, value in prefixes.items() if value == prefix)


NETWORKS: tuple[AddressNetwork, ...] = (
    AddressNetwork("athena", "Athena", 6581243850, 6581243850, None, IntegratedStyle.TURTLE),
    AddressNetwork("turtlecoin", "TurtleCoin", 3914525, 3914525, None, IntegratedStyle.TURTLE),
    AddressNetwork("monero", "Monero", 18, 19, 42, IntegratedStyle.MONERO),
    AddressNetwork("monero_testnet", "Monero testnet", 53, 54, 63, IntegratedStyle.MONERO),
    AddressNetwork("monero_stagenet", "Monero stagenet", 24, 25, 36, IntegratedStyle.MONERO),
)


@dataclass(frozen=True)
class Address:
    network: str
    kind: AddressKind
    prefix: int
    public_spend_key: bytes
    public_view_key: bytes
    payment_id_hex: str | None = None


def get_network(name: str) -> AddressNetwork:
    for network in NETWORKS:
        if network.name == name:
            return network
    known = ", ".join(network.name for network in NETWORKS)
    raise UnknownNetworkError(f"unknown address network {name!r}; known networks: {known}")


def _as_network(network: AddressNetwork | str) -> AddressNetwork:
    return get_network(network) if isinstance(network, str) else network


def _checksum(data: bytes) -> bytes:
    return cn_fast_hash(data)[:CHECKSUM_SIZE]


def _with_article(label: str) -> str:
    return f"{'an' if label[0].lower() in 'aeiou' else 'a'} {label}"


def _wrong_prefix_message(prefix: int, network: AddressNetwork) -> str:
    for other in NETWORKS:
        if other.kinds_for_prefix(prefix):
            this_coin, wanted = _with_article(other.label), _with_article(network.label)
            return f"wrong prefix {prefix}: this is {this_coin} address, not {wanted} one"
    return f"unknown address prefix {prefix}: not {_with_article(network.label)} address"


def _split(raw: bytes) -> tuple[int, bytes]:
    """Check the checksum and return (prefix, body)."""
    try:
        prefix, body_start = decode_varint(raw)
    except BlobError:
        raise AddressError("bad length: the address is too short to hold a prefix") from None
    if len(raw) < body_start + CHECKSUM_SIZE:
        raise AddressError("bad length: the address is too short to hold a checksum")
    if _checksum(raw[:-CHECKSUM_SIZE]) != raw[-CHECKSUM_SIZE:]:
        raise AddressError("bad checksum: the address is mistyped or truncated")
    return prefix, raw[body_start:-CHECKSUM_SIZE]


def _expected_body_size(kind: AddressKind, style: IntegratedStyle) -> int:
    if kind is not AddressKind.INTEGRATED:
        return KEYS_SIZE
    if style is IntegratedStyle.MONERO:
        return KEYS_SIZE + MONERO_PAYMENT_ID_SIZE
    return TURTLE_PAYMENT_ID_CHARS + KEYS_SIZE


def _resolve_kind(kinds: tuple[AddressKind, ...], body: bytes, network: AddressNetwork) -> AddressKind:
    # A TurtleCoin-style prefix is both standard and integrated; only the body length tells them apart.
    for kind in kinds:
        if len(body) == _expected_body_size(kind, network.integrated_style):
            return kind
    sizes = " or ".join(str(_expected_body_size(kind, network.integrated_style)) for kind in kinds)
    raise AddressError(
        f"bad length: {network.label} addresses with this prefix hold {sizes} bytes, not {len(body)}"
    )


def _turtle_payment_id(text_bytes: bytes) -> str:
    try:
        payment_id = text_bytes.decode("ascii")
        bytes.fromhex(payment_id)
    except ValueError:
        raise AddressError("bad payment id: an integrated address must embed 64 hex characters") from None
    return payment_id.lower()


def _split_body(body: bytes, kind: AddressKind, style: IntegratedStyle) -> tuple[bytes, bytes, str | None]:
    if kind is not AddressKind.INTEGRATED:
        return body[:KEY_SIZE], body[KEY_SIZE:], None
    if style is IntegratedStyle.MONERO:
        return body[:KEY_SIZE], body[KEY_SIZE:KEYS_SIZE], body[KEYS_SIZE:].hex()
    keys = body[TURTLE_PAYMENT_ID_CHARS:]
    return keys[:KEY_SIZE], keys[KEY_SIZE:], _turtle_payment_id(body[:TURTLE_PAYMENT_ID_CHARS])


def _check_keys(spend_key: bytes, view_key: bytes) -> None:
    if not is_valid_point(spend_key):
        raise AddressError("public spend key is not a valid curve point")
    if not is_valid_point(view_key):
        raise AddressError("public view key is not a valid curve point")


def decode_address(text: str, network: AddressNetwork | str, *, check_keys: bool = True) -> Address:
    """Decode and validate `text` for `network` (a network or its name, e.g. "athena")."""
    network = _as_network(network)
    try:
        raw = base58.decode(text)
    except base58.Base58Error as error:
        raise AddressError(str(error)) from None
    prefix, body = _split(raw)
    kinds = network.kinds_for_prefix(prefix)
    if not kinds:
        raise AddressError(_wrong_prefix_message(prefix, network))
    kind = _resolve_kind(kinds, body, network)
    spend_key, view_key, payment_id_hex = _split_body(body, kind, network.integrated_style)
    if check_keys:
        _check_keys(spend_key, view_key)
    return Address(network.name, kind, prefix, spend_key, view_key, payment_id_hex)


def _prefix_for(network: AddressNetwork, kind: AddressKind) -> int:
    prefix = {
        AddressKind.STANDARD: network.standard_prefix,
        AddressKind.INTEGRATED: network.integrated_prefix,
        AddressKind.SUBADDRESS: network.subaddress_prefix,
    }[kind]
    if prefix is None:
        raise AddressError(f"{network.label} has no {kind.value} addresses")
    return prefix


def _payment_id_bytes(payment_id_hex: str, style: IntegratedStyle) -> bytes:
    is_monero = style is IntegratedStyle.MONERO
    expected_chars = 2 * MONERO_PAYMENT_ID_SIZE if is_monero else TURTLE_PAYMENT_ID_CHARS
    try:
        payment_id = bytes.fromhex(payment_id_hex)
    except ValueError:
        raise AddressError(f"payment id {payment_id_hex!r} is not hex") from None
    if len(payment_id_hex) != expected_chars:
        raise AddressError(f"payment id must be {expected_chars} hex characters, got {len(payment_id_hex)}")
    return payment_id if is_monero else payment_id_hex.lower().encode("ascii")


def _body(keys: bytes, kind: AddressKind, style: IntegratedStyle, payment_id_hex: str | None) -> bytes:
    if kind is not AddressKind.INTEGRATED:
        return keys
    if payment_id_hex is None:
        raise AddressError("an integrated address needs a payment id")
    payment_id = _payment_id_bytes(payment_id_hex, style)
    return keys + payment_id if style is IntegratedStyle.MONERO else payment_id + keys


def encode_address(
    network: AddressNetwork | str,
    public_spend_key: bytes,
    public_view_key: bytes,
    *,
    kind: AddressKind = AddressKind.STANDARD,
    payment_id_hex: str | None = None,
) -> str:
    network = _as_network(network)
    if len(public_spend_key) != KEY_SIZE or len(public_view_key) != KEY_SIZE:
        raise AddressError(f"public keys must be {KEY_SIZE} bytes each")
    body = _body(public_spend_key + public_view_key, kind, network.integrated_style, payment_id_hex)
    payload = encode_varint(_prefix_for(network, kind)) + body
    return base58.encode(payload + _checksum(payload))


def describe_address(text: str, network: AddressNetwork | str) -> dict[str, str | int | None]:
    """A JSON-ready summary for the operator CLI; raises AddressError with the reason when invalid.

    Network names equal the coin names ("athena", "turtlecoin", "monero"), plus the Monero test networks.
    """
    address = decode_address(text, network)
    return {
        "network": address.network,
        "kind": address.kind.value,
        "prefix": address.prefix,
        "public_spend_key": address.public_spend_key.hex(),
        "public_view_key": address.public_view_key.hex(),
        "payment_id": address.payment_id_hex,
    }
