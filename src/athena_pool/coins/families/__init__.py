"""Blob families behind one face, looked up by name."""

from __future__ import annotations

from athena_pool.coins.families.base import BlobFamily
from athena_pool.coins.families.forknote2 import Forknote2Family
from athena_pool.coins.families.plain import CryptonoteV1Family, MoneroFamily

_FAMILY_CLASSES: tuple[type[MoneroFamily] | type[CryptonoteV1Family] | type[Forknote2Family], ...] = (
    MoneroFamily,
    CryptonoteV1Family,
    Forknote2Family,
)
FAMILY_NAMES = tuple(family.name for family in _FAMILY_CLASSES)


class UnknownFamilyError(LookupError, ValueError):
    """No blob family has that name (a ValueError too, so input validation catches it)."""


def get_family(name: str) -> BlobFamily:
    """The family called `name` ("monero", "forknote2", "cryptonote_v1")."""
    for family in _FAMILY_CLASSES:
        if family.name == name:
            return family()
    raise UnknownFamilyError(f"unknown blob family {name!r}; known families: {', '.join(FAMILY_NAMES)}")


__all__ = ["FAMILY_NAMES", "BlobFamily", "UnknownFamilyError", "get_family"]
