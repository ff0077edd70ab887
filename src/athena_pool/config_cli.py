"""`athena-pool config check FILE...` and `athena-pool config show [FILE]`.

check: "FILE: ok" (exit 0) after one "FILE: warning: ..." line per warning; or one "FILE: ..." line per
problem on stderr (exit 2). show: the effective config as JSON on stdout (the coin's defaults filled in, a
reference config.json translated), secrets as "***"; warnings and where each secret came from on stderr.
Both read secrets from the environment as `athena-pool run` does, so a check on the host that runs the
pool also checks that the secret files can be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from athena_pool.config import (
    ConfigError,
    LoadedConfig,
    embedded_default,
    load,
    masked_dump,
    placeholder_problems,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate config files: 'ok' and warnings, or every problem")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    show = actions.add_parser("show", help="print the effective config as JSON, secrets masked")
    show.add_argument("file", nargs="?", type=Path, metavar="FILE", help="default: the embedded devnet setup")


def run(args: argparse.Namespace) -> int:
    if args.action == "check":
        results = [check(path) for path in args.files]
        return 0 if all(results) else 2
    return show(args.file)


def check(path: Path) -> bool:
    try:
        loaded = load(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return False
    notes = list(loaded.warnings) + placeholder_problems(loaded.config)
    for warning in notes:
        print(f"{path}: warning: {warning}")
    kind = (
        "a cryptonote-nodejs-pool config.json, translated" if loaded.reference_format else loaded.config.coin
    )
    count = f"; {len(notes)} warning{'s' if len(notes) != 1 else ''}" if notes else ""
    print(f"{path}: ok ({kind}{count})")
    return True


def show(path: Path | None) -> int:
    try:
        loaded = load(path) if path is not None else LoadedConfig(embedded_default())
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return 2
    source = str(path) if path is not None else "(embedded default)"
    for warning in loaded.warnings:
        print(f"{source}: warning: {warning}", file=sys.stderr)
    for key, where in loaded.secret_sources.items():
        print(f"{source}: {key} from {where}", file=sys.stderr)
    try:
        json.dump(masked_dump(loaded.config), sys.stdout, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `config show | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
