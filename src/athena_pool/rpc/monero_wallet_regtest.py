"""A throw-away monero-wallet-rpc on loopback, for tests and demos against a regtest monerod.

One process holds one open wallet at a time; its wallets live in its own folder. Start, stop and `call` are
synchronous on purpose: they set up and check from fixtures, never on the pool's event loop (the payment
processor talks to the same process through its own asynchronous wallet client).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from athena_pool.rpc.monerod_regtest import free_loopback_port


class MoneroWalletRpcStartError(RuntimeError):
    """monero-wallet-rpc is not installed, or did not start."""


class MoneroWalletRpc:
    """One monero-wallet-rpc process on loopback, wallets in its own folder, talking to a regtest monerod.
    Use as a context manager, or call `start` and `stop`."""

    def __init__(
        self,
        data_dir: Path,
        daemon_port: int,
        *,
        rpc_login: str | None = None,
        binary: str = "monero-wallet-rpc",
        startup_timeout: float = 60.0,
    ) -> None:
        self.data_dir = data_dir
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.binary = binary
        self.startup_timeout = startup_timeout
        self._daemon_port = daemon_port
        self._rpc_login = rpc_login  # "user:password" for HTTP digest; None: --disable-rpc-login
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MoneroWalletRpc:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def command(self, binary: str) -> list[str]:
        wallets = self.data_dir / "wallets"
        return [
            binary, f"--daemon-address=127.0.0.1:{self._daemon_port}", "--trusted-daemon",
            f"--rpc-bind-port={self.port}", "--rpc-bind-ip=127.0.0.1",
            f"--rpc-login={self._rpc_login}" if self._rpc_login else "--disable-rpc-login",
            f"--wallet-dir={wallets}", "--non-interactive", "--no-dns", "--log-level=0",
            f"--log-file={self.data_dir / 'wallet-rpc.log'}",
            f"--shared-ringdb-dir={self.data_dir / 'ringdb'}",
        ]  # fmt: skip

    def start(self) -> None:
        binary = shutil.which(self.binary)
        if binary is None:
            raise MoneroWalletRpcStartError(f"{self.binary} not found (Debian: apt-get install monero)")
        (self.data_dir / "wallets").mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "console.log").open("wb") as console:
            self._process = subprocess.Popen(
                self.command(binary), stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self._wait_until_answering()

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise MoneroWalletRpcStartError(
                    f"monero-wallet-rpc exited with {self._process.returncode}: {self._console_tail()}"
                )
            try:
                self.call("get_version")
                return
            except urllib.error.HTTPError as error:
                if error.code == 401:  # up, and asking for the login: ready
                    return
                raise
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise MoneroWalletRpcStartError(
                        f"monero-wallet-rpc did not answer within {self.startup_timeout:g} s"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A blocking JSON-RPC call for setting up and checking (never on the processor's path)."""
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 0, "method": method, "params": dict(params or {})}
        ).encode()
        request = urllib.request.Request(f"{self.url}/json_rpc", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=300) as response:
            reply: dict[str, Any] = json.loads(response.read())
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    def create_wallet(self, name: str) -> str:
        """Creates wallet `name` (left open) and returns its primary address."""
        self.call("create_wallet", {"filename": name, "language": "English"})
        return str(self.call("get_address")["address"])

    def open_wallet(self, name: str) -> None:
        self.call("open_wallet", {"filename": name})

    def _console_tail(self) -> str:
        try:
            return (self.data_dir / "console.log").read_text(errors="replace")[-2000:]
        except OSError:
            return "(no console output)"
