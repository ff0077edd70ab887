"""The operator's commands as real processes: `config check`, `config show`, and `run`'s exit codes,
its log files, SIGHUP and a SIGTERM while it still waits for the daemon."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from config_support import (
    ATHENA_ADDRESS,
    EXAMPLES,
    REFERENCE_EXAMPLE,
    REPO,
    athena_pool,
    clean_environ,
    write_json,
)

from athena_pool.rpc.monerod_regtest import free_loopback_port

ADMIN = "admin-secret-for-the-cli-test-0123456789"
WALLET = "wallet-rpc-password-cli-test"


def test_every_example_config_passes_check() -> None:
    assert len(EXAMPLES) >= 6
    names = {path.name for path in EXAMPLES}
    assert {"athena.json", "turtlecoin.json", "monero.json", "cryptonote-nodejs-pool.json"} <= names
    assert {"athena-devnet.json"} <= names
    result = athena_pool("config", "check", *map(str, EXAMPLES))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    oks = [line for line in result.stdout.splitlines() if ": ok (" in line]
    assert len(oks) == len(EXAMPLES)


def test_the_reference_config_json_is_accepted_with_warnings() -> None:
    result = athena_pool("config", "check", str(REFERENCE_EXAMPLE.relative_to(REPO)))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    prefix = "config/cryptonote-nodejs-pool.json: warning: "
    warned = [line.removeprefix(prefix).split(": ", 1)[0] for line in lines if line.startswith(prefix)]
    for key in ("poolServer.clusterForks", "cnVariant", "daemonType", "hashingUtil", "poolServer.sslCA"):
        assert key in warned
    assert lines[-1] == (
        "config/cryptonote-nodejs-pool.json: ok (a cryptonote-nodejs-pool config.json, translated; "
        f"{len(warned)} warnings)"
    )


def bad_config(tmp_path: Path) -> Path:
    return write_json(
        tmp_path / "bad.json",
        {
            "coin": "athena",
            "pool_address": ATHENA_ADDRESS,
            "stratum": {"ports": [{"port": 3335, "dificulty": 100}]},
            "payments": {"interval": "often"},
        },
    )


EXPECTED_PROBLEMS = [
    "stratum.ports[0].dificulty: unknown key (did you mean 'difficulty'?)",
    "stratum.ports[0].difficulty: required, missing",
    'payments.interval: should be a valid number, unable to parse string as a number (got "often")',
]


def test_check_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = bad_config(tmp_path)
    result = athena_pool("config", "check", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"{path}: {problem}" for problem in EXPECTED_PROBLEMS]


def test_run_with_a_bad_config_says_why_in_one_line_each_and_exits_2(tmp_path: Path) -> None:
    path = bad_config(tmp_path)
    result = athena_pool("run", "--config", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"athena-pool run: {path}: {problem}" for problem in EXPECTED_PROBLEMS
    ]


def test_run_refuses_the_example_address_unknown_roles_and_an_unusable_log_folder(tmp_path: Path) -> None:
    example = athena_pool("run", "--config", "config/athena.json")
    assert example.returncode == 2
    assert example.stderr.startswith("athena-pool run: config/athena.json: pool_address: still the example's")
    config = write_json(tmp_path / "ok.json", {"coin": "athena", "pool_address": ATHENA_ADDRESS})
    roles = athena_pool("run", "--config", str(config), "--roles", "pool,bogus")
    assert roles.returncode == 2
    assert roles.stderr.startswith("athena-pool run: --roles: unknown role(s) bogus; known: pool,")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    logs = write_json(
        tmp_path / "logs.json",
        {
            "coin": "athena",
            "pool_address": ATHENA_ADDRESS,
            "logging": {"files": {"directory": str(blocker / "x")}},
        },
    )
    unusable = athena_pool("run", "--config", str(logs))
    assert unusable.returncode == 2
    assert unusable.stderr == (
        f"athena-pool run: {logs}: logging.files.directory: "
        f"cannot write to {blocker / 'x'}: Not a directory\n"
    )


def test_show_prints_the_effective_config_with_secrets_masked(tmp_path: Path) -> None:
    secret_file = tmp_path / "wallet_rpc_password"
    secret_file.write_text(WALLET + "\n")
    env = clean_environ(ATHENA_POOL_WALLET_RPC_PASSWORD_FILE=str(secret_file), ATHENA_POOL_ADMIN_SECRET=ADMIN)
    result = athena_pool("config", "show", "config/turtlecoin.json", env=env)
    assert result.returncode == 0, result.stderr
    for secret in (WALLET, ADMIN):
        assert secret not in result.stdout and secret not in result.stderr
    shown: dict[str, Any] = json.loads(result.stdout)
    assert shown["payments"]["wallet"]["rpc_password"] == "***"
    assert shown["secrets"]["admin_secret"] == "***"
    assert shown["daemon"]["url"] == "http://127.0.0.1:11898"
    assert [port["port"] for port in shown["stratum"]["ports"]] == [3333, 4444, 5555, 7777]
    assert result.stderr.splitlines() == [
        "config/turtlecoin.json: payments.wallet.rpc_password from "
        f"ATHENA_POOL_WALLET_RPC_PASSWORD_FILE ({secret_file})",
        "config/turtlecoin.json: secrets.admin_secret from ATHENA_POOL_ADMIN_SECRET",
    ]
    translated = athena_pool("config", "show", "config/cryptonote-nodejs-pool.json")
    assert translated.returncode == 0
    assert json.loads(translated.stdout)["jobs"]["refresh_interval"] == 1.0
    assert "change-me-wallet-rpc-password" not in translated.stdout


def wait_for_text(path: Path, text: str, process: subprocess.Popen[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {path} (process exit {process.poll()})")


@pytest.mark.skipif(sys.platform != "linux", reason="signals as on the servers")
def test_run_logs_to_role_files_reopens_on_sighup_and_stops_on_sigterm_while_waiting(tmp_path: Path) -> None:
    """No daemon answers: the pool waits for it; SIGHUP reopens the logs, SIGTERM stops it cleanly (0)."""
    secret_file = tmp_path / "wallet_rpc_password"
    secret_file.write_text(WALLET + "\n")
    logs = tmp_path / "logs"
    config = write_json(
        tmp_path / "pool.json",
        {
            "coin": "athena",
            "pool_address": ATHENA_ADDRESS,
            "data_dir": str(tmp_path / "data"),
            "daemon": {"url": f"http://127.0.0.1:{free_loopback_port()}", "timeout": 1},
            "redis": {"local_port": free_loopback_port()},
            "stratum": {"ports": [{"port": 0, "difficulty": 100}]},
            "console": {"interval": 0},
            "sync_wait": {"poll_interval": 0.5, "progress_interval": 1},
            "logging": {
                "console": {"level": "INFO"},
                "files": {"directory": str(logs), "flush_interval": 0.2},
            },
        },
    )
    env = clean_environ(ATHENA_POOL_WALLET_RPC_PASSWORD_FILE=str(secret_file))
    process = subprocess.Popen(
        [sys.executable, "-m", "athena_pool", "run", "--config", str(config), "--roles", "pool"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        wait_for_text(logs / "pool.log", "local Redis (appendonly)", process)
        (logs / "pool.log").rename(logs / "pool.log.1")
        process.send_signal(signal.SIGHUP)
        wait_for_text(logs / "pool.log", "log files reopened (SIGHUP)", process)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "stopping before the pool was ready" in stderr
    assert "Traceback" not in stderr
    rotated, current = (logs / "pool.log.1").read_text(), (logs / "pool.log").read_text()
    assert "local Redis (appendonly)" in rotated and "log files reopened" not in rotated
    assert "stopping before the pool was ready" in current
    for text in (stdout, stderr, rotated, current):
        assert WALLET not in text
    assert sorted(path.name for path in logs.iterdir()) == ["pool.log", "pool.log.1"]
