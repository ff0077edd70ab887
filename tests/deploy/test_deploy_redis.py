"""deploy/redis/redis.conf: read directive by directive, then loaded by a real redis-server (Debian's, the one
scripts/install sets up) with the compose service's own arguments: it starts, persists through the AOF
across a restart, refuses the dangerous commands and reports the memory policy."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploy_testkit import DEPLOY, free_port

CONF = DEPLOY / "redis" / "redis.conf"
REDIS_SERVER = shutil.which("redis-server")


def directives() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in CONF.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition(" ")
            assert name.lower() not in found or name.lower() in {"save", "user", "bind"}, f"{name} twice"
            found.setdefault(name.lower(), []).append(value.strip())
    return found


def comment_block_before(directive: str) -> str:
    lines = CONF.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(directive + " "))
    block = []
    for line in reversed(lines[:index]):
        if not line.startswith("#"):
            break
        block.append(line)
    return " ".join(reversed(block))


def test_append_only_with_fsync_always_and_the_choice_explained() -> None:
    d = directives()
    assert d["appendonly"] == ["yes"]
    assert d["appendfsync"] == ["always"]
    assert d["no-appendfsync-on-rewrite"] == ["no"], "yes would silently weaken fsync during rewrites"
    why = comment_block_before("appendfsync")
    for point in ("everysec", "always", "power", "payment", "batches"):
        assert point in why, f"the appendfsync comment does not discuss {point!r}"


def test_memory_ceiling_never_evicts() -> None:
    d = directives()
    assert d["maxmemory-policy"] == ["noeviction"]
    assert d["maxmemory"] == ["1gb"]
    why = comment_block_before("maxmemory-policy")
    assert "balances" in why and "fail" in why


def test_paths_match_the_compose_volumes(compose: dict[str, Any]) -> None:
    d = directives()
    redis = compose["services"]["redis"]
    mounts = {m.split(":")[1] for m in redis["volumes"] if isinstance(m, str)}
    assert d["dir"] == ["/data"] and "/data" in mounts
    (logfile,) = d["logfile"]
    assert str(Path(logfile).parent) in mounts


def test_network_settings_and_acl() -> None:
    d = directives()
    assert d["bind"] == ["* -::*"]
    assert d["protected-mode"] == ["no"]
    assert "requirepass" not in d, "no password in a file that is not a secret"
    assert d["user"] == ["default on nopass ~* &* +@all -@dangerous +info +bgrewriteaof +bgsave"]
    assert "rename-command" not in d
    assert "internal network" in comment_block_before("protected-mode")


class RedisProcess:
    def __init__(self, workdir: Path, extra_args: list[str]) -> None:
        assert REDIS_SERVER is not None
        self.port = free_port()
        self.workdir = workdir
        conf = CONF.read_text()
        # The container paths (/data, /var/log/redis) do not exist here; everything else is as shipped.
        conf = re.sub(r"^dir .*$", f"dir {workdir}", conf, flags=re.MULTILINE)
        conf = re.sub(r"^logfile .*$", f"logfile {workdir / 'redis.log'}", conf, flags=re.MULTILINE)
        self.conf = workdir / "redis.conf"
        self.conf.write_text(conf)
        self.args = [
            REDIS_SERVER,
            str(self.conf),
            *extra_args,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.client: Any = None

    def start(self) -> Any:
        import redis

        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (self.workdir / "redis.log").read_text()
                        if (self.workdir / "redis.log").exists()
                        else ""
                    )
                    raise AssertionError(f"redis-server did not start: {log[-2000:]}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        # SHUTDOWN is one of the refused commands: stop it the way Docker does, with SIGTERM.
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def redis_process(tmp_path: Path, compose: dict[str, Any]) -> Iterator[RedisProcess]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server not installed (scripts/install installs it)")
    pytest.importorskip("redis")
    command = compose["services"]["redis"]["command"]
    assert command[:2] == ["redis-server", "/usr/local/etc/redis/redis.conf"]
    process = RedisProcess(tmp_path, extra_args=command[2:])  # the compose service's own --maxmemory
    try:
        yield process
    finally:
        process.stop()


def test_redis_starts_with_the_config_and_applies_it(redis_process: RedisProcess) -> None:
    client = redis_process.start()
    persistence = client.info("persistence")
    assert persistence["aof_enabled"] == 1
    memory = client.info("memory")
    assert memory["maxmemory_policy"] == "noeviction"
    assert memory["maxmemory"] == 1024**3
    assert (redis_process.workdir / "appendonlydir").is_dir()


def test_the_pools_commands_work(redis_process: RedisProcess) -> None:
    client = redis_process.start()
    client.hset("athena:test", mapping={"a": 1})
    assert client.hincrby("athena:test", "a", 2) == 3
    assert client.eval("return redis.call('HGET', KEYS[1], 'a')", 1, "athena:test") == b"3"
    pipe = client.pipeline(transaction=True)
    pipe.zadd("athena:z", {"m": 1}).xadd("athena:s", {"f": "v"})
    pipe.execute()
    assert client.zcard("athena:z") == 1
    assert client.info("server")["redis_version"]


@pytest.mark.parametrize(
    "command",
    [
        ("CONFIG", "SET", "dir", "/tmp"),
        ("CONFIG", "GET", "dir"),
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("KEYS", "*"),
        ("DEBUG", "SLEEP", "0"),
        ("REPLICAOF", "127.0.0.1", "1"),
        ("MODULE", "LIST"),
        ("SHUTDOWN",),
        ("ACL", "SETUSER", "x", "on"),
    ],
)
def test_dangerous_commands_are_refused(redis_process: RedisProcess, command: tuple[str, ...]) -> None:
    import redis

    client = redis_process.start()
    # Redis 7 also refuses DEBUG by its own default (enable-debug-command no), before the ACL is asked.
    expected = redis.exceptions.ResponseError if command[0] == "DEBUG" else redis.exceptions.NoPermissionError
    with pytest.raises(expected, match=r"no permissions|not allowed"):
        client.execute_command(*command)
    assert client.ping()


def test_acknowledged_writes_survive_a_restart(redis_process: RedisProcess) -> None:
    client = redis_process.start()
    client.set("athena:balance:miner", 123456789)
    redis_process.stop()
    client = redis_process.start()
    assert client.get("athena:balance:miner") == b"123456789"
    manifest = (redis_process.workdir / "appendonlydir" / "appendonly.aof.manifest").read_text()
    assert "appendonly.aof" in manifest


def redis_cli(process: RedisProcess, *command: str) -> str:
    """The operator's tool, as the README's backup steps run it (inside the stack: `docker compose exec
    redis redis-cli ...`)."""
    cli = shutil.which("redis-cli")
    assert cli is not None
    result = subprocess.run(
        [cli, "-p", str(process.port), *command], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0 and not result.stdout.startswith(("ERR", "NOPERM")), result
    return result.stdout


def wait_for_rewrite(process: RedisProcess) -> None:
    """Until INFO persistence says no AOF rewrite is running or scheduled (the README's wait loop)."""
    deadline = time.monotonic() + 30
    while True:
        info = redis_cli(process, "INFO", "persistence")
        if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
            return
        assert time.monotonic() < deadline, info
        time.sleep(0.05)


def test_the_backup_and_restore_steps_work_with_the_shipped_acl(
    redis_process: RedisProcess, tmp_path: Path
) -> None:
    """README.md's backup (BGREWRITEAOF, wait, copy appendonlydir/; BGSAVE for dump.rdb) against the shipped
    ACL, then its restore (stop Redis, put appendonlydir/ back, start) on an emptied data folder."""
    client = redis_process.start()
    for number in range(100):
        client.hset("athena:balances", f"miner-{number}", number * 1000)
    assert redis_cli(redis_process, "BGREWRITEAOF").startswith("Background append only file rewriting")
    wait_for_rewrite(redis_process)
    assert redis_cli(redis_process, "BGSAVE").startswith("Background saving started")
    backup = tmp_path / "backup"
    shutil.copytree(redis_process.workdir / "appendonlydir", backup / "appendonlydir")
    assert list((backup / "appendonlydir").glob("appendonly.aof.*.base.rdb")), "the rewrite's base file"
    client.set("athena:after-the-backup", 1)

    redis_process.stop()
    shutil.rmtree(redis_process.workdir / "appendonlydir")
    (redis_process.workdir / "dump.rdb").unlink(missing_ok=True)
    shutil.copytree(backup / "appendonlydir", redis_process.workdir / "appendonlydir")
    client = redis_process.start()
    assert client.hlen("athena:balances") == 100
    assert client.hget("athena:balances", "miner-99") == b"99000"
    assert client.get("athena:after-the-backup") is None, "the restore is the backup's state"


def test_the_backup_commands_open_nothing_else(redis_process: RedisProcess) -> None:
    import redis

    client = redis_process.start()
    for command in (("BGREWRITEAOF",), ("BGSAVE",)):
        client.execute_command(*command)
        wait_for_rewrite(redis_process)
    for command in (("SAVE",), ("LASTSAVE",), ("CONFIG", "REWRITE"), ("DEBUG", "RELOAD")):
        with pytest.raises(redis.exceptions.ResponseError, match=r"no permissions|not allowed"):
            client.execute_command(*command)
