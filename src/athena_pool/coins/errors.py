"""Errors raised while reading CryptoNote binary data."""

from __future__ import annotations


class BlobError(ValueError):
    """A block, template or transaction blob that cannot be parsed or edited as asked."""


class NoReservedSpaceError(BlobError):
    """The coinbase extra has no reserved space (the template was requested with reserve_size 0)."""
