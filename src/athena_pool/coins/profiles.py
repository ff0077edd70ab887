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


def _forknote2_coin(
    name: str, symbol: str, pow_algorithm: str, *, unlock_depth: int, block_seconds: int, rpc_port: int
) -> Coin:
    """A coin of the Bytecoin/TurtleCoin lineage: 2 decimal places, forknote2 blobs, the TurtleCoin RPC
    dialect, payment ids and integrated addresses, and an address network of the coin's own name."""
    return Coin(
        name=name, symbol=symbol, decimal_places=2, blob_family="forknote2", pow_algorithm=pow_algorithm,
        address_network=name, coinbase_unlock_depth=unlock_depth, target_block_seconds=block_seconds,
        default_daemon_rpc_port=rpc_port, rpc_dialect=RpcDialect.TURTLE, supports_payment_ids=True,
        supports_integrated_addresses=True,
    )  # fmt: skip


COINS: tuple[Coin, ...] = (
    _forknote2_coin("athena", "ATHX", "cn-lite/1", unlock_depth=4, block_seconds=3600, rpc_port=12001),
    _forknote2_coin(
        "turtlecoin", "TRTL", "argon2/chukwav2", unlock_depth=40, block_seconds=30, rpc_port=11898
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
