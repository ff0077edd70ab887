"""deploy/logrotate/athena-pool: read, then run by the real logrotate on a scratch log folder."""

from __future__ import annotations

import getpass
import grp
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from deploy_testkit import DEPLOY

CONF = DEPLOY / "logrotate" / "athena-pool"
TEXT = CONF.read_text()


def test_rotation_reopens_logs_by_signal_not_by_copying() -> None:
    assert "copytruncate" not in re.sub(r"#.*", "", TEXT)
    assert re.search(r"^\s*su athena-pool athena-pool$", TEXT, re.MULTILINE), "the folder is not root's"
    assert re.search(r"^\s*create 0640 athena-pool athena-pool$", TEXT, re.MULTILINE)
    assert re.search(r"^\s*sharedscripts$", TEXT, re.MULTILINE), "one reload per rotation, not per file"
    assert 'systemctl reload "$unit.service"' in TEXT
    assert TEXT.count("/var/log/athena-pool/*.log {") == 1
    for directive in ("missingok", "notifempty", "compress", "delaycompress"):
        assert re.search(rf"^\s*{directive}$", TEXT, re.MULTILINE), directive


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate not installed")
def test_logrotate_rotates_and_recreates_the_files(tmp_path: Path) -> None:
    logs = tmp_path / "log"
    logs.mkdir(mode=0o750)
    user = getpass.getuser()
    group = grp.getgrgid(os.getgid()).gr_name
    conf = TEXT.replace("/var/log/athena-pool/", f"{logs}/").replace(
        "athena-pool athena-pool", f"{user} {group}"
    )
    conf_path = tmp_path / "athena-pool"
    conf_path.write_text(conf)
    conf_path.chmod(0o644)
    (logs / "pool.log").write_text("a miner connected\n")
    (logs / "api.log").write_text("GET /stats\n")
    result = subprocess.run(
        ["logrotate", "--force", "--state", str(tmp_path / "state"), str(conf_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name, content in (("pool.log", "a miner connected\n"), ("api.log", "GET /stats\n")):
        fresh = logs / name
        assert fresh.read_text() == "", f"{name} was not recreated empty"
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o640
        (rotated,) = logs.glob(f"{name}-*")
        assert re.fullmatch(rf"{re.escape(name)}-\d{{8}}-\d+", rotated.name), rotated.name
        assert rotated.read_text() == content, "delaycompress: the newest rotation stays plain"
