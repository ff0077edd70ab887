"""Fixtures for the deploy/ tests: the compose documents, raw and interpolated with their defaults; the
wheel the Dockerfile's build stage makes, and the web root its web step fills from it (built once a run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deploy_testkit import (
    COMPOSE_FILE,
    DEVNET_FILE,
    DOCKERFILE,
    DOCKERIGNORE,
    DockerIgnore,
    build_context_wheel,
    interpolate,
    load_yaml,
    read_dockerfile,
    run_web_step,
)


def _need_yaml() -> None:
    pytest.importorskip("yaml", reason="PyYAML reads the compose files (pip install pyyaml)")


@pytest.fixture(scope="session")
def compose_raw() -> dict[str, Any]:
    _need_yaml()
    return load_yaml(COMPOSE_FILE)


@pytest.fixture(scope="session")
def devnet_raw() -> dict[str, Any]:
    _need_yaml()
    return load_yaml(DEVNET_FILE)


@pytest.fixture(scope="session")
def compose(compose_raw: dict[str, Any]) -> dict[str, Any]:
    """The stack as `docker compose` sees it with no variable set: every default applied."""
    document: dict[str, Any] = interpolate(compose_raw, {})
    return document


@pytest.fixture(scope="session")
def devnet(devnet_raw: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = interpolate(devnet_raw, {})
    return document


@pytest.fixture(scope="session")
def context_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The athena-pool wheel, built as the Dockerfile's build stage builds it, from the filtered context."""
    ignore = DockerIgnore(DOCKERIGNORE.read_text())
    return build_context_wheel(ignore, tmp_path_factory.mktemp("image-build"))


@pytest.fixture(scope="session")
def web_root(context_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the web image serves: the folder the build stage's web step fills from that wheel."""
    return run_web_step(read_dockerfile(DOCKERFILE), context_wheel, tmp_path_factory.mktemp("web-step"))
