"""Helpers for the configuration tests: config files on disk and the real `athena-pool` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "config").glob("*.json")) + sorted((REPO / "deploy" / "config").glob("*.json"))
REFERENCE_EXAMPLE = REPO / "config" / "cryptonote-nodejs-pool.json"
# Valid addresses nobody uses in the examples (seeded keys), one per coin.
ATHENA_ADDRESS = (
    "athena1ibL9Es9xNWtdo7T7NBfiTXdj8eUuJvgU7YS4242zJf82KCQnPvkWeoLNBhnGcmGmie6g643SSX4mSt1ANNiDAZgxMaPc2x"
)
TRTL_ADDRESS = (
    "TRTLv31LCaCGAHod3AmrSrSyt1CqJofHS7397MhMQgbGbXdVU1HE171gYGFur7LfbTFnaiwibK6A1Fiv8BiMeZWPRsrfyEoX2gS"
)
XMR_ADDRESS = (
    "46todjEzjRJ5SkqbPF6eU1RU76VnYyZhy92ns3aDDzd653RR8txg6R1XUkNWaLDWNuRCoY7mRUAgeTaGyrDipUovFLFm5Mt"
)
SECRET_ENV = ("ATHENA_POOL_WALLET_RPC_PASSWORD", "ATHENA_POOL_ADMIN_SECRET")


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def clean_environ(**extra: str) -> dict[str, str]:
    """The test process's environment without any pool secret, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRET_ENV)}
    env.update(extra)
    return env


def athena_pool(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real command, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "athena_pool", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_environ(),
        timeout=timeout,
        cwd=REPO,
        check=False,
    )


def reference_config() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE_EXAMPLE.read_text())
    return data
