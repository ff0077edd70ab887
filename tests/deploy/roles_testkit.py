"""Helpers for test_deploy_roles_as_processes.py: the deploy/ stack's processes (devnet, the athena-pool
roles) started without Docker on the loopback interface, each as its own OS process with its own log.

What is taken from deploy/ as it is: the devnet stack's config (`config/athena-devnet.json`), the role
services' command lines and environment (`docker-compose.yml`), the throw-away secrets of the devnet
overlay (`docker-compose.devnet.yml`, `devnet/`). What is swapped, as in the other deploy tests, is only
what is machine-specific (ports, host names, paths) and what makes a run take seconds instead of hours.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from deploy_testkit import DEPLOY

DEVNET_CONFIG = DEPLOY / "config" / "athena-devnet.json"
# The console script `athena-pool` is this, run by the interpreter the tests run with.
ATHENA_POOL = (sys.executable, "-m", "athena_pool")
SECRETS_MOUNT = "/run/secrets/"
LOOPBACK = "127.0.0.1"
POLL_S = 0.25
HTTP_TIMEOUT_S = 10.0
LOG_TAIL_CHARS = 4000
DEVNET_STARTUP_S = 30.0

# The devnet: blocks cheap enough for one demo-miner thread on a busy machine (~100-180 H/s with
# cn-lite/1, so a pool block every few seconds), and "other people's" blocks every few seconds without
# grinding their nonce (no CPU spent), so the pool's blocks get buried 4 deep (Athena's unlock depth) fast.
DEVNET_DIFFICULTY = 300
DEVNET_BLOCK_TIME_S = 3.0

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------------------
# Ports and the shared config file.


@dataclass(frozen=True)
class StackPorts:
    redis: int
    daemon: int
    wallet: int
    stratum: int
    api: int


def free_ports(redis: int) -> StackPorts:
    """Distinct free loopback ports besides Redis's (already listening): every probe socket stays open
    until all are chosen, so no two are the same."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(4):
            probe = stack.enter_context(socket.socket())
            probe.bind((LOOPBACK, 0))
            ports.append(probe.getsockname()[1])
    return StackPorts(redis, *ports)


def stack_config(ports: StackPorts, data_dir: Path, log_dir: Path) -> dict[str, Any]:
    """deploy/config/athena-devnet.json with the container addresses swapped for loopback ports and the
    intervals shortened; fees, payout threshold, transfer fee, scheme and the pool address stay."""
    config: dict[str, Any] = json.loads(DEVNET_CONFIG.read_text())
    config["data_dir"] = str(data_dir)
    config["daemon"]["url"] = f"http://{LOOPBACK}:{ports.daemon}"
    config["redis"]["url"] = f"redis://{LOOPBACK}:{ports.redis}/0"
    config["payments"]["wallet"]["url"] = f"http://{LOOPBACK}:{ports.wallet}"
    # One port; its difficulty low enough for a share a second from one thread.
    vardiff = {"min_difficulty": 10, "target_time": 1, "retarget_time": 3}
    config["stratum"]["ports"] = [
        {"port": ports.stratum, "difficulty": 20, "description": "Low end hardware", "vardiff": vardiff}
    ]
    config["api"].update(
        host=LOOPBACK,
        port=ports.api,
        update_interval_s=1,
        health_interval_s=2,
        charts={"interval_s": 1, "step_s": 1},
    )
    config["unlocker"]["interval"] = 1
    config["payments"]["interval"] = 1
    config["jobs"] = {"refresh_interval": 0.5}
    config["sync_wait"] = {"poll_interval": 0.5, "progress_interval": 10}
    config["logging"]["console"]["colors"] = False
    config["logging"]["files"].update(directory=str(log_dir), flush_interval=1)
    # The pool role's own demo miner: the stack's miner, on the first stratum port.
    config["demo_miner"] = {"enabled": True, "threads": 1, "worker": "rig-1"}
    return config


# ---------------------------------------------------------------------------------------------------------
# The compose services' command lines and environment.


@dataclass(frozen=True)
class RoleService:
    """One athena-pool service of docker-compose.yml, as a command line for this machine."""

    name: str
    roles: tuple[str, ...]
    argv: tuple[str, ...]
    environment: Mapping[str, str]
    stop_grace_s: float


def role_services(
    compose: Mapping[str, Any], devnet: Mapping[str, Any], config_file: Path
) -> list[RoleService]:
    """Every service that runs `athena-pool run --roles ...`, its config path and secret paths swapped for
    local ones (the devnet overlay's secret files, which the stack mounts under /run/secrets/)."""
    services = []
    for name, service in compose["services"].items():
        command = service.get("command")
        if not isinstance(command, list) or command[:1] != ["run"]:
            continue
        (target,) = {c["target"] for c in service["configs"] if c["source"] == "athena_pool_config"}
        argv = tuple(str(config_file) if arg == target else str(arg) for arg in command)
        environment = {
            key: _local_secret(str(value), devnet) for key, value in service.get("environment", {}).items()
        }
        services.append(
            RoleService(
                name=name,
                roles=_roles_of(command),
                argv=(*ATHENA_POOL, *argv),
                environment=environment,
                stop_grace_s=duration_s(service["stop_grace_period"]),
            )
        )
    return services


def _roles_of(command: Sequence[str]) -> tuple[str, ...]:
    index = list(command).index("--roles")
    return tuple(role.strip() for role in str(command[index + 1]).split(","))


def _local_secret(value: str, devnet: Mapping[str, Any]) -> str:
    if not value.startswith(SECRETS_MOUNT):
        return value
    name = value.removeprefix(SECRETS_MOUNT)
    return str((DEPLOY / devnet["secrets"][name]["file"]).resolve())


def devnet_secret(devnet: Mapping[str, Any], name: str) -> str:
    """A devnet secret as the compose script reads it: `$(cat file)`, the trailing newline dropped."""
    path = DEPLOY / str(devnet["secrets"][name]["file"])
    return path.read_text().rstrip("\n")


def duration_s(text: str) -> float:
    """A compose duration such as `30s`, `2m` or `1m30s`, in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a compose duration: {text!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def devnet_argv(ports: StackPorts, data_dir: Path, pool_address: str, password: str) -> tuple[str, ...]:
    """The devnet service's command (docker-compose.devnet.yml) on loopback ports, with demo timings."""
    return (
        *ATHENA_POOL, "devnet",
        "--host", LOOPBACK,
        "--daemon-port", str(ports.daemon),
        "--wallet-port", str(ports.wallet),
        "--data-dir", str(data_dir),
        "--pool-address", pool_address,
        "--rpc-password", password,
        "--difficulty", str(DEVNET_DIFFICULTY),
        "--block-time", str(DEVNET_BLOCK_TIME_S),
        "--network-pow", "skip",
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# Child processes.


class Child:
    """One process of the stack, its stdout and stderr in one log file."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.name = name
        self.process = process
        self.log = log

    @classmethod
    def start(
        cls, name: str, argv: Sequence[str], log: Path, environment: Mapping[str, str] | None = None
    ) -> Child:
        # The child keeps its own copy of the descriptor; ours is closed at once.
        with log.open("wb") as output:
            process = subprocess.Popen(
                list(argv), stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=dict(environment) if environment is not None else None,
            )  # fmt: skip
        return cls(name, process, log)

    def tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log.name}) ---\n{text[-LOG_TAIL_CHARS:]}"

    def terminate(self) -> None:
        """One SIGTERM, as Docker and systemd send (a second one, once the process has dropped its handler
        on the way out, would kill it by the signal's default action)."""
        self.process.send_signal(signal.SIGTERM)

    def exit_code(self, within_s: float) -> int:
        """Wait for the exit; a process still running after `within_s` is killed and that is a failure."""
        try:
            return self.process.wait(within_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.name} did not exit within {within_s:g} s of SIGTERM\n{self.tail()}"
            ) from None

    def kill(self) -> None:
        """For clean-up after a failure: no process outlives the test."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def wait_until(
    check: Callable[[], T | None], timeout_s: float, what: str, watched: Sequence[Child] = ()
) -> T:
    """Poll `check` until it returns something other than None (or False); fail after `timeout_s`, or as
    soon as a watched process exits. A check that raises OSError (a port not open yet, an HTTP error)
    counts as not yet; its last error is in the failure message."""
    deadline = time.monotonic() + timeout_s
    last_error = ""
    while True:
        try:
            result = check()
        except OSError as exc:
            result, last_error = None, f"{type(exc).__name__}: {exc}"
        if result is not None and result is not False:
            return result
        dead = [child for child in watched if child.process.poll() is not None]
        if dead or time.monotonic() > deadline:
            why = ", ".join(f"{c.name} exited with {c.process.returncode}" for c in dead) or "timed out"
            logs = "\n".join(child.tail() for child in (dead or watched))
            raise AssertionError(f"{why} after waiting for {what} ({last_error or 'no error'})\n{logs}")
        time.sleep(POLL_S)


def start_devnet(argv: Sequence[str], log: Path, ports: StackPorts, started: list[Child]) -> Child:
    """The devnet process (added to `started` at once, for the clean-up), once its daemon answers."""
    devnet = Child.start("devnet", argv, log)
    started.append(devnet)
    wait_until(
        lambda: get_json(f"http://{LOOPBACK}:{ports.daemon}/getinfo")["height"] >= 1,
        DEVNET_STARTUP_S, "the devnet daemon", [devnet],
    )  # fmt: skip
    return devnet


# ---------------------------------------------------------------------------------------------------------
# HTTP.


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
        return json.loads(response.read())


def wallet_call(port: int, method: str, params: Mapping[str, Any], password: str) -> dict[str, Any]:
    """A walletd JSON-RPC call to the devnet wallet; its `result`."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": dict(params), "password": password}
    request = urllib.request.Request(
        f"http://{LOOPBACK}:{port}/json_rpc", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
        answer: dict[str, Any] = json.loads(response.read())
    assert "error" not in answer, f"{method}: {answer['error']}"
    result: dict[str, Any] = answer["result"]
    return result


def daemon_call(port: int, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-RPC call to the devnet daemon; its `result`."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": dict(params)}
    request = urllib.request.Request(
        f"http://{LOOPBACK}:{port}/json_rpc", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
        answer: dict[str, Any] = json.loads(response.read())
    assert "error" not in answer, f"{method}: {answer['error']}"
    result: dict[str, Any] = answer["result"]
    return result


# ---------------------------------------------------------------------------------------------------------
# Logs.


def tracebacks(paths: Sequence[Path]) -> list[str]:
    """`path: line` for every Traceback in the given log files, with the lines that follow it."""
    found = []
    for path in paths:
        lines = path.read_text(errors="replace").splitlines()
        for number, line in enumerate(lines):
            if "Traceback" in line:
                found.append(f"{path.name}:{number + 1}: " + "\n".join(lines[number : number + 15]))
    return found
