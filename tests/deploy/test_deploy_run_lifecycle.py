"""`athena-pool run` as a supervisor sees it, each case a real process with a config file on free ports:

- a daemon still syncing: the pool says how far it is and keeps its stratum port closed, and opens it once
  the daemon reports synced (a scripted daemon in front of the devnet: `/getinfo` says "syncing" until the
  test flips it, every other request goes through to the devnet, so the templates are real);
- SIGINT and SIGTERM: the same ordered shutdown, exit 0, both while serving and while still waiting;
- a role that dies (the payments processor, on a record it cannot read): the process stops in order and
  exits 1, so that Docker's or systemd's restart policy steps in.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from deploy_testkit import http_server
from roles_testkit import (
    ATHENA_POOL,
    LOOPBACK,
    Child,
    StackPorts,
    devnet_argv,
    free_ports,
    get_json,
    stack_config,
    start_devnet,
    wait_until,
)
from test_deploy_redis import RedisProcess

from athena_pool.storage.keys import KeySpace

STARTUP_TIMEOUT_S = 45.0
STOP_TIMEOUT_S = 30.0  # the pool service's stop_grace_period
SYNCING_HEIGHT, NETWORK_HEIGHT = 1234, 5678
LOG_LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+)\s+(?P<name>\S+): (?P<message>.*)$")


# ---------------------------------------------------------------------------------------------------------
# A daemon that says it is syncing until told otherwise, and is the devnet's daemon for the rest.


@dataclass
class ScriptedDaemon:
    devnet_url: str
    synced: threading.Event = field(default_factory=threading.Event)
    getinfo_while_syncing: int = 0
    port: int = 0

    def answer(self, path: str, body: bytes | None) -> tuple[int, bytes]:
        if path == "/getinfo" and not self.synced.is_set():
            self.getinfo_while_syncing += 1
            info = {
                "status": "OK",
                "height": SYNCING_HEIGHT,
                "network_height": NETWORK_HEIGHT,
                "synced": False,
                "difficulty": 1000,
            }
            return 200, json.dumps(info).encode()
        request = urllib.request.Request(self.devnet_url + path, data=body, method="POST" if body else "GET")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()


@contextlib.contextmanager
def scripted_daemon(devnet_port: int) -> Iterator[ScriptedDaemon]:
    daemon = ScriptedDaemon(f"http://{LOOPBACK}:{devnet_port}")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self, body: bytes | None) -> None:
            status, answer = daemon.answer(self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def do_GET(self) -> None:
            self._reply(None)

        def do_POST(self) -> None:
            self._reply(self.rfile.read(int(self.headers.get("Content-Length", 0))))

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http_server(Handler) as daemon.port:
        yield daemon


# ---------------------------------------------------------------------------------------------------------
# The processes: Redis (deploy/redis/redis.conf), the devnet, and `athena-pool run`.


@dataclass
class Setup:
    tmp_path: Path
    ports: StackPorts
    redis: RedisProcess
    devnet: Child
    started: list[Child]

    def config(self, daemon_port: int, **overrides: Any) -> Path:
        """The devnet stack's config (deploy/config/athena-devnet.json) on this machine's ports, the daemon
        at `daemon_port`, no demo miner; written to a file as an operator would."""
        ports = StackPorts(
            self.ports.redis, daemon_port, self.ports.wallet, self.ports.stratum, self.ports.api
        )
        config = stack_config(ports, self.tmp_path / "data", self.tmp_path / "logs")
        config["demo_miner"] = {"enabled": False}
        config.update(overrides)
        path = self.tmp_path / "pool.json"
        path.write_text(json.dumps(config, indent=2))
        return path

    def run(self, config: Path, roles: str, name: str = "athena-pool") -> Child:
        """`athena-pool run`, given the devnet wallet's password as the stack gives it (a secret file)."""
        secret = self.tmp_path / "wallet_rpc_password"
        secret.write_text("devnet\n")
        environment = {**os.environ, "ATHENA_POOL_WALLET_RPC_PASSWORD_FILE": str(secret)}
        argv = (*ATHENA_POOL, "run", "--config", str(config), "--roles", roles)
        child = Child.start(name, argv, self.tmp_path / f"{name}.out", environment)
        self.started.append(child)
        return child


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed (scripts/install installs it)")
    (tmp_path / "redis").mkdir()
    redis = RedisProcess(tmp_path / "redis", extra_args=[])
    started: list[Child] = []
    try:
        redis.start()
        ports = free_ports(redis.port)
        pool_address = stack_config(ports, tmp_path, tmp_path)["pool_address"]
        argv = devnet_argv(ports, tmp_path / "devnet", pool_address, "devnet")
        devnet = start_devnet(argv, tmp_path / "devnet.out", ports, started)
        yield Setup(tmp_path, ports, redis, devnet, started)
    finally:
        for child in reversed(started):
            child.kill()
        redis.stop()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=2):
            return True
    except OSError:
        return False


def messages(child: Child, *, levels: tuple[str, ...] = ()) -> list[str]:
    """`name: message` of each log line the process wrote to its console, in order (only `levels`)."""
    found = []
    for text in child.log.read_text(errors="replace").splitlines():
        match = LOG_LINE.match(text)
        if match and (not levels or match["level"] in levels):
            found.append(f"{match['name']}: {match['message']}")
    return found


def shutdown_lines(child: Child) -> list[str]:
    """From the "stopping" line on: the runner's own lines and every warning or error (not the routine
    lines that parts still busy at the signal write: a last payments pass, a new template)."""
    lines = messages(child)
    start = next(i for i, text in enumerate(lines) if re.fullmatch(r"athena_pool: stopping.*", text))
    problems = set(messages(child, levels=("WARNING", "ERROR", "CRITICAL")))
    return [text for text in lines[start:] if text.startswith("athena_pool: ") or text in problems]


def stop(child: Child, signum: signal.Signals) -> int:
    child.process.send_signal(signum)
    return child.exit_code(STOP_TIMEOUT_S)


# ---------------------------------------------------------------------------------------------------------
# The cases.


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_pool_waits_for_a_syncing_daemon_then_serves_and_stops_in_order(
    setup: Setup, signum: signal.Signals
) -> None:
    with scripted_daemon(setup.ports.daemon) as daemon:
        pool = setup.run(setup.config(daemon.port), "pool")
        progress = f"height {SYNCING_HEIGHT} of {NETWORK_HEIGHT}"

        def still_waiting() -> bool:
            said = any("waiting for the daemon" in text and progress in text for text in messages(pool))
            return said and daemon.getinfo_while_syncing >= 3

        wait_until(still_waiting, STARTUP_TIMEOUT_S, "the pool saying it waits for the sync", [pool])
        assert not port_open(setup.ports.stratum), "stratum open while the daemon is still syncing"
        assert not any("pool ready" in text for text in messages(pool))

        daemon.synced.set()
        wait_until(lambda: port_open(setup.ports.stratum), STARTUP_TIMEOUT_S, "the stratum port", [pool])
        lines = messages(pool)
        synced = next(i for i, text in enumerate(lines) if "synced at height" in text)
        ready = next(i for i, text in enumerate(lines) if "pool ready: stratum on" in text)
        assert synced < ready

        assert stop(pool, signum) == 0, pool.tail()
    assert shutdown_lines(pool) == ["athena_pool: stopping", "athena_pool: stopped"], pool.tail()
    assert "Traceback" not in pool.log.read_text()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_while_waiting_for_the_sync_exits_0(setup: Setup, signum: signal.Signals) -> None:
    with scripted_daemon(setup.ports.daemon) as daemon:
        pool = setup.run(setup.config(daemon.port), "pool")
        polled = lambda: daemon.getinfo_while_syncing >= 2  # noqa: E731
        wait_until(polled, STARTUP_TIMEOUT_S, "the pool polling the daemon", [pool])
        assert stop(pool, signum) == 0, pool.tail()
    assert shutdown_lines(pool)[-1] == "athena_pool: stopped"
    assert "athena_pool: stopping before the pool was ready" in messages(pool)
    assert not port_open(setup.ports.stratum)


def test_every_role_stops_the_same_way_on_sigint_and_sigterm(setup: Setup) -> None:
    """All roles in one process, served, then stopped: the same shutdown lines in the same order."""
    config = setup.config(setup.ports.daemon)
    seen = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        child = setup.run(config, "pool,api,unlocker,payments,charts", name=f"all-{signum.name}")
        wait_until(
            lambda child=child: any("pool ready" in text for text in messages(child)),
            STARTUP_TIMEOUT_S, "every role started", [child],
        )  # fmt: skip
        assert get_json(f"http://{LOOPBACK}:{setup.ports.api}/health")["status"] in ("ok", "degraded")
        assert stop(child, signum) == 0, child.tail()
        seen[signum.name] = shutdown_lines(child)
        assert "Traceback" not in child.log.read_text()
        assert not port_open(setup.ports.stratum) and not port_open(setup.ports.api)
    assert seen["SIGINT"] == seen["SIGTERM"] == ["athena_pool: stopping", "athena_pool: stopped"]



def test_a_role_that_dies_stops_the_process_with_exit_code_1(setup: Setup) -> None:
    """The compose service `unlocker-payments`: its payment processor meets an open payment batch it cannot
    read and dies (a Redis or wallet outage would only be retried). The process must not go on as a
    half pool: it stops the other role in order and exits 1, which a restart policy acts on (2 would
    mean a config error, 0 a requested stop)."""
    keys = KeySpace("athena")
    client = setup.redis.client
    client.hset(
        keys.payment_batch("corrupt-1"),
        mapping={"state": "no-such-state", "items": "[]", "fee": "0", "created_ms": "0"},
    )
    client.zadd(keys.payment_batches_open, {"corrupt-1": 0})
    child = setup.run(setup.config(setup.ports.daemon), "unlocker,payments")
    assert child.exit_code(STARTUP_TIMEOUT_S + STOP_TIMEOUT_S) == 1, child.tail()
    lines = messages(child)
    died = next(i for i, text in enumerate(lines) if text.startswith("athena_pool: payments stopped"))
    assert "no-such-state" in lines[died], child.tail()
    after = ["athena_pool: stopping after a failure", "athena_pool: stopped"]
    assert lines[died + 1 :] == after, child.tail()
    assert "Exception ignored" not in child.log.read_text(), child.tail()
