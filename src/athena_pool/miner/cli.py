"""`athena-pool miner --url HOST:PORT --user ADDRESS`: mine against a stratum pool until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal

import uvloop

from athena_pool.errors import UsageError
from athena_pool.miner.client import Miner, MinerOptions

MAX_THREADS = 256


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="pool address, HOST:PORT (stratum+tcp:// is accepted)")
    parser.add_argument("--user", required=True, help="login: wallet address (or ADDRESS+DIFF ...)")
    parser.add_argument("--pass", dest="password", default="x", help="password / worker name (default x)")
    parser.add_argument("--rig-id", help="rig id sent as `rigid`")
    parser.add_argument("--threads", type=int, default=1, help="hashing threads (default 1)")
    parser.add_argument("--algo", default="cn-lite/1", help="algorithm offered at login (default cn-lite/1)")
    parser.add_argument("--report-interval", type=float, default=10.0, help="seconds between status lines")


def parse_url(url: str) -> tuple[str, int]:
    text = url.strip()
    for scheme in ("stratum+tcp://", "tcp://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    host, separator, port_text = text.rpartition(":")
    if not separator or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"--url must be HOST:PORT, got {url!r}")
    return host.strip("[]"), int(port_text)


def options_from_args(args: argparse.Namespace) -> MinerOptions:
    host, port = parse_url(args.url)
    if not 1 <= args.threads <= MAX_THREADS:
        raise UsageError(f"--threads must be 1..{MAX_THREADS} (this machine has {os.cpu_count()} cores)")
    if args.report_interval <= 0:
        raise UsageError("--report-interval must be positive")
    return MinerOptions(
        host=host,
        port=port,
        user=args.user,
        password=args.password,
        rig_id=args.rig_id,
        threads=args.threads,
        algo=args.algo,
        report_interval=args.report_interval,
    )


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    uvloop.run(_mine(options))
    return 0


async def _mine(options: MinerOptions) -> None:
    miner = Miner(options, reporter=lambda line: print(line, flush=True))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, miner.stop)
    where = f"{options.host}:{options.port}"
    print(f"mining {options.algo} at {where} with {options.threads} thread(s)", flush=True)
    await miner.run()
    print(miner.report_line(), flush=True)
