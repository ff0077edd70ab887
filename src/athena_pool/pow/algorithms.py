"""The algorithm table: xmrig's names, the aliases miners send, and a factory for each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from athena_pool.pow.argon2 import CHUKWA_PARAMS, Chukwa
from athena_pool.pow.base import PowAlgorithm
from athena_pool.pow.cryptonight import CN_PARAMS, CryptoNight
from athena_pool.pow.randomx import RandomX


class UnknownAlgorithmError(ValueError):
    pass


@dataclass(frozen=True)
class AlgorithmInfo:
    name: str
    family: str
    aliases: tuple[str, ...]
    make: Callable[[], PowAlgorithm]


def _cn(name: str) -> Callable[[], PowAlgorithm]:
    return lambda: CryptoNight(name)


def _chukwa(name: str) -> Callable[[], PowAlgorithm]:
    return lambda: Chukwa(name)


ALGORITHMS: tuple[AlgorithmInfo, ...] = (
    AlgorithmInfo("cn/0", "cn", ("cryptonight", "cn", "cryptonight/0", "cn/original"), _cn("cn/0")),
    AlgorithmInfo("cn/1", "cn", ("cryptonight/1", "cryptonight-monerov7", "cn/v7"), _cn("cn/1")),
    AlgorithmInfo("cn/2", "cn", ("cryptonight/2", "cryptonight-monerov8", "cn/v8"), _cn("cn/2")),
    AlgorithmInfo("cn/r", "cn", ("cryptonight/r", "cn/4"), _cn("cn/r")),
    AlgorithmInfo("cn-lite/0", "cn-lite", ("cryptonight-lite", "cryptonight-lite/0"), _cn("cn-lite/0")),
    AlgorithmInfo("cn-lite/1", "cn-lite", ("cryptonight-lite/1", "cryptonight-aeonv7"), _cn("cn-lite/1")),
    AlgorithmInfo(
        "cn-pico/trtl",
        "cn-pico",
        ("cn-pico", "cryptonight-pico", "cryptonight-turtle", "cn-trtl", "cn-turtle-lite/2"),
        _cn("cn-pico/trtl"),
    ),
    AlgorithmInfo("argon2/chukwa", "argon2", ("chukwa", "trtl-chukwa"), _chukwa("argon2/chukwa")),
    AlgorithmInfo("argon2/chukwav2", "argon2", ("chukwav2", "trtl-chukwa2"), _chukwa("argon2/chukwav2")),
    AlgorithmInfo("rx/0", "rx", ("randomx", "rx", "randomx/0"), RandomX),
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


def create_algorithm(name: str) -> PowAlgorithm:
    """A new hasher instance for `name` (an instance owns its caches, e.g. RandomX seeds)."""
    return algorithm_info(name).make()


def algorithm_names() -> list[str]:
    return [a.name for a in ALGORITHMS]
