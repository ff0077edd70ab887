"""The CryptoNight C extension (``athena_pool.pow._cryptonight``) against the official vectors.

Vector sources:
- Monero ``tests/hash/tests-fast.txt`` (Keccak-256), ``tests-slow.txt`` (cn/0), ``tests-slow-1.txt`` (cn/1),
  ``tests-slow-2.txt`` (cn/2) and ``tests-extra-*.txt`` (the four final hashes), in
  ``tests/fixtures/monero_hash``: each line is ``<expected hash hex> <input hex>``, ``x`` = empty input;
- the shared ``pow_vectors.json`` (cn/0, cn/1, cn/2, cn-lite/0, cn-lite/1, cn-pico/trtl entries).

Both AES code paths are checked on every vector: the one chosen for this process (AES-NI where the CPU has
it) in-process, and the portable one in a subprocess started with ``ATHENA_POOL_NO_AESNI=1`` (the choice is
made once, at import).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from athena_pool.pow import _cryptonight as cn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "monero_hash"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SHARED_VECTORS = SHARED / "vectors" / "pow_vectors.json"

MIB = 1024 * 1024


class Params(NamedTuple):
    memory: int
    iterations: int
    mask: int
    variant: int


# docs/proof-of-work.md section 2.1. The pico mask is not derived from its memory size.
PARAMS: dict[str, Params] = {
    "cn/0": Params(2 * MIB, 1 << 20, 0x1FFFF0, 0),
    "cn/1": Params(2 * MIB, 1 << 20, 0x1FFFF0, 1),
    "cn/2": Params(2 * MIB, 1 << 20, 0x1FFFF0, 2),
    "cn-lite/0": Params(1 * MIB, 1 << 19, 0xFFFF0, 0),
    "cn-lite/1": Params(1 * MIB, 1 << 19, 0xFFFF0, 1),
    "cn-pico/trtl": Params(256 * 1024, 1 << 17, 0x1FFF0, 2),
}

MONERO_SLOW_FILES = {"tests-slow.txt": "cn/0", "tests-slow-1.txt": "cn/1", "tests-slow-2.txt": "cn/2"}


class Case(NamedTuple):
    algo: str
    data: bytes
    expected: bytes
    source: str


def _read_monero_file(name: str) -> list[tuple[bytes, bytes]]:
    """(expected, input) pairs of a Monero ``tests/hash`` file."""
    pairs = []
    for line in (FIXTURES / name).read_text(encoding="ascii").splitlines():
        if not line.strip():
            continue
        expected_hex, input_hex = line.split()[:2]
        pairs.append((bytes.fromhex(expected_hex), b"" if input_hex == "x" else bytes.fromhex(input_hex)))
    return pairs


def _monero_slow_cases() -> list[Case]:
    cases = []
    for name, algo in MONERO_SLOW_FILES.items():
        for number, (expected, data) in enumerate(_read_monero_file(name), start=1):
            cases.append(Case(algo, data, expected, f"{name}:{number}"))
    return cases


def _shared_cases() -> list[Case]:
    if not SHARED_VECTORS.is_file():
        return []
    vectors: list[dict[str, Any]] = json.loads(SHARED_VECTORS.read_text())
    cases = []
    for number, vector in enumerate(vectors):
        if vector["algo"] in PARAMS:
            cases.append(
                Case(
                    vector["algo"],
                    bytes.fromhex(vector["input_hex"]),
                    bytes.fromhex(vector["output_hex"]),
                    f"pow_vectors.json[{number}]",
                )
            )
    return cases


MONERO_SLOW_CASES = _monero_slow_cases()
SHARED_CASES = _shared_cases()
ALL_CASES = MONERO_SLOW_CASES + SHARED_CASES

needs_shared = pytest.mark.skipif(
    not SHARED_VECTORS.is_file(), reason=f"shared reference vectors not found at {SHARED_VECTORS}"
)


def _slow_hash(case: Case) -> bytes:
    return cn.cn_slow_hash(case.data, *PARAMS[case.algo])


def _case_id(case: Case) -> str:
    return f"{case.algo}-{case.source}"


def _cpu_has_aes() -> bool:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(line.startswith("flags") and " aes" in line for line in cpuinfo.splitlines())


# Keccak --------------------------------------------------------------------------------------------


def test_fast_hash_monero_vectors() -> None:
    pairs = _read_monero_file("tests-fast.txt")
    assert len(pairs) == 321
    failures = [data.hex() for expected, data in pairs if cn.fast_hash(data) != expected]
    assert failures == []


def test_fast_hash_known_values() -> None:
    assert cn.fast_hash(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert cn.fast_hash(b"\x00").hex() == "bc36789e7a1e281436464229828f817d6612f7b477d66591ff96a9e064bcc98a"


def test_fast_hash_matches_pycryptodome_at_every_length_around_the_rate() -> None:
    keccak = pytest.importorskip("Crypto.Hash.keccak")
    data = bytes(range(256)) * 3
    for length in range(0, 3 * 136 + 2):
        expected = keccak.new(digest_bits=256, data=data[:length]).digest()
        assert cn.fast_hash(data[:length]) == expected, length


@pytest.mark.parametrize("head_size", [0, 1, 135, 136, 2048, 5000])  # around the rate and the stack buffer
def test_hash_chain_is_fast_hash_level_by_level(head_size: int) -> None:
    links = ((bytes(range(256)) * 20)[:head_size], b"tail"), (b"", b"\x07" * 32), (b"h" * 35, b"\x01")
    value = b"payload!"
    expected = value
    for head, tail in links:
        expected = cn.fast_hash(head + expected + tail)
    assert cn.hash_chain(value, links) == expected
    assert cn.hash_chain(bytearray(value), links[:1]) == cn.fast_hash(links[0][0] + value + links[0][1])


@pytest.mark.parametrize(
    "links",
    [(), ((b"head",),), ((b"head", "tail"),), [(b"head", b"tail")], ((bytearray(b"h"), b"t"),)],
    ids=["empty", "one-part", "str-tail", "list", "bytearray-head"],
)
def test_hash_chain_refuses_malformed_links(links: Any) -> None:
    with pytest.raises(TypeError):
        cn.hash_chain(b"value", links)


def test_keccak1600_state() -> None:
    for length in (0, 1, 76, 135, 136, 137, 300):
        data = bytes(range(length % 256)) * (length // 256) + bytes(range(length % 256))
        state = cn.keccak1600(data)
        assert len(state) == 200
        assert state[:32] == cn.fast_hash(data)
    assert cn.keccak1600(b"abc") != cn.keccak1600(b"abd")


def test_digests_accept_any_contiguous_buffer() -> None:
    data = b"athena-pool" * 20
    assert cn.fast_hash(bytearray(data)) == cn.fast_hash(data)
    assert cn.fast_hash(memoryview(data)[5:]) == cn.fast_hash(data[5:])
    assert cn.keccak1600(memoryview(bytearray(data))) == cn.keccak1600(data)
    with pytest.raises(TypeError):
        cn.fast_hash("text")


def test_long_input_releases_gil_path() -> None:
    # Inputs from 8 KiB up take the GIL-free branch; it must give the same digest.
    data = bytes(range(256)) * 100
    keccak = pytest.importorskip("Crypto.Hash.keccak")
    assert cn.fast_hash(data) == keccak.new(digest_bits=256, data=data).digest()


# Final hashes (wrappers over the contract functions) ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("blake", cn.blake256),
        ("groestl", cn.groestl256),
        ("jh", cn.jh256),
        ("skein", cn.skein512_256),
    ],
)
def test_final_hash_wrappers(name: str, function: Any) -> None:
    pairs = _read_monero_file(f"tests-extra-{name}.txt")
    assert len(pairs) == 321
    failures = [data.hex() for expected, data in pairs if function(data) != expected]
    assert failures == []


# CryptoNight, the in-process AES path ----------------------------------------------------------------


def test_aes_ni_choice() -> None:
    forced_off = os.environ.get("ATHENA_POOL_NO_AESNI", "") not in ("", "0")
    assert isinstance(cn.aes_ni(), bool)
    if forced_off:
        assert cn.aes_ni() is False
    elif _cpu_has_aes():
        assert cn.aes_ni() is True


def test_vector_counts() -> None:
    counts = {
        name: sum(1 for case in MONERO_SLOW_CASES if case.source.startswith(name + ":"))
        for name in MONERO_SLOW_FILES
    }
    assert counts == {"tests-slow.txt": 4, "tests-slow-1.txt": 5, "tests-slow-2.txt": 10}


@needs_shared
def test_shared_vector_counts() -> None:
    counts: dict[str, int] = {}
    for case in SHARED_CASES:
        counts[case.algo] = counts.get(case.algo, 0) + 1
    assert counts == {"cn/0": 8, "cn/1": 9, "cn/2": 14, "cn-lite/0": 5, "cn-lite/1": 5, "cn-pico/trtl": 5}


@pytest.mark.parametrize("case", MONERO_SLOW_CASES, ids=_case_id)
def test_monero_slow_vectors(case: Case) -> None:
    assert _slow_hash(case).hex() == case.expected.hex()


@needs_shared
@pytest.mark.parametrize("case", SHARED_CASES, ids=_case_id)
def test_shared_pow_vectors(case: Case) -> None:
    assert _slow_hash(case).hex() == case.expected.hex()


def test_keyword_arguments_and_buffers() -> None:
    case = MONERO_SLOW_CASES[0]
    p = PARAMS[case.algo]
    by_keyword = cn.cn_slow_hash(
        data=case.data, memory=p.memory, iterations=p.iterations, mask=p.mask, variant=p.variant, height=0
    )
    assert by_keyword == case.expected
    assert cn.cn_slow_hash(bytearray(case.data), *p) == case.expected
    assert cn.cn_slow_hash(memoryview(b"xx" + case.data)[2:], *p) == case.expected


def test_variant_0_accepts_short_and_empty_input() -> None:
    pico0 = (256 * 1024, 1 << 17, 0x1FFF0, 0)
    assert len(cn.cn_slow_hash(b"", *pico0)) == 32
    assert cn.cn_slow_hash(b"", *pico0) != cn.cn_slow_hash(b"\x00", *pico0)


def test_one_thread_switches_between_scratchpad_sizes() -> None:
    # The per-thread scratchpad is reused (and grown when needed) across algorithms.
    picked: dict[str, Case] = {}
    for case in SHARED_CASES or MONERO_SLOW_CASES:
        picked.setdefault(case.algo, case)
    order = sorted(picked.values(), key=lambda c: PARAMS[c.algo].memory)
    for case in order + order[::-1]:
        assert _slow_hash(case) == case.expected, case.source


# Input and parameter checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("algo", ["cn/1", "cn/2", "cn-lite/1", "cn-pico/trtl"])
def test_tweak_variants_reject_short_input(algo: str) -> None:
    p = PARAMS[algo]
    for length in (0, 1, 40, 42):
        message = f"variant {p.variant} needs at least 43 bytes of input, got {length}"
        with pytest.raises(ValueError, match=message):
            cn.cn_slow_hash(bytes(length), *p)


def test_tweak_variants_accept_43_bytes() -> None:
    p = PARAMS["cn-pico/trtl"]
    assert len(cn.cn_slow_hash(bytes(43), *p)) == 32
    p1 = Params(256 * 1024, 1 << 17, 0x1FFF0, 1)
    assert len(cn.cn_slow_hash(bytes(43), *p1)) == 32


GOOD = PARAMS["cn-pico/trtl"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"memory": 3 * MIB // 2}, "memory must be a power of two"),
        ({"memory": 32 * 1024, "mask": 0x7FF0}, "memory must be a power of two"),
        ({"memory": 4 * MIB}, "memory must be a power of two"),
        ({"memory": 0}, "memory must be a power of two"),
        ({"memory": -1}, "memory must be >= 0"),
        ({"memory": 1 << 70}, "memory must be < 2\\*\\*64"),
        ({"mask": 256 * 1024}, "mask must be a multiple of 16 smaller than memory"),
        ({"mask": 0x1FFF8}, "mask must be a multiple of 16 smaller than memory"),
        ({"mask": -16}, "mask must be >= 0"),
        ({"iterations": 0}, "iterations must be a positive even number"),
        ({"iterations": 3}, "iterations must be a positive even number"),
        ({"iterations": 1 << 32}, "iterations must be a positive even number"),
        ({"iterations": -2}, "iterations must be >= 0"),
        ({"variant": 3}, "variant must be 0, 1, 2 or 4"),
        ({"variant": 5}, "variant must be 0, 1, 2 or 4"),
        ({"variant": -1}, "variant must be >= 0"),
    ],
)
def test_bad_parameters_raise_value_error(changes: dict[str, int], message: str) -> None:
    args = GOOD._replace(**changes)
    with pytest.raises(ValueError, match=message):
        cn.cn_slow_hash(bytes(76), *args)


def test_bad_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        cn.cn_slow_hash("not bytes", *GOOD)
    with pytest.raises(TypeError, match="memory must be an int"):
        cn.cn_slow_hash(bytes(76), 262144.0, *GOOD[1:])
    with pytest.raises(TypeError):
        cn.cn_slow_hash(bytes(76), *GOOD[:3])


def test_variant_4_has_no_minimum_input_length() -> None:
    """cn/r (its vectors are in test_cn_r.py) hashes any input, like Monero's cn_slow_hash variant 4."""
    cn_r = (2 * MIB, 1 << 20, 0x1FFFF0, 4)
    assert cn.HAVE_CN_R
    assert len(cn.cn_slow_hash(b"", *cn_r, height=1806260)) == 32


def test_module_constants() -> None:
    assert (cn.MIN_MEMORY, cn.MAX_MEMORY, cn.TWEAK_MIN_INPUT) == (65536, 2 * MIB, 43)
    assert isinstance(cn.HAVE_CN_R, bool)


def test_negative_height_rejected() -> None:
    with pytest.raises(ValueError, match="height must be >= 0"):
        cn.cn_slow_hash(bytes(76), *GOOD, height=-1)


# Threads ---------------------------------------------------------------------------------------------


def test_two_threads_hash_at_once() -> None:
    """Two threads hash different vectors concurrently (the GIL is released, each thread has its own
    scratchpad): every result must be right."""
    cases = SHARED_CASES or MONERO_SLOW_CASES
    work = [
        [c for c in cases if c.algo in ("cn/0", "cn-pico/trtl")][:6],
        [c for c in cases if c.algo in ("cn/2", "cn-lite/1")][:6],
    ]
    barrier = threading.Barrier(len(work))
    results: list[list[tuple[Case, bytes]]] = [[] for _ in work]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for case in work[index]:
                results[index].append((case, _slow_hash(case)))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert [len(r) for r in results] == [len(w) for w in work]
    for per_thread in results:
        for case, digest in per_thread:
            assert digest == case.expected, case.source


# The portable AES path, in a subprocess ----------------------------------------------------------------

_CHILD = """
import json, sys
from athena_pool.pow import _cryptonight as cn
jobs = json.load(sys.stdin)
out = {"aes_ni": cn.aes_ni(), "hashes": [cn.cn_slow_hash(bytes.fromhex(d), *p).hex() for d, p in jobs]}
json.dump(out, sys.stdout)
"""


def test_portable_aes_path_passes_every_vector() -> None:
    jobs = [(case.data.hex(), list(PARAMS[case.algo])) for case in ALL_CASES]
    env = dict(os.environ, ATHENA_POOL_NO_AESNI="1")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["aes_ni"] is False
    failures = [
        case.source for case, got in zip(ALL_CASES, out["hashes"], strict=True) if got != case.expected.hex()
    ]
    assert failures == []
