"""Ed25519 point decompression, enough to tell whether 32 bytes are a valid public key.

A CryptoNote wallet refuses to send to keys that do not decode to a curve point (`check_key`), so a pool
should refuse them as payout addresses before any money is owed.
"""

from __future__ import annotations

FIELD_PRIME = 2**255 - 19
# The twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 with d = -121665/121666.
CURVE_D = -121665 * pow(121666, FIELD_PRIME - 2, FIELD_PRIME) % FIELD_PRIME
SQRT_MINUS_ONE = pow(2, (FIELD_PRIME - 1) // 4, FIELD_PRIME)
KEY_SIZE = 32
_Y_MASK = (1 << 255) - 1


def _recover_x_squared(y: int) -> int:
    numerator = (y * y - 1) % FIELD_PRIME
    denominator = (CURVE_D * y * y + 1) % FIELD_PRIME
    return numerator * pow(denominator, FIELD_PRIME - 2, FIELD_PRIME) % FIELD_PRIME


def _square_root(value: int) -> int | None:
    # p = 5 (mod 8): a candidate root is value^((p+3)/8), possibly off by a factor sqrt(-1).
    candidate = pow(value, (FIELD_PRIME + 3) // 8, FIELD_PRIME)
    if (candidate * candidate - value) % FIELD_PRIME == 0:
        return candidate
    candidate = candidate * SQRT_MINUS_ONE % FIELD_PRIME
    if (candidate * candidate - value) % FIELD_PRIME == 0:
        return candidate
    return None


def is_valid_point(key: bytes) -> bool:
    """True when `key` is the canonical encoding of a point on the curve."""
    if len(key) != KEY_SIZE:
        return False
    encoded = int.from_bytes(key, "little")
    y = encoded & _Y_MASK
    x_is_odd = encoded >> 255
    if y >= FIELD_PRIME:
        return False
    x = _square_root(_recover_x_squared(y))
    if x is None:
        return False
    # x = 0 has no negative form, so the sign bit must then be clear.
    return not (x == 0 and x_is_odd)
