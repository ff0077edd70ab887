"""deploy/systemd: one unit per role plus the devnet, the sysusers file. Read key by key, then checked by
systemd itself where installed: `systemd-analyze verify`, `systemd-analyze security --offline`, and
`systemd-sysusers` into a scratch root."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from deploy_testkit import APP_UID, DEPLOY, ROLES, SYSTEMD, read_unit, unit_value, unit_values

UNITS = (*ROLES, "devnet")
BINARY = "/opt/athena-pool/bin/athena-pool"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed (Debian: systemd)")


def unit_path(name: str) -> Path:
    return SYSTEMD / f"athena-pool-{name}.service"


def test_there_is_one_unit_per_role_and_one_for_the_devnet() -> None:
    assert sorted(p.name for p in SYSTEMD.glob("*.service")) == sorted(unit_path(n).name for n in UNITS)


@pytest.mark.parametrize("name", UNITS)
def test_unit_runs_unprivileged_and_hardened(name: str) -> None:
    unit = read_unit(unit_path(name))
    service = "Service"
    expected = {
        "Type": "exec",
        "User": "athena-pool",
        "Group": "athena-pool",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
        "AmbientCapabilities": "",
        "Restart": "on-failure",
        "RestartPreventExitStatus": "2",
        "KillSignal": "SIGTERM",
        "StateDirectory": "athena-pool",
        "LogsDirectory": "athena-pool",
        "WorkingDirectory": "/var/lib/athena-pool",
        "UMask": "0027",
    }
    for key, value in expected.items():
        assert unit_value(unit, service, key) == value, f"{name}: {key}"
    read_write = unit_value(unit, service, "ReadWritePaths").split()
    assert read_write == ["/var/lib/athena-pool", "/var/log/athena-pool"]
    assert unit_value(unit, "Install", "WantedBy") == "multi-user.target"
    assert "network-online.target" in unit_value(unit, "Unit", "After").split()
    assert unit_value(unit, "Unit", "Wants") == "network-online.target"


@pytest.mark.parametrize("role", ROLES)
def test_role_units_start_their_role_with_the_shared_config(role: str) -> None:
    unit = read_unit(unit_path(role))
    assert (
        unit_value(unit, "Service", "ExecStart")
        == f"{BINARY} run --config /etc/athena-pool/config.json --roles {role}"
    )
    assert unit_value(unit, "Service", "ExecReload") == "/bin/kill -HUP $MAINPID", (
        "logrotate reopens logs this way"
    )
    assert "redis-server.service" in unit_value(unit, "Unit", "After").split()


def test_the_devnet_unit_serves_on_loopback_only() -> None:
    unit = read_unit(unit_path("devnet"))
    start = unit_value(unit, "Service", "ExecStart")
    assert start.startswith(f"{BINARY} devnet --host 127.0.0.1 --daemon-port 12001 --wallet-port 8070 ")
    assert "--data-dir /var/lib/athena-pool/devnet" in start
    assert "--pool-address ${DEVNET_POOL_ADDRESS}" in start
    assert unit_values(unit, "Service", "ExecReload") == [], "the devnet logs to the journal: no SIGHUP"
    assert unit_value(unit, "Service", "EnvironmentFile") == "-/etc/athena-pool/devnet.env"


def test_the_stratum_unit_may_hold_many_connections() -> None:
    assert int(unit_value(read_unit(unit_path("pool")), "Service", "LimitNOFILE")) >= 65536
    for name in UNITS:
        assert int(unit_value(read_unit(unit_path(name)), "Service", "LimitNOFILE")) >= 4096


def test_write_execute_memory_is_denied_except_where_randomx_compiles_code() -> None:
    for name in UNITS:
        value = unit_values(read_unit(unit_path(name)), "Service", "MemoryDenyWriteExecute")
        assert value == ([] if name == "pool" else ["yes"]), name
    assert "JIT" in unit_path("pool").read_text()


def test_payments_outlive_their_batch_and_get_the_wallet_password_as_a_credential() -> None:
    unit = read_unit(unit_path("payments"))
    assert unit_value(unit, "Service", "TimeoutStopSec") == "120s"
    assert unit_values(unit, "Service", "LoadCredential") == [
        "wallet-rpc-password:/etc/athena-pool/secrets/wallet-rpc-password"
    ]
    assert "ATHENA_POOL_WALLET_RPC_PASSWORD_FILE=%d/wallet-rpc-password" in unit_values(
        unit, "Service", "Environment"
    )
    api = read_unit(unit_path("api"))
    assert unit_values(api, "Service", "LoadCredential") == [
        "admin-secret:/etc/athena-pool/secrets/admin-secret"
    ]


def test_no_unit_holds_a_secret() -> None:
    for name in UNITS:
        for value in unit_values(read_unit(unit_path(name)), "Service", "Environment"):
            key, _, setting = value.partition("=")
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert key.endswith("_FILE") and setting.startswith("%d/"), f"{name}: {value}"


def test_logrotate_reloads_exactly_the_units_that_reopen_logs() -> None:
    text = (DEPLOY / "logrotate" / "athena-pool").read_text()
    match = re.search(r"for unit in ([^;]+); do", text)
    assert match
    reloaded = match[1].split()
    with_reload = [
        f"athena-pool-{n}" for n in UNITS if unit_values(read_unit(unit_path(n)), "Service", "ExecReload")
    ]
    assert reloaded == with_reload


def verifiable_copies(tmp_path: Path) -> list[Path]:
    """The units with ExecStart's program swapped for one that exists here: `verify` insists on it."""
    stand_in = shutil.which("athena-pool") or shutil.which("true")
    assert stand_in
    copies = []
    for name in UNITS:
        copy = tmp_path / unit_path(name).name
        copy.write_text(unit_path(name).read_text().replace(BINARY, stand_in))
        copies.append(copy)
    return copies


@needs_analyze
def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "verify", "--man=no", *map(str, verifiable_copies(tmp_path))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    # verify warns about unknown keys and bad values on stderr without failing: any output is a problem.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" and result.stdout.strip() == ""


@needs_analyze
def test_systemd_analyze_verify_would_catch_a_typo(tmp_path: Path) -> None:
    assert ANALYZE is not None
    broken = tmp_path / "athena-pool-pool.service"
    broken.write_text(unit_path("pool").read_text().replace("ProtectSystem=strict", "ProtectSytem=strict"))
    result = subprocess.run(
        [ANALYZE, "verify", "--man=no", str(broken)], capture_output=True, text=True, check=False
    )
    assert "Unknown key 'ProtectSytem'" in result.stderr


def _supports_offline_security() -> bool:
    if ANALYZE is None:
        return False
    help_text = subprocess.run([ANALYZE, "--help"], capture_output=True, text=True, check=False).stdout
    return "--offline" in help_text and "--threshold" in help_text


@pytest.mark.skipif(
    not _supports_offline_security(), reason="systemd-analyze security --offline needs systemd 250+"
)
@pytest.mark.parametrize("name", UNITS)
def test_systemd_exposure_score_is_low(name: str, tmp_path: Path) -> None:
    assert ANALYZE is not None
    unit = next(p for p in verifiable_copies(tmp_path) if p.name == unit_path(name).name)
    # Exposure is 0.0 (locked down) .. 10.0 (unprotected); --threshold is in tenths: 20 = 2.0, "OK".
    result = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--threshold=20", "--no-pager", str(unit)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert score, result.stdout[-2000:] + result.stderr
    assert result.returncode == 0, f"exposure {score[1]}"
    assert float(score[1]) <= 2.0


def test_sysusers_file_declares_uid_3508() -> None:
    lines = [
        line.split(maxsplit=4)
        for line in (SYSTEMD / "athena-pool.sysusers").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == [
        ["g", "athena-pool", str(APP_UID)],
        [
            "u",
            "athena-pool",
            f"{APP_UID}:{APP_UID}",
            '"athena-pool"',
            "/var/lib/athena-pool /usr/sbin/nologin",
        ],
    ]


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers not installed")
def test_systemd_sysusers_creates_the_account(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(SYSTEMD / "athena-pool.sysusers")],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    passwd = (tmp_path / "etc" / "passwd").read_text().splitlines()
    group = (tmp_path / "etc" / "group").read_text().splitlines()
    assert f"athena-pool:x:{APP_UID}:{APP_UID}:athena-pool:/var/lib/athena-pool:/usr/sbin/nologin" in passwd
    assert any(line.startswith(f"athena-pool:x:{APP_UID}:") for line in group)
