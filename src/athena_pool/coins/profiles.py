"""Per-coin facts as data: one frozen `Coin` row per coin, looked up by name.

Sources: Athena `src/CryptoNoteConfig.h` (athena-network/athena: prefix 6581243850, 2 decimals,
DIFFICULTY_TARGET 3600 s, CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW 4, RPC port 12001, block majors up to 4,
CN-Lite variant 1 from UPGRADE_HEIGHT_V4); TurtleCoin and Monero config headers (block-format.md sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from athena_pool.coins.addresses import AddressNetwork, get_network
from athena_pool.coins.families import BlobFamily, get_family


class RpcDialect(Enum):
    # Bytecoin/TurtleCoin daemons: json_rpc `getblocktemplate`, reserved_offset off by one on legacy builds.
    TURTLE = "turtle"
    # monerod: json_rpc `get_block_template` with `blockhashing_blob`, `seed_hash` and wide difficulty.
    MONERO = "monero"


@dataclass(frozen=True)
class Coin:
    name: str
    symbol: str
    decimal_places: int
    blob_family: str
    pow_algorithm: str
    address_network: str
    coinbase_unlock_depth: int
    target_block_seconds: int
    default_daemon_rpc_port: int
    rpc_dialect: RpcDialect
    supports_payment_ids: bool
    supports_integrated_addresses: bool

    @property
    def atomic_units_per_coin(self) -> int:
        units: int = 10**self.decimal_places
        return units

    def family(self) -> BlobFamily:
        return get_family(self.blob_family)

    def network(self) -> AddressNetwork:
        return get_network(self.address_network)


COINS: tuple[Coin, ...] = (
    Coin(
        name="athena",
        symbol="ATHX",
        decimal_places=2,
        blob_family="forknote2",
        pow_algorithm="cn-lite/1",
        address_network="athena",
        coinbase_unlock_depth=4,
        target_block_seconds=3600,
        default_daemon_rpc_port=12001,
        rpc_dialect=RpcDialect.TURTLE,
        supports_payment_ids=True,
        supports_integrated_addresses=True,
    ),
    Coin(
        name="turtlecoin",
        symbol="TRTL",
        decimal_places=2,
        blob_family="forknote2",
        pow_algorithm="argon2/chukwav2",
        address_network="turtlecoin",
        coinbase_unlock_depth=40,
        target_block_seconds=30,
        default_daemon_rpc_port=11898,
        rpc_dialect=RpcDialect.TURTLE,
        supports_payment_ids=True,
        supports_integrated_addresses=True,
    ),
    Coin(
        name="monero",
        symbol="XMR",
        decimal_places=12,
        blob_family="monero",
        pow_algorithm="rx/0",
        address_network="monero",
        coinbase_unlock_depth=60,
        target_block_seconds=120,
        default_daemon_rpc_port=18081,
        rpc_dialect=RpcDialect.MONERO,
        # Standalone (long) payment ids were dropped from Monero's wallet; integrated addresses remain.
        supports_payment_ids=False,
        supports_integrated_addresses=True,
    ),
)
COIN_NAMES = tuple(coin.name for coin in COINS)


class UnknownCoinError(LookupError, ValueError):
    """No coin profile has that name (a ValueError too, so input validation catches it)."""


def get_coin(name: str) -> Coin:
    """The profile called `name` ("athena", "turtlecoin", "monero"); the symbol works too."""
    for coin in COINS:
        if name.lower() in (coin.name, coin.symbol.lower()):
            return coin
    raise UnknownCoinError(f"unknown coin {name!r}; known coins: {', '.join(COIN_NAMES)}")
