"""deploy/healthcheck.py, the image's HEALTHCHECK command, run as Docker runs it (a process, its exit code)
against real listeners on the loopback interface."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from deploy_testkit import DEPLOY, free_port, http_server

SCRIPT = DEPLOY / "healthcheck.py"


def check(*args: str, env_spec: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ATHENA_POOL_HEALTHCHECK"}
    if env_spec is not None:
        env["ATHENA_POOL_HEALTHCHECK"] = env_spec
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/health" else 503
        body = b"ok" if status == 200 else b"degraded"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    with http_server(_Handler) as port:
        yield port


def test_an_open_stratum_port_is_healthy(listening_port: int) -> None:
    result = check(env_spec=f"tcp:127.0.0.1:{listening_port}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("healthy")


def test_a_closed_port_is_unhealthy() -> None:
    result = check(env_spec=f"tcp:127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "unhealthy: tcp:127.0.0.1:" in result.stderr


def test_http_2xx_is_healthy_and_anything_else_is_not(http_port: int) -> None:
    assert check(f"http://127.0.0.1:{http_port}/health").returncode == 0
    failed = check(f"http://127.0.0.1:{http_port}/other")
    assert failed.returncode == 1
    assert "HTTP 503" in failed.stderr


def test_every_check_must_pass(listening_port: int) -> None:
    closed = free_port()
    assert check(env_spec=f"tcp:127.0.0.1:{listening_port} tcp:127.0.0.1:{listening_port}").returncode == 0
    assert check(env_spec=f"tcp:127.0.0.1:{listening_port} tcp:127.0.0.1:{closed}").returncode == 1


def test_none_is_healthy_but_nothing_configured_is_not() -> None:
    assert check(env_spec="none").returncode == 0
    unset = check()
    assert unset.returncode == 1
    assert "nothing to check" in unset.stderr


@pytest.mark.parametrize("spec", ["tcp:3335", "tcp:127.0.0.1:http", "tcp:127.0.0.1:70000", "udp:127.0.0.1:1"])
def test_a_malformed_check_is_unhealthy_with_a_reason(spec: str) -> None:
    result = check(env_spec=spec)
    assert result.returncode == 1
    assert result.stderr.startswith("unhealthy:") and spec.partition(":")[2] in result.stderr


def test_it_needs_nothing_but_the_standard_library() -> None:
    imports = [line for line in SCRIPT.read_text().splitlines() if line.startswith(("import ", "from "))]
    modules = {line.split()[1].split(".")[0] for line in imports}
    assert modules <= {"__future__", "os", "socket", "sys", "urllib"}
    assert SCRIPT.read_text().startswith("#!/usr/bin/env python3\n")
