"""Ed25519 group arithmetic, exactly as CryptoNote uses it for signatures (no cofactor clearing, no key
clamping): points in extended coordinates, scalars modulo the group order `L`.

Pure Python and variable time: it only ever verifies public data (signatures) and, in tests and the offline
signer, signs with a key that never reaches the pool.
"""

from __future__ import annotations

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # order of the base point
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int, int, int]  # (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z
IDENTITY: Point = (0, 1, 1, 0)
IDENTITY_BYTES = (1).to_bytes(32, "little")


def _inverse(value: int) -> int:
    return pow(value, P - 2, P)


def _recover_x(y: int, sign: int) -> int | None:
    if y >= P:
        return None
    x2 = (y * y - 1) * _inverse(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if (x & 1) != sign else x


_BASE_Y = 4 * _inverse(5) % P
_BASE_X = _recover_x(_BASE_Y, 0)
assert _BASE_X is not None
BASE: Point = (_BASE_X, _BASE_Y, 1, _BASE_X * _BASE_Y % P)


def add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % P, g * h % P, f * g % P, e * h % P


def multiply(scalar: int, point: Point) -> Point:
    result = IDENTITY
    while scalar > 0:
        if scalar & 1:
            result = add(result, point)
        point = add(point, point)
        scalar >>= 1
    return result


def encode(point: Point) -> bytes:
    z_inverse = _inverse(point[2])
    x, y = point[0] * z_inverse % P, point[1] * z_inverse % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def decode(data: bytes) -> Point | None:
    """The point `data` encodes, or None when it is not the canonical encoding of a curve point."""
    if len(data) != 32:
        return None
    encoded = int.from_bytes(data, "little")
    y, sign = encoded & ((1 << 255) - 1), encoded >> 255
    x = _recover_x(y, sign)
    if x is None:
        return None
    return x, y, 1, x * y % P


def scalar(data: bytes) -> int | None:
    """A 32-byte little-endian scalar, or None unless it is reduced (below L), as `sc_check` demands."""
    value = int.from_bytes(data, "little")
    return value if len(data) == 32 and value < L else None


def scalar_bytes(value: int) -> bytes:
    return (value % L).to_bytes(32, "little")
