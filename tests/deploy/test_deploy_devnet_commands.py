"""The devnet's command lines as deploy/ writes them (the systemd unit's ExecStart, the compose service's
`sh -c` script), run for real on the loopback interface: the devnet starts, the image's health check sees
both RPC ports, the wallet takes the password from where the deployment puts it, SIGTERM stops it cleanly.
Only the machine-specific parts are swapped: the program's path, the ports, the data and secret paths."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploy_testkit import DEPLOY, SYSTEMD, free_port, read_unit, unit_value, unit_values

HEALTHCHECK = DEPLOY / "healthcheck.py"
ATHENA_POOL = shutil.which("athena-pool")


def wallet_call(port: int, method: str, password: str) -> dict[str, Any]:
    call = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {}, "password": password}
    body = json.dumps(call).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/json_rpc", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def wait_healthy(process: subprocess.Popen[bytes], spec: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        check = subprocess.run(
            [sys.executable, str(HEALTHCHECK)], env={**os.environ, "ATHENA_POOL_HEALTHCHECK": spec},
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        if check.returncode == 0:
            return
        if process.poll() is not None or time.monotonic() > deadline:
            output = log.read_text()[-3000:]
            raise AssertionError(f"the devnet never became healthy: {check.stderr}\n{output}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes], within: float) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"the devnet did not stop within {within} s of SIGTERM") from None


@pytest.fixture
def ports() -> Iterator[tuple[int, int]]:
    daemon, wallet = free_port(), free_port()
    while wallet == daemon:
        wallet = free_port()
    yield daemon, wallet


def test_the_systemd_devnet_unit_command_runs(tmp_path: Path, ports: tuple[int, int]) -> None:
    unit = read_unit(SYSTEMD / "athena-pool-devnet.service")
    environment = dict(v.split("=", 1) for v in unit_values(unit, "Service", "Environment"))
    argv = shlex.split(unit_value(unit, "Service", "ExecStart"))
    assert argv[0] == "/opt/athena-pool/bin/athena-pool"
    argv = [sys.executable, "-m", "athena_pool", *argv[1:]]
    daemon_port, wallet_port = ports
    swaps = {
        "12001": str(daemon_port),
        "8070": str(wallet_port),
        "/var/lib/athena-pool/devnet": str(tmp_path / "devnet"),
        "${DEVNET_POOL_ADDRESS}": environment["DEVNET_POOL_ADDRESS"],
    }
    argv = [swaps.get(arg, arg) for arg in argv]
    log = tmp_path / "devnet.log"
    with log.open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_healthy(process, f"tcp:127.0.0.1:{daemon_port} tcp:127.0.0.1:{wallet_port}", log)
        addresses = wallet_call(wallet_port, "getAddresses", "devnet")
        assert addresses["result"]["addresses"] == [environment["DEVNET_POOL_ADDRESS"]]
        assert wallet_call(wallet_port, "getAddresses", "wrong")["error"]["code"] == -32604
        with urllib.request.urlopen(f"http://127.0.0.1:{daemon_port}/getinfo", timeout=10) as response:
            assert json.loads(response.read())["height"] >= 1
    finally:
        code = stop(process, within=15)  # the unit's TimeoutStopSec
    assert code == 0, log.read_text()[-3000:]
    assert (tmp_path / "devnet" / "wallet.jsonl").exists(), "the unit's --data-dir keeps the wallet"


@pytest.mark.skipif(ATHENA_POOL is None, reason="the athena-pool command is not on PATH (scripts/install)")
def test_the_compose_devnet_script_runs(
    tmp_path: Path, ports: tuple[int, int], devnet: dict[str, Any]
) -> None:
    service = devnet["services"]["devnet"]
    assert service["entrypoint"] == ["/bin/sh", "-c"]
    (script,) = service["command"]
    daemon_port, wallet_port = ports
    secret = tmp_path / "wallet_rpc_password"
    shutil.copy(DEPLOY / devnet["secrets"]["wallet_rpc_password"]["file"], secret)
    swapped = (
        script.replace("--host 0.0.0.0", "--host 127.0.0.1")
        .replace("--daemon-port 12001", f"--daemon-port {daemon_port}")
        .replace("--wallet-port 8070", f"--wallet-port {wallet_port}")
        .replace("/var/lib/athena-pool/devnet", str(tmp_path / "devnet"))
        .replace("/run/secrets/wallet_rpc_password", str(secret))
    )
    assert swapped.count(str(tmp_path)) == 2 and str(wallet_port) in swapped
    environment = {**os.environ, **{k: str(v) for k, v in service["environment"].items()}}
    log = tmp_path / "devnet.log"
    with log.open("wb") as output:
        process = subprocess.Popen(["/bin/sh", "-c", swapped], env=environment, stdout=output, stderr=output)
    try:
        wait_healthy(process, f"tcp:127.0.0.1:{daemon_port} tcp:127.0.0.1:{wallet_port}", log)
        # The password the compose file gives the wallet is the devnet secret's content, newline dropped.
        addresses = wallet_call(wallet_port, "getAddresses", secret.read_text().strip())
        assert addresses["result"]["addresses"] == [service["environment"]["DEVNET_POOL_ADDRESS"]]
    finally:
        code = stop(process, within=15)  # the service's stop_grace_period
    assert code == 0, log.read_text()[-3000:]
