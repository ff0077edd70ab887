"""Reading redis-py replies into plain types, whether the client decodes responses or not.

redis-py types its replies as wide unions; these helpers check the shape once, so the store's code can
work with `str` and `int`.
"""

from __future__ import annotations

from collections.abc import Iterable


def text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a Redis string, got {value!r}")


def integer(value: object) -> int:
    if isinstance(value, int | float):
        return int(value)
    return int(text(value))


def fields(raw: object) -> dict[str, str]:
    """A hash (HGETALL, stream entry) as str -> str."""
    if not isinstance(raw, dict):
        raise TypeError(f"expected a Redis hash, got {raw!r}")
    return {text(name): text(value) for name, value in raw.items()}


def pair(raw: object) -> tuple[object, object]:
    if not isinstance(raw, tuple | list) or len(raw) != 2:
        raise TypeError(f"expected a pair, got {raw!r}")
    return raw[0], raw[1]


def scored_members(raw: Iterable[object]) -> dict[str, int]:
    """A WITHSCORES reply as member -> integer score, in reply order."""
    members: dict[str, int] = {}
    for item in raw:
        member, score = pair(item)
        members[text(member)] = integer(score)
    return members
