"""The `athena-pool` command: argument parsing and dispatch only; each part owns its subcommand."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, Protocol

from athena_pool import __version__
from athena_pool.errors import UsageError


class SubcommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


# name → (module, one-line help). Modules are imported only when their command runs or is listed,
# so a broken optional part never stops `athena-pool tools` from working.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("athena_pool.runner", "run the pool (with no config: the whole thing on the built-in devnet)"),
    "devnet": ("athena_pool.devnet.cli", "run a simulated Athena daemon and wallet"),
    "miner": ("athena_pool.miner.cli", "a small CPU miner that speaks stratum"),
    "tools": ("athena_pool.tools", "operator tools: hash, block, address"),
    "config": (
        "athena_pool.config_cli",
        "check or show a config file (athena-pool's or a reference config.json)",
    ),
}


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (`athena-pool tools hash: <message>`), exit code 2.

    `add_subparsers` makes subcommand parsers of the parent's class, so every subcommand inherits this.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {' '.join(message.split())}\n")


def build_parser(load: Callable[[str], SubcommandModule]) -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="athena-pool", description="A mining pool for CryptoNote coins.")
    parser.add_argument("--version", action="version", version=f"athena-pool {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        try:
            module = load(module_name)
        except ImportError as exc:
            command.set_defaults(unavailable=f"{name} is not available in this build: {exc}")
            continue
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def _load(module_name: str) -> SubcommandModule:
    module: SubcommandModule = importlib.import_module(module_name)
    return module


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_load)
    args = parser.parse_args(argv)
    if getattr(args, "unavailable", None):
        print(f"athena-pool: {args.unavailable}", file=sys.stderr)
        return 2
    try:
        result: int = args.handler(args)
    except UsageError as exc:
        print(f"athena-pool {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
