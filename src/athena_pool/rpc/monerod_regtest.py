"""A throw-away local monerod in regtest mode, for tests and demos on a real Monero daemon.

`monerod --regtest --offline --fixed-difficulty D` is a private chain on loopback: no peers, a difficulty
we choose (at 1 every nonce is a block), and `generateblocks` to move the chain on demand. Start and stop
are synchronous on purpose: they run in fixtures and command-line wiring, never on the pool's event loop.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from athena_pool.rpc.errors import RpcBadResponse
from athena_pool.rpc.fields import require_hash_hex, require_int, require_object, require_status_ok
from athena_pool.rpc.jsonrpc import JsonRpcClient

# A valid mainnet address (the Monero project's donation address); regtest accepts mainnet addresses.
REGTEST_ADDRESS = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)


class MonerodStartError(RuntimeError):
    """monerod is not installed, or did not start."""


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class MonerodRegtest:
    """One monerod process on loopback with its own data folder. Use as a context manager."""

    def __init__(
        self,
        data_dir: Path,
        *,
        fixed_difficulty: int = 1,
        binary: str = "monerod",
        startup_timeout: float = 90.0,
    ) -> None:
        self.data_dir = data_dir
        self.fixed_difficulty = fixed_difficulty
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.rpc_port = free_loopback_port()
        self.rpc_url = f"http://127.0.0.1:{self.rpc_port}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MonerodRegtest:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def command(self) -> list[str]:
        return [
            self.binary,
            "--regtest",
            "--offline",
            f"--fixed-difficulty={self.fixed_difficulty}",
            f"--data-dir={self.data_dir}",
            "--rpc-bind-ip=127.0.0.1",
            f"--rpc-bind-port={self.rpc_port}",
            f"--p2p-bind-port={free_loopback_port()}",
            "--p2p-bind-ip=127.0.0.1",
            "--no-zmq",
            "--no-igd",
            "--non-interactive",
            "--disable-rpc-ban",
            "--log-level=0",
            f"--log-file={self.data_dir / 'monerod.log'}",
        ]

    def start(self) -> None:
        if shutil.which(self.binary) is None:
            raise MonerodStartError(f"{self.binary} not found (Debian: apt-get install monero)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        console = (self.data_dir / "console.log").open("wb")
        with console:
            self._process = subprocess.Popen(
                self.command(), stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self._wait_until_answering()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise MonerodStartError(
                    f"monerod exited with {self._process.returncode}: {self._console_tail()}"
                )
            if self._answers_get_info():
                return
            time.sleep(0.2)
        self.stop()
        raise MonerodStartError(f"monerod did not answer within {self.startup_timeout:g} s")

    def _answers_get_info(self) -> bool:
        body = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "get_info"}).encode()
        request = urllib.request.Request(self.rpc_url + "/json_rpc", data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                reply: Any = json.loads(response.read())
        except (OSError, ValueError, urllib.error.URLError):
            return False
        return isinstance(reply, dict) and isinstance(reply.get("result"), dict)

    def _console_tail(self) -> str:
        try:
            return (self.data_dir / "console.log").read_text(errors="replace")[-2000:]
        except OSError:
            return "(no console output)"


async def generate_blocks(rpc: JsonRpcClient, count: int, wallet_address: str = REGTEST_ADDRESS) -> list[str]:
    """Regtest only: mine `count` blocks to `wallet_address`; returns their ids."""
    what = "generateblocks"
    answer = require_object(
        await rpc.call(what, {"amount_of_blocks": count, "wallet_address": wallet_address}), what
    )
    require_status_ok(answer, what)
    require_int(answer, "height", what)
    blocks = answer.get("blocks")
    if not isinstance(blocks, list) or len(blocks) != count:
        raise RpcBadResponse(f"{what}: expected a list of {count} block ids")
    return [require_hash_hex({"id": block}, "id", what) for block in blocks]
