"""CryptoNote formats: blob families, addresses and coin profiles.

- `get_family(name)`: parse/serialize blocks and templates, hashing blobs, block reassembly, block ids.
- `decode_address` / `encode_address`: base58 addresses with precise rejection reasons.
- `get_coin(name)`: per-coin facts as data.
"""

from __future__ import annotations

from athena_pool.coins.addresses import (
    Address,
    AddressError,
    AddressKind,
    AddressNetwork,
    UnknownNetworkError,
    decode_address,
    describe_address,
    encode_address,
    get_network,
)
from athena_pool.coins.block import Block, ParentBlock, ReservedSpace
from athena_pool.coins.describe import describe
from athena_pool.coins.errors import BlobError, NoReservedSpaceError
from athena_pool.coins.families import FAMILY_NAMES, BlobFamily, UnknownFamilyError, get_family
from athena_pool.coins.profiles import COINS, Coin, RpcDialect, UnknownCoinError, get_coin
from athena_pool.coins.reserved import ReservedOffsetCheck, ReservedOffsetVerdict, cross_check_reserved_offset

__all__ = [
    "COINS",
    "FAMILY_NAMES",
    "Address",
    "AddressError",
    "AddressKind",
    "AddressNetwork",
    "BlobError",
    "BlobFamily",
    "Block",
    "Coin",
    "NoReservedSpaceError",
    "ParentBlock",
    "ReservedOffsetCheck",
    "ReservedOffsetVerdict",
    "ReservedSpace",
    "RpcDialect",
    "UnknownCoinError",
    "UnknownFamilyError",
    "UnknownNetworkError",
    "cross_check_reserved_offset",
    "decode_address",
    "describe",
    "describe_address",
    "encode_address",
    "get_coin",
    "get_family",
    "get_network",
]
