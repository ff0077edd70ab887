"""The README's first command, `athena-pool run`, as an operator runs it: the installed console script in a
fresh working directory, the embedded default setup (a local appendonly redis-server, the devnet, the pool,
the unlocker, payments, the API and web page, a demo miner, a status line every ten seconds), stopped with
SIGTERM.

The embedded default listens on fixed ports (Redis 6390, stratum 3335/5557/7779, API 8117, devnet 12001 and
8070) that other test runs on this machine may hold, and `athena-pool run` has no way to move them except a
config file. So the test writes the embedded default as `athena-pool config show` prints it, with only the
ports changed (0 = any free port; Redis needs a real one) and the devnet password that `show` masks put
back, and runs `athena-pool run --config` on that.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from integration_support import free_loopback_port

from athena_pool.config import DevnetSettings

T = TypeVar("T")

STATUS_LINE = re.compile(
    r"athena_pool\.console: .*miners (?P<miners>\d+) .*\| shares ok (?P<ok>\d+) stale \d+ rejected \d+"
    r" \| blocks found (?P<blocks>\d+)"
)
WEB_URL = re.compile(r"API and web page: (?P<url>http://\S+/)")
START_TIMEOUT_S = 60.0
STATUS_TIMEOUT_S = 60.0  # the first status line comes after ten seconds
STOP_TIMEOUT_S = 60.0
HTTP_TIMEOUT_S = 10.0


def console_script() -> str:
    """`athena-pool` as installed for the interpreter running the tests."""
    beside = Path(sys.executable).parent / "athena-pool"
    found = str(beside) if beside.exists() else shutil.which("athena-pool")
    if found is None:
        pytest.skip("the athena-pool console script is not installed")
    return found


def free_port_config(workdir: Path, redis_port: int) -> Path:
    """The embedded default as `athena-pool config show` prints it, on free ports."""
    shown = subprocess.run(
        [console_script(), "config", "show"], cwd=workdir, capture_output=True, check=True, timeout=60
    )
    config: dict[str, Any] = json.loads(shown.stdout)
    assert config["devnet"]["enabled"] and config["demo_miner"]["enabled"] and config["redis"]["url"] is None
    for port in config["stratum"]["ports"]:
        port["port"] = 0
    config["api"]["port"] = 0
    config["devnet"].update(daemon_port=0, wallet_port=0, rpc_password=DevnetSettings().rpc_password)
    config["redis"]["local_port"] = redis_port
    path = workdir / "athena-pool.json"
    path.write_text(json.dumps(config, indent=2))
    return path


class PoolProcess:
    """`athena-pool run` as a child process; its console (stdout and stderr) in a file."""

    def __init__(self, workdir: Path, config: Path) -> None:
        self.console = workdir / "console.txt"
        with self.console.open("wb") as output:
            self.process = subprocess.Popen(
                [console_script(), "run", "--config", str(config)],
                cwd=workdir,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def text(self) -> str:
        return self.console.read_text(errors="replace")

    def wait_for(self, find: Callable[[str], T | None], timeout_s: float, what: str) -> T:
        """Poll the console until `find` finds something; fail if the pool exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        while (found := find(self.text())) is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                why = (
                    f"exited with {self.process.returncode}" if self.process.poll() is not None else "timeout"
                )
                raise AssertionError(f"{why} waiting for {what}; console:\n{self.text()[-4000:]}")
            time.sleep(0.25)
        return found

    def stop(self, timeout_s: float) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"no exit within {timeout_s:g} s of SIGTERM:\n{self.text()[-4000:]}"
            ) from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def pool_process(tmp_path: Path) -> Iterator[tuple[PoolProcess, int]]:
    workdir = tmp_path / "operator"
    workdir.mkdir()
    redis_port = free_loopback_port()
    pool = PoolProcess(workdir, free_port_config(workdir, redis_port))
    yield pool, redis_port
    pool.kill()


def last_status(text: str) -> re.Match[str] | None:
    matches = list(STATUS_LINE.finditer(text))
    return matches[-1] if matches else None


def with_accepted_share(text: str) -> re.Match[str] | None:
    status = last_status(text)
    return status if status is not None and int(status["ok"]) >= 1 else None


def fetch(url: str) -> tuple[str, str]:
    """(content type, body) of a GET."""
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
        return response.headers.get_content_type(), response.read().decode()


def local_redis(port: int) -> tuple[int, str]:
    """(pid, appendonly setting) of the redis-server answering on `port`."""
    with redis.Redis(host="127.0.0.1", port=port, socket_timeout=HTTP_TIMEOUT_S) as client:
        pid: int = client.info("server")["process_id"]
        appendonly = {str(k): str(v) for k, v in client.config_get("appendonly").items()}["appendonly"]
    return pid, appendonly


def is_gone(pid: int) -> bool:
    """No such process (or only a zombie left for init to reap: it no longer runs)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return bool(re.search(r"^State:\s+Z", status, re.MULTILINE))


def refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


def test_the_readme_command_runs_the_whole_pool_and_stops_cleanly(
    pool_process: tuple[PoolProcess, int],
) -> None:
    pool, redis_port = pool_process
    web = pool.wait_for(WEB_URL.search, START_TIMEOUT_S, "the web page's URL")["url"]
    redis_pid, appendonly = local_redis(redis_port)
    assert appendonly == "yes"

    pool.wait_for(last_status, STATUS_TIMEOUT_S, "a status line with miners, shares and blocks found")
    content_type, page = fetch(web)
    assert content_type == "text/html" and '<script src="config.js">' in page
    content_type, script = fetch(web + "config.js")
    assert "javascript" in content_type and "window.ATHENA_POOL_CONFIG" in script

    accepted = pool.wait_for(with_accepted_share, STATUS_TIMEOUT_S, "a status line with an accepted share")
    assert int(accepted["miners"]) >= 1  # the demo miner

    assert pool.stop(STOP_TIMEOUT_S) == 0
    assert is_gone(redis_pid), f"the local redis-server (pid {redis_pid}) outlived the pool"
    assert refuses(redis_port)
