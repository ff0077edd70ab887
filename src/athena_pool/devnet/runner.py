"""Wiring: the chain, "other people's" miner, the daemon and the wallet, served in one process.

    async with start_devnet(DevnetOptions(daemon_port=0, wallet_port=0, data_dir=tmp)) as devnet:
        devnet.daemon_url   # http://127.0.0.1:PORT  (POST /json_rpc, GET /getinfo ...)
        devnet.wallet_url   # http://127.0.0.1:PORT  (POST /json_rpc with "password")
        devnet.pool_address, devnet.rpc_password, devnet.chain, devnet.ledger, devnet.wallet.faults

Port 0 picks a free port (the URLs tell which). With a data directory the chain and the wallet survive a
restart; without one the chain lives in memory and the wallet journal goes to a temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from athena_pool.coins.addresses import AddressError, AddressKind, decode_address
from athena_pool.coins.profiles import get_coin
from athena_pool.devnet.chain import Chain, ChainParams
from athena_pool.devnet.daemon import DevnetDaemon
from athena_pool.devnet.journal import Journal
from athena_pool.devnet.keys import generate_address
from athena_pool.devnet.network import NetworkMiner
from athena_pool.devnet.wallet import DevnetWallet
from athena_pool.devnet.wallet_ledger import WalletLedger, WalletParams
from athena_pool.errors import UsageError
from athena_pool.pow import PowVerifier, create_algorithm

log = logging.getLogger(__name__)

COIN = "athena"
CHAIN_FILE = "chain.jsonl"
WALLET_FILE = "wallet.jsonl"
NETWORK_MINERS = 3  # distinct "other people" addresses
NETWORK_POW_CHOICES = ("auto", "real", "skip")
AUTO_REAL_POW_MAX_DIFFICULTY = 1000  # about 7 s of one core per block with cn-lite/1
SHUTDOWN_SECONDS = 2.0


@dataclass(frozen=True)
class DevnetOptions:
    host: str = "127.0.0.1"
    daemon_port: int = 12001  # Athena's RPC_DEFAULT_PORT; 0 picks a free port
    wallet_port: int = 8070  # walletd's default bind port
    data_dir: Path | None = None
    difficulty: int = 100
    block_time: float = 30.0
    pool_address: str | None = None  # generated (and kept in the data directory) when absent
    rpc_password: str | None = "devnet"  # None: no password check (walletd --rpc-legacy-security)
    network_blocks: bool = True  # "other people" mine on a timer
    # Grind other people's blocks with the real hash: "auto" does it up to AUTO_REAL_POW_MAX_DIFFICULTY.
    network_pow: str = "auto"  # "auto", "real" or "skip"
    pow_threads: int = 1
    seed: int | None = None  # for a reproducible devnet (keys, nonces, timer)


@dataclass(frozen=True)
class RunningDevnet:
    daemon_url: str
    wallet_url: str
    pool_address: str
    rpc_password: str | None
    chain: Chain
    network: NetworkMiner
    daemon: DevnetDaemon
    wallet: DevnetWallet

    @property
    def ledger(self) -> WalletLedger:
        return self.wallet.ledger


@contextlib.asynccontextmanager
async def start_devnet(
    options: DevnetOptions, *, clock: Callable[[], float] = time.time, rng: random.Random | None = None
) -> AsyncIterator[RunningDevnet]:
    """Serve a devnet until the block exits; `rng` defaults to one seeded with `options.seed`."""
    rng = rng or random.Random(options.seed)
    coin = get_coin(COIN)
    with _data_directory(options.data_dir) as data_dir:
        wallet_journal = Journal(data_dir / WALLET_FILE)
        pool_address = _resolve_pool_address(options.pool_address, wallet_journal, rng, coin.address_network)
        network_addresses = [generate_address(rng, coin.address_network) for _ in range(NETWORK_MINERS)]
        chain = Chain(
            ChainParams(
                difficulty=options.difficulty,
                block_time=options.block_time,
                unlock_window=coin.coinbase_unlock_depth,
            ),
            genesis_address=network_addresses[0],
            clock=clock,
            rng=rng,
            journal=Journal(data_dir / CHAIN_FILE) if options.data_dir is not None else None,
        )
        verifier = PowVerifier(create_algorithm(coin.pow_algorithm), threads=options.pow_threads)
        try:
            network = NetworkMiner(
                chain, verifier, network_addresses, rng=rng, real_pow=_network_real_pow(options)
            )
            daemon = DevnetDaemon(chain, network, verifier, address_network=coin.address_network, clock=clock)
            ledger = WalletLedger(
                chain,
                pool_address,
                wallet_journal,
                params=WalletParams(),
                clock=clock,
                rng=rng,
                address_network=coin.address_network,
            )
            wallet = DevnetWallet(ledger, rpc_password=options.rpc_password)
            async with (
                _serve(daemon.application(), options.host, options.daemon_port) as daemon_url,
                _serve(wallet.application(), options.host, options.wallet_port) as wallet_url,
                _network_timer(network, enabled=options.network_blocks),
            ):
                yield RunningDevnet(
                    daemon_url, wallet_url, pool_address, options.rpc_password, chain, network, daemon, wallet
                )
        finally:
            verifier.close()


@contextlib.contextmanager
def _data_directory(configured: Path | None) -> Iterator[Path]:
    if configured is not None:
        configured.mkdir(parents=True, exist_ok=True)
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="athena-devnet-") as temporary:
        yield Path(temporary)


def _network_real_pow(options: DevnetOptions) -> bool:
    if options.network_pow not in NETWORK_POW_CHOICES:
        raise UsageError(f"network_pow must be one of {', '.join(NETWORK_POW_CHOICES)}")
    if options.network_pow == "auto":
        return options.difficulty <= AUTO_REAL_POW_MAX_DIFFICULTY
    return options.network_pow == "real"


def _resolve_pool_address(configured: str | None, journal: Journal, rng: random.Random, network: str) -> str:
    """The wallet's address: kept in its journal's first record, so a restart reopens the same wallet."""
    header = next((r for r in journal.load() if r.get("type") == "wallet"), None)
    if header is not None:
        address = str(header["address"])
        if configured is not None and configured != address:
            raise UsageError(f"{journal.path} belongs to wallet {address}, not {configured}")
        return address
    if configured is not None:
        _check_standard_address(configured, network)
    address = configured or generate_address(rng, network)
    journal.append({"type": "wallet", "address": address})
    return address


def _check_standard_address(address: str, network: str) -> None:
    try:
        decoded = decode_address(address, network)
    except AddressError as exc:
        raise UsageError(f"pool address {address!r}: {exc}") from None
    if decoded.kind is not AddressKind.STANDARD:
        raise UsageError("the pool address must be a standard address, not an integrated one")


@contextlib.asynccontextmanager
async def _serve(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    # A short shutdown: a reply held back by the test fault must not keep the process alive for a minute.
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield f"http://{_url_host(bound_host)}:{bound_port}"
    finally:
        await runner.cleanup()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextlib.asynccontextmanager
async def _network_timer(network: NetworkMiner, *, enabled: bool) -> AsyncIterator[None]:
    if not enabled:
        yield
        return
    task = asyncio.create_task(network.run_timer())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
