"""`athena-pool run`: the roles asked for, until SIGINT/SIGTERM. With no --config, the embedded default runs
the whole thing on one machine: a local Redis, the Athena devnet, the pool and a demo miner.

Exit codes, for systemd (`RestartPreventExitStatus=2`) and Docker restart policies:
- 0: stopped by SIGINT/SIGTERM, in order (also while still waiting for the daemon to sync);
- 1: a part of the pool failed while running (restarting may help);
- 2: a usage or configuration error (one line per problem on stderr; restarting would only repeat it).

SIGHUP reopens the log files (logrotate renames them first).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import uvloop

from athena_pool.aio import cancel_until_done
from athena_pool.config import (
    ConfigError,
    LoadedConfig,
    PoolConfig,
    embedded_default,
    load,
    placeholder_problems,
    secret_values,
)
from athena_pool.console import report_forever
from athena_pool.logs import LEVELS, LogSetup, configure_logging
from athena_pool.stratum.cluster import reserve_ports, resolve_worker_count, run_cluster
from athena_pool.supervisor import ROLES, RunningPool, run_pool

log = logging.getLogger("athena_pool")

EXIT_STOPPED = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="config file, JSON or TOML (default: the embedded devnet setup)"
    )
    parser.add_argument("--data-dir", type=Path, help="override the config's data_dir")
    parser.add_argument(
        "--roles",
        default=",".join(ROLES),
        help=f"comma-separated roles to run in this process (default: all of {','.join(ROLES)})",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LEVELS,
        help="level of every log sink (default: the config's logging levels)",
    )


def run(args: argparse.Namespace) -> int:
    source = str(args.config) if args.config else "(embedded default)"
    try:
        loaded = load(args.config) if args.config else LoadedConfig(embedded_default())
        blockers = placeholder_problems(loaded.config)
        if blockers:
            raise ConfigError(source, blockers)
    except ConfigError as exc:
        return _config_problems(source, exc.problems)
    roles = [role.strip() for role in args.roles.split(",") if role.strip()]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        what = f"unknown role(s) {', '.join(unknown)}" if unknown else "no role given"
        return _config_problems("--roles", [f"{what}; known: {', '.join(ROLES)}"])
    config = replace(loaded.config, data_dir=args.data_dir) if args.data_dir else loaded.config
    try:
        logs = configure_logging(config.logging, roles, secret_values(config), level_override=args.log_level)
    except OSError as exc:
        where = config.logging.files.directory
        return _config_problems(source, [f"logging.files.directory: cannot write to {where}: {exc.strerror}"])
    workers = resolve_worker_count(config.stratum.cluster_workers)
    if workers > 1:
        problems = _cluster_problems(config, roles)
        if problems:
            logs.close()
            return _config_problems(source, problems)
    try:
        for warning in loaded.warnings:
            log.warning("%s: %s", source, warning)
        if workers > 1:
            return _run_cluster(config, workers)
        return uvloop.run(serve(config, roles, logs))
    except Exception:
        log.critical("athena-pool stopped by an unexpected error", exc_info=True)
        return EXIT_FAILED
    finally:
        logs.close()


def _cluster_problems(config: PoolConfig, roles: Sequence[str]) -> list[str]:
    """Several stratum processes share Redis and the daemon; each must be a plain pool role."""
    problems = []
    if list(roles) != ["pool"]:
        problems.append("stratum.cluster_workers > 1: run the pool role alone (--roles pool)")
    if config.devnet.enabled:
        problems.append(
            "stratum.cluster_workers > 1: not with the built-in devnet (it belongs to one process)"
        )
    if config.redis.url is None:
        problems.append("stratum.cluster_workers > 1: needs a shared Redis (redis.url)")
    return problems


def _run_cluster(config: PoolConfig, workers: int) -> int:
    """N pool processes on the same ports (SO_REUSEPORT); the parent only supervises them."""
    ports, held = reserve_ports(config.stratum.ports)
    try:
        stratum = replace(config.stratum, ports=ports, reuse_port=True)
        worker_config = replace(config, stratum=stratum, demo_miner=replace(config.demo_miner, enabled=False))
        log.info("starting %d stratum worker processes", workers)
        return run_cluster(partial(serve_stratum_worker, worker_config), workers)
    finally:
        for sock in held:
            sock.close()


def serve_stratum_worker(config: PoolConfig, index: int) -> None:
    """One cluster worker (a fresh interpreter): the pool role with a data folder of its own (its spill
    file) and its own logs."""
    worker = replace(config, data_dir=config.data_dir / f"worker-{index}")
    logs = configure_logging(worker.logging, ["pool"], secret_values(worker))
    try:
        code = uvloop.run(serve(worker, ["pool"], logs))
    finally:
        logs.close()
    if code:
        raise SystemExit(code)


def _config_problems(source: str, problems: Sequence[str]) -> int:
    for problem in problems:
        print(f"athena-pool run: {source}: {problem}", file=sys.stderr)
    return EXIT_CONFIG


async def serve(config: PoolConfig, roles: Sequence[str], logs: LogSetup | None = None) -> int:
    """Run the roles until SIGINT/SIGTERM (0) or until a part of the pool dies (1). A stop signal while
    the pool is still starting (waiting for a syncing daemon, say) cancels the start-up cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = [signal.SIGINT, signal.SIGTERM]
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    if logs is not None:
        loop.add_signal_handler(signal.SIGHUP, _reopen, logs)
        signals.append(signal.SIGHUP)
    started = asyncio.Event()
    main = asyncio.create_task(_serve_roles(config, roles, stop, started), name="athena-pool")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not main.done() and not started.is_set():
            log.info("stopping before the pool was ready")
            main.cancel()
        await asyncio.wait({main})
        if main.cancelled():
            log.info("stopped")
            return EXIT_STOPPED
        return main.result()
    finally:
        stopping.cancel()
        for signum in signals:
            loop.remove_signal_handler(signum)


def _reopen(logs: LogSetup) -> None:
    logs.reopen()
    log.info("log files reopened (SIGHUP)")


async def _serve_roles(
    config: PoolConfig, roles: Sequence[str], stop: asyncio.Event, started: asyncio.Event
) -> int:
    failed = False
    try:
        async with run_pool(config, roles) as pool:
            started.set()
            _log_ready(pool, roles)
            failed = await _until_stop_or_failure(pool, roles, stop)
    except Exception:
        if not failed:
            raise
        # The part that died may raise its error again while the others stop; it was reported (with its
        # traceback) when it died, and the rest of the shutdown still ran.
        log.debug("the failed part's error, again while stopping", exc_info=True)
    log.info("stopped")
    return EXIT_FAILED if failed else EXIT_STOPPED


async def _until_stop_or_failure(pool: RunningPool, roles: Sequence[str], stop: asyncio.Event) -> bool:
    """Serve until a stop signal (False) or until a part of the pool dies (True)."""
    reporter = None
    if "pool" in roles and pool.config.console.interval:
        reporter = asyncio.create_task(report_forever(pool, pool.config.console.interval))
    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(pool.failed.wait())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    failed = pool.failed.is_set() and not stop.is_set()
    log.log(logging.ERROR if failed else logging.INFO, "stopping%s", " after a failure" if failed else "")
    await cancel_until_done(*waits, reporter)
    return failed


def _log_ready(pool: RunningPool, roles: Sequence[str]) -> None:
    what = f"coin {pool.coin.name}, pool address {pool.pool_address}, roles {','.join(roles)}"
    if pool.stratum_role is not None:
        ports = ", ".join(str(port) for port in pool.stratum_ports)
        log.info("pool ready: stratum on %s, %s", ports, what)
    else:
        log.info("ready: %s", what)
