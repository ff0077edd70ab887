"""The key schema: free text (any address, colons included) can never make two different keys equal."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from athena_pool.storage import KeySpace, RewardType
from athena_pool.storage.keys import parse_block_member, split_worker_field, worker_field

KEYS = KeySpace("athena")

# Every builder that takes free text, as a function of that text.
FREE_TEXT_KEYS: Mapping[str, Callable[[str], str]] = MappingProxyType(
    {
        "round_solo": KEYS.round_solo,
        "round_total_solo": KEYS.round_total_solo,
        "miner": KEYS.miner,
        "miner_workers": KEYS.miner_workers,
        "miner_ips": KEYS.miner_ips,
        "hashrate_miner": KEYS.hashrate_miner,
        "batch": KEYS.batch,
    }
)
FIXED_KEYS = frozenset(
    {
        KEYS.round_prop,
        KEYS.round_total_prop,
        KEYS.pplns,
        KEYS.blocks_candidates,
        KEYS.blocks_matured,
        KEYS.miners,
        KEYS.hashrate_pool,
        KEYS.pool,
        KEYS.network,
        KEYS.balances,
        KEYS.paid,
    }
)
HASH = "ab" * 32


def test_no_fixed_part_is_a_prefix_of_another_key() -> None:
    fixed_parts = {name: build("") for name, build in FREE_TEXT_KEYS.items()}
    for name, part in fixed_parts.items():
        others = [p for n, p in fixed_parts.items() if n != name]
        assert not any(other.startswith(part) for other in others), name
        assert not any(fixed.startswith(part) for fixed in FIXED_KEYS), name
    block_parts = (KEYS.block(1, HASH), KEYS.block_round(1, HASH))
    assert not any(key.startswith(block_parts) for key in FIXED_KEYS | set(fixed_parts.values()))


@given(st.text(min_size=1), st.text(min_size=1))
def test_free_text_keys_never_collide(first: str, second: str) -> None:
    built = [(name, text, build(text)) for name, build in FREE_TEXT_KEYS.items() for text in (first, second)]
    for name_a, text_a, key_a in built:
        for name_b, text_b, key_b in built:
            if key_a == key_b:
                assert (name_a, text_a) == (name_b, text_b)
        assert key_a not in FIXED_KEYS


@given(st.text(), st.text(alphabet=st.characters(blacklist_characters=":")).filter(bool))
def test_worker_fields_round_trip_whatever_the_worker_name(worker: str, stat: str) -> None:
    assert split_worker_field(worker_field(stat, worker)) == (stat, worker)


def test_block_member_round_trips() -> None:
    assert parse_block_member(KEYS.block(123, HASH).removeprefix("athena:block:")) == (123, HASH)


def test_round_keys_follow_the_reward_type() -> None:
    assert KEYS.round(RewardType.PROP, "x") == "athena:round:prop"
    assert KEYS.round(RewardType.SOLO, "x") == "athena:round:solo:x"
    assert KEYS.round_total(RewardType.SOLO, "x") == "athena:round-total:solo:x"


@pytest.mark.parametrize("prefix", ["", "athena:"])
def test_prefix_must_be_a_bare_name(prefix: str) -> None:
    with pytest.raises(ValueError, match="coin prefix"):
        KeySpace(prefix)
