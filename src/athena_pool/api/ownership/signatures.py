"""CryptoNote message signatures, as `monero-wallet-rpc sign` makes them and `wallet2::verify` checks them.

A signature is `(c, r)`, two scalars, over a 32-byte message hash `h` with a key pair `(s, S = s*G)`:
`c = Hs(h || S || k*G)` and `r = k - c*s` for a random `k` (`crypto::generate_signature`). It verifies when
`Hs(h || S || c*S + r*G) == c` (`crypto::check_signature`). Hs is Keccak-256 reduced modulo L.

The text form is `SigV1` or `SigV2` followed by the 64 bytes in CryptoNote base58:

* V1: `h = Keccak(message)`, signed with the spend key (old Monero wallets);
* V2: `h = Keccak("MoneroMessageSignature\\0" || spend public key || view public key || mode ||
  varint(len(message)) || message)`, mode 0 for the spend key, 1 for the view key (Monero since 0.18).

A bare 128-hex-character signature is also accepted: the raw `(c, r)` over `Keccak(message)` (what generic
CryptoNote tools produce), checked against the spend key and then the view key. Every form proves that
the signer holds a secret key of the address, which an attacker who only knows the address cannot.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass

from athena_pool.api.ownership import curve
from athena_pool.coins import base58
from athena_pool.coins.hashing import cn_fast_hash
from athena_pool.coins.varint import encode_varint

V2_DOMAIN = b"MoneroMessageSignature\x00"
SIGNATURE_SIZE = 64
MAX_SIGNATURE_CHARS = 200


class SignatureError(ValueError):
    """The signature text is malformed (not merely wrong)."""


class KeyUsed(enum.StrEnum):
    SPEND = "spend"
    VIEW = "view"


@dataclass(frozen=True)
class Verified:
    key: KeyUsed
    form: str  # "SigV1", "SigV2" or "hex"


def message_hash_v2(message: bytes, spend_public: bytes, view_public: bytes, key: KeyUsed) -> bytes:
    mode = b"\x00" if key is KeyUsed.SPEND else b"\x01"
    return cn_fast_hash(V2_DOMAIN + spend_public + view_public + mode + encode_varint(len(message)) + message)


def check_signature(message_hash: bytes, public_key: bytes, signature: bytes) -> bool:
    """`crypto::check_signature`."""
    point = curve.decode(public_key)
    c, r = curve.scalar(signature[:32]), curve.scalar(signature[32:])
    if point is None or c is None or r is None or c == 0 or len(signature) != SIGNATURE_SIZE:
        return False
    commitment = curve.encode(curve.add(curve.multiply(c, point), curve.multiply(r, curve.BASE)))
    if commitment == curve.IDENTITY_BYTES:
        return False
    return _hash_to_scalar(message_hash + public_key + commitment) == c


def generate_signature(message_hash: bytes, public_key: bytes, secret_key: bytes) -> bytes:
    """`crypto::generate_signature` (tests and the offline signer only)."""
    secret = int.from_bytes(secret_key, "little") % curve.L
    k = secrets.randbelow(curve.L - 1) + 1
    commitment = curve.encode(curve.multiply(k, curve.BASE))
    c = _hash_to_scalar(message_hash + public_key + commitment)
    return curve.scalar_bytes(c) + curve.scalar_bytes(k - c * secret)


def public_key(secret_key: bytes) -> bytes:
    return curve.encode(curve.multiply(int.from_bytes(secret_key, "little") % curve.L, curve.BASE))


def verify_message(text: str, message: bytes, spend_public: bytes, view_public: bytes) -> Verified | None:
    """Which key of the address signed `message`, or None if the signature does not verify.

    Raises SignatureError when `text` is not a signature at all."""
    form, signature = parse_signature(text)
    if form == "SigV2":
        for key, public in ((KeyUsed.SPEND, spend_public), (KeyUsed.VIEW, view_public)):
            if check_signature(message_hash_v2(message, spend_public, view_public, key), public, signature):
                return Verified(key, form)
        return None
    digest = cn_fast_hash(message)
    if check_signature(digest, spend_public, signature):
        return Verified(KeyUsed.SPEND, form)
    if form == "hex" and check_signature(digest, view_public, signature):
        return Verified(KeyUsed.VIEW, form)
    return None


def sign_message_v2(
    message: bytes, spend_public: bytes, view_public: bytes, secret_key: bytes, key: KeyUsed = KeyUsed.SPEND
) -> str:
    """A `SigV2` signature, as `monero-wallet-rpc sign` makes it with `signature_type` spend or view."""
    public = spend_public if key is KeyUsed.SPEND else view_public
    if public_key(secret_key) != public:
        raise ValueError(f"the secret key does not belong to the address's {key.value} key")
    digest = message_hash_v2(message, spend_public, view_public, key)
    return "SigV2" + base58.encode(generate_signature(digest, public, secret_key))


def parse_signature(text: str) -> tuple[str, bytes]:
    text = text.strip()
    if len(text) > MAX_SIGNATURE_CHARS:
        raise SignatureError("the signature is too long")
    if text[:5] in ("SigV1", "SigV2"):
        try:
            raw = base58.decode(text[5:])
        except base58.Base58Error as exc:
            raise SignatureError(f"the signature is not valid base58: {exc}") from None
        form = text[:5]
    else:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise SignatureError("expected SigV1..., SigV2... or 128 hex characters") from None
        form = "hex"
    if len(raw) != SIGNATURE_SIZE:
        raise SignatureError(f"a signature holds {SIGNATURE_SIZE} bytes, this one {len(raw)}")
    return form, raw


def _hash_to_scalar(data: bytes) -> int:
    return int.from_bytes(cn_fast_hash(data), "little") % curve.L
