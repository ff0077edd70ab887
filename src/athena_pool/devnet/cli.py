"""`athena-pool devnet`: a simulated Athena daemon and wallet, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import uvloop

from athena_pool.devnet.runner import (
    AUTO_REAL_POW_MAX_DIFFICULTY,
    NETWORK_POW_CHOICES,
    DevnetOptions,
    RunningDevnet,
    start_devnet,
)
from athena_pool.errors import UsageError

MAX_DIFFICULTY = 2**32


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DevnetOptions()
    parser.add_argument("--host", default=defaults.host, help=f"bind address (default {defaults.host})")
    parser.add_argument(
        "--daemon-port",
        type=int,
        default=defaults.daemon_port,
        help=f"daemon RPC port (default {defaults.daemon_port}, Athena's)",
    )
    parser.add_argument(
        "--wallet-port",
        type=int,
        default=defaults.wallet_port,
        help=f"wallet RPC port (default {defaults.wallet_port})",
    )
    parser.add_argument("--data-dir", type=Path, help="keep the chain and the wallet here across restarts")
    parser.add_argument(
        "--difficulty",
        type=int,
        default=defaults.difficulty,
        help=f"fixed network difficulty (default {defaults.difficulty}); each of other "
        "people's blocks costs about difficulty x 7 ms of CPU (cn-lite/1)",
    )
    parser.add_argument(
        "--block-time",
        type=float,
        default=defaults.block_time,
        help=f"mean seconds between other people's blocks (default {defaults.block_time:g})",
    )
    parser.add_argument("--pool-address", help="the wallet's address (default: generated and printed)")
    parser.add_argument(
        "--rpc-password",
        default=defaults.rpc_password,
        help=f"wallet rpc password (default {defaults.rpc_password!r})",
    )
    parser.add_argument(
        "--no-network-blocks", action="store_true", help="do not mine other people's blocks on a timer"
    )
    parser.add_argument(
        "--network-pow",
        choices=NETWORK_POW_CHOICES,
        default=defaults.network_pow,
        help="grind other people's blocks with the real hash: auto (up to difficulty "
        f"{AUTO_REAL_POW_MAX_DIFFICULTY}), real or skip",
    )
    parser.add_argument(
        "--pow-threads",
        type=int,
        default=defaults.pow_threads,
        help="threads hashing submitted and network blocks",
    )
    parser.add_argument("--seed", type=int, help="random seed, for a reproducible devnet")


def options_from_args(args: argparse.Namespace) -> DevnetOptions:
    for name in ("daemon_port", "wallet_port"):
        if not 0 <= getattr(args, name) < 65536:
            raise UsageError(f"--{name.replace('_', '-')} must be 0..65535")
    if not 1 <= args.difficulty <= MAX_DIFFICULTY:
        raise UsageError(f"--difficulty must be 1..{MAX_DIFFICULTY}")
    if args.block_time <= 0:
        raise UsageError("--block-time must be positive")
    if not 1 <= args.pow_threads <= 64:
        raise UsageError("--pow-threads must be 1..64")
    return DevnetOptions(
        host=args.host,
        daemon_port=args.daemon_port,
        wallet_port=args.wallet_port,
        data_dir=args.data_dir,
        difficulty=args.difficulty,
        block_time=args.block_time,
        pool_address=args.pool_address,
        rpc_password=args.rpc_password or None,
        network_blocks=not args.no_network_blocks,
        network_pow=args.network_pow,
        pow_threads=args.pow_threads,
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    uvloop.run(_serve_until_signalled(options))
    return 0


async def _serve_until_signalled(options: DevnetOptions) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with start_devnet(options) as devnet:
        _print_banner(devnet, options)
        await stop.wait()
    print("devnet stopped", flush=True)


def _print_banner(devnet: RunningDevnet, options: DevnetOptions) -> None:
    timer = f"every ~{options.block_time:g} s" if options.network_blocks else "only on request"
    pow_note = "real proof of work" if devnet.network.real_pow else "nonce not ground (difficulty too high)"
    lines = [
        f"athena devnet at height {devnet.chain.height}, difficulty {options.difficulty}, "
        f"block time {options.block_time:g} s",
        f"  daemon  {devnet.daemon_url}/json_rpc",
        f"  wallet  {devnet.wallet_url}/json_rpc  (rpc password: {devnet.rpc_password!r})",
        f"  pool address {devnet.pool_address}",
        f"  other people's blocks: {timer}, {pow_note}",
        f'  operator: POST {devnet.daemon_url}/devnet/mine {{"count": N}}, /devnet/orphan {{"count": N}}',
    ]
    print("\n".join(lines), flush=True)
