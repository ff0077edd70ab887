#!/usr/bin/env python3
"""Container health check for athena-pool: exit 0 when healthy, 1 when not (Docker's HEALTHCHECK contract).

What to probe comes from ATHENA_POOL_HEALTHCHECK (or the arguments), one or more checks separated by spaces,
all of which must pass:

    tcp:HOST:PORT                 a TCP connection is accepted (a stratum port, the API port, a devnet port)
    http://HOST:PORT/PATH         an HTTP GET answers 2xx
    none                          nothing to probe (a role with no listener: unlocker, payments, charts);
                                  Docker's restart policy already covers a process that exits

Standard library only, so it runs in the runtime image as it is; every probe has a short timeout.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 3.0


class CheckError(Exception):
    pass


def check_tcp(spec: str) -> None:
    host, sep, port_text = spec.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise CheckError(f"tcp:{spec}: expected tcp:HOST:PORT")
    host = host.strip("[]")  # tcp:[::1]:3335
    try:
        with socket.create_connection((host, int(port_text)), timeout=TIMEOUT_S):
            pass
    except OSError as exc:
        raise CheckError(f"tcp:{spec}: {exc.strerror or exc}") from None


def check_http(url: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        raise CheckError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise CheckError(f"{url}: HTTP {status}")


def run_check(spec: str) -> None:
    if spec == "none":
        return
    if spec.startswith("tcp:"):
        check_tcp(spec.removeprefix("tcp:"))
    elif spec.startswith(("http://", "https://")):
        check_http(spec)
    else:
        raise CheckError(f"{spec!r}: unknown check (tcp:HOST:PORT, http://..., or none)")


def main(argv: list[str]) -> int:
    specs = argv or os.environ.get("ATHENA_POOL_HEALTHCHECK", "").split()
    if not specs:
        print("unhealthy: nothing to check (set ATHENA_POOL_HEALTHCHECK)", file=sys.stderr)
        return 1
    for spec in specs:
        try:
            run_check(spec)
        except CheckError as exc:
            print(f"unhealthy: {exc}", file=sys.stderr)
            return 1
    print("healthy: " + " ".join(specs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
