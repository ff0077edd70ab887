"""Fixtures for the deploy/ tests: the compose documents, raw and interpolated with their defaults."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_testkit import COMPOSE_FILE, DEVNET_FILE, interpolate, load_yaml


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
