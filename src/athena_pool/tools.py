"""`athena-pool tools`: hash a blob, take a block apart, check an address."""

from __future__ import annotations

import argparse
import json

from athena_pool.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="tool", metavar="TOOL", required=True)

    hash_cmd = sub.add_parser("hash", help="print the proof-of-work hash of a blob")
    hash_cmd.add_argument("algo", help="algorithm, e.g. cn-lite/1, cn-pico/trtl, argon2/chukwav2, rx/0")
    hash_cmd.add_argument("input_hex", help="the hashing blob, hex")
    hash_cmd.add_argument("--height", type=int, default=0, help="block height (cn/r)")
    hash_cmd.add_argument("--seed", dest="seed_hex", help="RandomX seed hash, hex")
    hash_cmd.set_defaults(tool_handler=_hash)

    block_cmd = sub.add_parser("block", help="take a block or template apart (JSON)")
    block_cmd.add_argument("family", help="monero, forknote2 or cryptonote_v1")
    block_cmd.add_argument("blob_hex", help="a full block or a blocktemplate_blob, hex")
    block_cmd.set_defaults(tool_handler=_block)

    address_cmd = sub.add_parser("address", help="check an address and show its parts (JSON)")
    address_cmd.add_argument("address")
    address_cmd.add_argument("--coin", default="athena", help="network, e.g. athena, turtlecoin, monero")
    address_cmd.set_defaults(tool_handler=_address)


def run(args: argparse.Namespace) -> int:
    output: str = args.tool_handler(args)
    print(output)
    return 0


def parse_hex(text: str, what: str) -> bytes:
    cleaned = text.strip()
    if len(cleaned) % 2:
        raise UsageError(f"{what} has an odd number of hex digits ({len(cleaned)})")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise UsageError(f"{what} is not hex") from None


def _hash(args: argparse.Namespace) -> str:
    from athena_pool.pow import PowError, UnknownAlgorithmError, create_algorithm

    blob = parse_hex(args.input_hex, "INPUT_HEX")
    seed = parse_hex(args.seed_hex, "--seed") if args.seed_hex else None
    try:
        algorithm = create_algorithm(args.algo)
    except UnknownAlgorithmError as exc:
        raise UsageError(str(exc)) from None
    if algorithm.needs_seed and seed is None:
        raise UsageError(f"{algorithm.name} needs --seed SEED_HEX")
    try:
        return algorithm.hash(blob, height=args.height, seed=seed).hex()
    except PowError as exc:
        raise UsageError(str(exc)) from None
    finally:
        algorithm.close()


def _block(args: argparse.Namespace) -> str:
    from athena_pool.coins.describe import describe

    blob = parse_hex(args.blob_hex, "BLOB_HEX")
    try:
        return json.dumps(describe(args.family, blob), indent=2)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _address(args: argparse.Namespace) -> str:
    from athena_pool.coins.addresses import describe_address

    try:
        return json.dumps(describe_address(args.address, args.coin), indent=2)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
