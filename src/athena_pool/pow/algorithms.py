"""The algorithm table: xmrig's names, the aliases miners send, and a factory for each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from athena_pool.pow.argon2 import CHUKWA_PARAMS, Chukwa
from athena_pool.pow.base import PowAlgorithm, PowSettings
from athena_pool.pow.cryptonight import CN_PARAMS, CryptoNight
from athena_pool.pow.randomx import RandomX


class UnknownAlgorithmError(ValueError):
    pass


@dataclass(frozen=True)
class AlgorithmInfo:
    name: str
    family: str
    aliases: tuple[str, ...]
    make: Callable[[PowSettings], PowAlgorithm]


def _cn(name: str) -> Callable[[PowSettings], PowAlgorithm]:
    return lambda settings: CryptoNight(name)


def _chukwa(name: str) -> Callable[[PowSettings], PowAlgorithm]:
    return lambda settings: Chukwa(name)


def _randomx(settings: PowSettings) -> PowAlgorithm:
    return RandomX(full_mem=settings.randomx_full_dataset)


# Aliases are xmrig's (src/base/crypto/Algorithm.cpp, kAlgorithmAliases), matched case-insensitively as
# xmrig does; the few others carry a comment naming who uses them. Two choices: "cryptonight-lite" and
# "cn-lite" mean cn-lite/0 as in current xmrig (its 2020 table read them as cn-lite/1); "chukwav2" means
# chukwa v2, although xmrig's table maps it to v1 (a slip there: xmrig calls v2 "argon2/chukwav2").
ALGORITHMS: tuple[AlgorithmInfo, ...] = (
    AlgorithmInfo(
        "cn/0",
        "cn",
        ("cryptonight/0", "cryptonight", "cn", "cn/original"),  # cn/original: TurtleCoin's name
        _cn("cn/0"),
    ),
    AlgorithmInfo(
        "cn/1",
        "cn",
        ("cryptonight/1", "cryptonight-monerov7", "cryptonight_v7", "cn/v7"),  # cn/v7: older pools
        _cn("cn/1"),
    ),
    AlgorithmInfo(
        "cn/2",
        "cn",
        ("cryptonight/2", "cryptonight-monerov8", "cryptonight_v8", "cn/v8"),  # cn/v8: older pools
        _cn("cn/2"),
    ),
    AlgorithmInfo("cn/r", "cn", ("cryptonight/r", "cryptonight_r", "cn/4"), _cn("cn/r")),  # cn/4: variant 4
    AlgorithmInfo(
        "cn-lite/0",
        "cn-lite",
        (
            "cryptonight-lite/0",
            "cryptonight-lite",
            "cryptonight-light",
            "cn-lite",
            "cn-light",
            "cryptonight_lite",
        ),
        _cn("cn-lite/0"),
    ),
    AlgorithmInfo(
        "cn-lite/1",
        "cn-lite",
        ("cryptonight-lite/1", "cryptonight-aeonv7", "cryptonight_lite_v7"),
        _cn("cn-lite/1"),
    ),
    AlgorithmInfo(
        "cn-pico/trtl",
        "cn-pico",
        (
            "cn-pico",  # xmrig's own name for it
            "cryptonight-pico",
            "cn-pico/0",
            "cryptonight-pico/trtl",
            "cryptonight-turtle",
            "cn-trtl",
            "cryptonight-ultralite",
            "cn-ultralite",
            "cryptonight_turtle",
            "cn_turtle",
            "cn-turtle",  # pools' spelling
            "cn-turtle-lite/2",  # TurtleCoin's cn_turtle_lite_slow_hash_v2
        ),
        _cn("cn-pico/trtl"),
    ),
    AlgorithmInfo(
        "argon2/chukwa",
        "argon2",
        ("chukwa", "trtl-chukwa"),  # trtl-chukwa, trtl-chukwa2: TurtleCoin's names
        _chukwa("argon2/chukwa"),
    ),
    AlgorithmInfo("argon2/chukwav2", "argon2", ("chukwav2", "trtl-chukwa2"), _chukwa("argon2/chukwav2")),
    AlgorithmInfo("rx/0", "rx", ("randomx/0", "randomx/test", "rx/test", "randomx", "rx"), _randomx),
)

assert {a.name for a in ALGORITHMS} >= set(CN_PARAMS) | set(CHUKWA_PARAMS)


def _lookup_table() -> dict[str, AlgorithmInfo]:
    table: dict[str, AlgorithmInfo] = {}
    for info in ALGORITHMS:
        for key in (info.name, *info.aliases):
            table[key.lower()] = info
    return table


def algorithm_info(name: str) -> AlgorithmInfo:
    """The table row for a name or alias, case-insensitive."""
    info = _lookup_table().get(name.strip().lower())
    if info is None:
        known = ", ".join(a.name for a in ALGORITHMS)
        raise UnknownAlgorithmError(f"unknown algorithm {name!r}; known: {known}")
    return info


def canonical_name(name: str) -> str:
    return algorithm_info(name).name


def create_algorithm(name: str, settings: PowSettings | None = None) -> PowAlgorithm:
    """A new hasher instance for `name` (an instance owns its caches, e.g. RandomX seeds)."""
    return algorithm_info(name).make(settings or PowSettings())


def algorithm_names() -> list[str]:
    return [a.name for a in ALGORITHMS]
