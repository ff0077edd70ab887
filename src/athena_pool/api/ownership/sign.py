"""Offline signer for wallets that cannot sign messages (Athena and TurtleCoin walletd).

    python -m athena_pool.api.ownership.sign --coin athena --address ADDRESS --message-file msg.txt

It reads a secret key (64 hex characters: the view key, or the spend key, as `walletd` `getViewKey` /
`getSpendKeys` or zedwallet `export_keys` show them) from standard input, never from the command line,
and prints a `SigV2...` signature of the message for the pool's settings page. Run it on your own
machine: the key never leaves it, and the pool only ever sees the signature.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from athena_pool.api.ownership.signatures import KeyUsed, public_key, sign_message_v2
from athena_pool.cli import OneLineErrorParser
from athena_pool.coins.addresses import AddressError, decode_address
from athena_pool.coins.profiles import get_coin


def main(argv: list[str] | None = None) -> int:
    parser = OneLineErrorParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--coin", default="athena")
    parser.add_argument("--address", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--message", help="the message, exactly as the pool showed it")
    source.add_argument("--message-file", type=Path)
    args = parser.parse_args(argv)
    message = args.message if args.message is not None else args.message_file.read_text().rstrip("\n")
    try:
        address = decode_address(args.address.partition(".")[0], get_coin(args.coin).address_network)
    except (AddressError, ValueError) as exc:
        print(f"not an address: {exc}", file=sys.stderr)
        return 2
    prompt = "secret view key (or spend key), 64 hex characters: "
    text = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline()
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        print("the key must be 64 hex characters", file=sys.stderr)
        return 2
    public = public_key(secret)
    keys = {address.public_view_key: KeyUsed.VIEW, address.public_spend_key: KeyUsed.SPEND}
    if len(secret) != 32 or public not in keys:
        print("this key belongs to neither the view nor the spend key of that address", file=sys.stderr)
        return 2
    print(
        sign_message_v2(
            message.encode(), address.public_spend_key, address.public_view_key, secret, keys[public]
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
