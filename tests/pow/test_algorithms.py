"""The algorithm table: every name a miner may send resolves to the algorithm the pool implements."""

from __future__ import annotations

import pytest

from athena_pool.pow import UnknownAlgorithmError, algorithm_info, algorithm_names, canonical_name
from athena_pool.pow.algorithms import ALGORITHMS

# xmrig's kAlgorithmAliases (src/base/crypto/Algorithm.cpp) for the algorithms the pool implements,
# written out here so the table is checked against xmrig, not against itself.
XMRIG_ALIASES = {
    "cn/0": "cn/0",
    "cryptonight/0": "cn/0",
    "cryptonight": "cn/0",
    "cn": "cn/0",
    "cn/1": "cn/1",
    "cryptonight/1": "cn/1",
    "cryptonight-monerov7": "cn/1",
    "cryptonight_v7": "cn/1",
    "cn/2": "cn/2",
    "cryptonight/2": "cn/2",
    "cryptonight-monerov8": "cn/2",
    "cryptonight_v8": "cn/2",
    "cn/r": "cn/r",
    "cryptonight/r": "cn/r",
    "cryptonight_r": "cn/r",
    "cn-lite/0": "cn-lite/0",
    "cryptonight-lite/0": "cn-lite/0",
    "cryptonight-lite": "cn-lite/0",
    "cryptonight-light": "cn-lite/0",
    "cn-lite": "cn-lite/0",
    "cn-light": "cn-lite/0",
    "cryptonight_lite": "cn-lite/0",
    "cn-lite/1": "cn-lite/1",
    "cryptonight-lite/1": "cn-lite/1",
    "cryptonight-aeonv7": "cn-lite/1",
    "cryptonight_lite_v7": "cn-lite/1",
    "cn-pico": "cn-pico/trtl",
    "cryptonight-pico": "cn-pico/trtl",
    "cn-pico/0": "cn-pico/trtl",
    "cryptonight-pico/trtl": "cn-pico/trtl",
    "cn-pico/trtl": "cn-pico/trtl",
    "cryptonight-turtle": "cn-pico/trtl",
    "cn-trtl": "cn-pico/trtl",
    "cryptonight-ultralite": "cn-pico/trtl",
    "cn-ultralite": "cn-pico/trtl",
    "cryptonight_turtle": "cn-pico/trtl",
    "cn_turtle": "cn-pico/trtl",
    "rx/0": "rx/0",
    "randomx/0": "rx/0",
    "randomx/test": "rx/0",
    "rx/test": "rx/0",
    "randomx": "rx/0",
    "rx": "rx/0",
    "argon2/chukwa": "argon2/chukwa",
    "chukwa": "argon2/chukwa",
    "argon2/chukwav2": "argon2/chukwav2",
    "chukwav2": "argon2/chukwav2",  # xmrig's table says v1 here: a slip (see pow/algorithms.py)
}

# Names from elsewhere: TurtleCoin's daemon and tools, older pools.
OTHER_ALIASES = {
    "cn/original": "cn/0",
    "cn/v7": "cn/1",
    "cn/v8": "cn/2",
    "cn/4": "cn/r",
    "cn-turtle": "cn-pico/trtl",
    "cn-turtle-lite/2": "cn-pico/trtl",
    "trtl-chukwa": "argon2/chukwa",
    "trtl-chukwa2": "argon2/chukwav2",
}

# Names of algorithms the pool does not implement: a miner offering only these is turned away.
NOT_IMPLEMENTED = ("cn/half", "cn-heavy", "cn-pico/tlo", "rx/wow", "argon2/ninja", "kawpow", "cn/gpu", "")


@pytest.mark.parametrize(("alias", "name"), sorted({**XMRIG_ALIASES, **OTHER_ALIASES}.items()))
def test_alias_resolves_to_its_algorithm(alias: str, name: str) -> None:
    assert canonical_name(alias) == name
    assert canonical_name(alias.upper()) == name  # xmrig compares case-insensitively ("RandomX")
    assert canonical_name(f" {alias} ") == name


def test_the_table_holds_exactly_these_names() -> None:
    table = {key: info.name for info in ALGORITHMS for key in (info.name, *info.aliases)}
    assert table == {**XMRIG_ALIASES, **OTHER_ALIASES}
    every_key = [key.lower() for info in ALGORITHMS for key in (info.name, *info.aliases)]
    assert len(every_key) == len(set(every_key))  # no name means two algorithms


def test_xmrig_spelling_of_randomx() -> None:
    assert canonical_name("RandomX") == "rx/0"


@pytest.mark.parametrize("name", NOT_IMPLEMENTED)
def test_an_unknown_name_is_a_clear_error(name: str) -> None:
    with pytest.raises(UnknownAlgorithmError, match=r"unknown algorithm .*; known: cn/0, cn/1") as caught:
        algorithm_info(name)
    assert all(known in str(caught.value) for known in algorithm_names())
