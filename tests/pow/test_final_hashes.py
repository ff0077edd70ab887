"""The four CryptoNight final hashes against Monero's official test vectors (321 lines each).

Each fixture line is ``<expected hash hex> <input hex>``; an input written ``x`` is the empty string.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from athena_pool.pow import _cryptonight

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "monero_hash"

FUNCTIONS: dict[str, Callable[[bytes], bytes]] = {
    "blake": _cryptonight.blake256,
    "groestl": _cryptonight.groestl256,
    "jh": _cryptonight.jh256,
    "skein": _cryptonight.skein512_256,
}


def _load(name: str) -> list[tuple[bytes, bytes]]:
    cases = []
    for line in (FIXTURES / f"tests-extra-{name}.txt").read_text(encoding="ascii").splitlines():
        if not line.strip():
            continue
        expected_hex, input_hex = line.split()
        data = b"" if input_hex == "x" else bytes.fromhex(input_hex)
        cases.append((bytes.fromhex(expected_hex), data))
    return cases


CASES = [(name, expected, data) for name in FUNCTIONS for expected, data in _load(name)]


def test_every_fixture_file_is_complete() -> None:
    for name in FUNCTIONS:
        assert len(_load(name)) == 321


@pytest.mark.parametrize(
    ("name", "expected", "data"),
    CASES,
    ids=[f"{name}-len{len(data)}-{i}" for i, (name, _, data) in enumerate(CASES)],
)
def test_final_hash(name: str, expected: bytes, data: bytes) -> None:
    assert FUNCTIONS[name](data) == expected
