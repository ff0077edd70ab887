"""Log files rotate by size (logging.files.max_bytes, backup_count) on real files: the numbered backups,
the oldest dropped, several processes on one file (cluster workers) losing no line, a file renamed by
logrotate followed without a signal, and the keys checked like every other key."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from config_support import REPO, athena_pool, write_json

from athena_pool.config import parse_config
from athena_pool.logs import (
    DEFAULT_BACKUP_COUNT,
    DEFAULT_MAX_BYTES,
    BufferedFileHandler,
    LogSetup,
    configure_logging,
)

DEVNET_CONFIG = REPO / "deploy" / "config" / "athena-devnet.json"
LINE_CHARS = 100  # each test line, newline included, is exactly this long


def line(tag: str, number: int) -> str:
    head = f"{tag} {number:06d} "
    return head + "x" * (LINE_CHARS - 1 - len(head))


@pytest.fixture
def handlers() -> Iterator[list[BufferedFileHandler]]:
    made: list[BufferedFileHandler] = []
    yield made
    for handler in made:
        handler.close()


def handler_for(path: Path, made: list[BufferedFileHandler], **options: Any) -> BufferedFileHandler:
    handler = BufferedFileHandler(path, 0, **options)
    handler.setFormatter(logging.Formatter("%(message)s"))
    made.append(handler)
    return handler


def emit(handler: BufferedFileHandler, text: str) -> None:
    handler.handle(logging.LogRecord("athena_pool.stratum", logging.INFO, __file__, 1, text, None, None))


def lines_of(*paths: Path) -> list[str]:
    return [text for path in paths for text in path.read_text().splitlines()]


def test_a_full_file_is_renamed_and_the_oldest_backup_dropped(
    tmp_path: Path, handlers: list[BufferedFileHandler]
) -> None:
    path = tmp_path / "pool.log"
    handler = handler_for(path, handlers, max_bytes=10 * LINE_CHARS, backup_count=2)
    written = [line("pool", n) for n in range(45)]
    for text in written:
        emit(handler, text)
    handler.flush()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.log", "pool.log.1", "pool.log.2"]
    for name in ("pool.log.2", "pool.log.1"):
        assert (tmp_path / name).stat().st_size == 10 * LINE_CHARS, "a full file is rotated, not split"
    # Oldest first: .2, .1, the current file; what came before .2 is gone.
    kept = lines_of(handler.backup(2), handler.backup(1), path)
    assert kept == written[-len(kept) :] and len(kept) == 25


def test_without_max_bytes_nothing_rotates(tmp_path: Path, handlers: list[BufferedFileHandler]) -> None:
    path = tmp_path / "api.log"
    handler = handler_for(path, handlers, max_bytes=0)
    for number in range(200):
        emit(handler, line("api", number))
    assert [p.name for p in tmp_path.iterdir()] == ["api.log"]
    assert len(lines_of(path)) == 200


def test_a_file_renamed_by_logrotate_is_followed_without_sighup(
    tmp_path: Path, handlers: list[BufferedFileHandler]
) -> None:
    path = tmp_path / "payments.log"
    handler = handler_for(path, handlers, max_bytes=DEFAULT_MAX_BYTES)
    emit(handler, "before the rename")
    path.rename(tmp_path / "payments.log-20250101")
    emit(handler, "after the rename")
    assert lines_of(tmp_path / "payments.log-20250101") == ["before the rename"]
    assert lines_of(path) == ["after the rename"]
    handler.reopen()  # SIGHUP still works the same way
    emit(handler, "after sighup")
    assert lines_of(path) == ["after the rename", "after sighup"]


WRITER = """
import logging, sys
from pathlib import Path
from athena_pool.logs import BufferedFileHandler
path, tag, count, max_bytes = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
handler = BufferedFileHandler(path, 0, max_bytes=max_bytes, backup_count=1000)
handler.setFormatter(logging.Formatter("%(message)s"))
for number in range(count):
    head = f"{tag} {number:06d} "
    handler.handle(logging.makeLogRecord({"msg": head + "x" * (99 - len(head))}))
handler.close()
"""


def test_processes_sharing_a_file_lose_no_line(tmp_path: Path) -> None:
    """Cluster workers write one pool.log: each rotation happens once, every line lands exactly once."""
    path, count, max_bytes = tmp_path / "pool.log", 1500, 20 * LINE_CHARS
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"w{index}", str(count), str(max_bytes)])
        for index in range(3)
    ]
    assert [writer.wait(120) for writer in writers] == [0, 0, 0]
    files = sorted(tmp_path.glob("pool.log*"))
    found = lines_of(*files)
    assert len(found) == len(set(found)) == 3 * count
    for index in range(3):
        mine = [text for text in found if text.startswith(f"w{index} ")]
        assert sorted(mine) == [line(f"w{index}", n) for n in range(count)]
    assert len(files) > 3 * count * LINE_CHARS // max_bytes // 2, "the file was rotated as it grew"
    # A file can pass the limit only by the lines that other processes wrote at the same moment.
    assert max(file.stat().st_size for file in files) <= max_bytes + 2 * LINE_CHARS


def test_the_config_keys_reach_every_role_file(tmp_path: Path) -> None:
    data: dict[str, Any] = json.loads(DEVNET_CONFIG.read_text())
    data["logging"]["files"].update(
        directory=str(tmp_path), flush_interval=0, max_bytes=5 * LINE_CHARS, backup_count=3
    )
    config = parse_config(data, environ={})
    assert (config.logging.files.max_bytes, config.logging.files.backup_count) == (5 * LINE_CHARS, 3)
    setup: LogSetup = configure_logging(config.logging, ["pool", "api"], stream=io.StringIO())
    try:
        for number in range(40):
            logging.getLogger("athena_pool.stratum").info("%s", line("pool", number)[:60])
            logging.getLogger("athena_pool.api").info("%s", line("api", number)[:60])
    finally:
        setup.close()
    for role in ("pool", "api"):
        names = sorted(p.name for p in tmp_path.glob(f"{role}.log*"))
        assert names == [f"{role}.log", f"{role}.log.1", f"{role}.log.2", f"{role}.log.3"]


def test_the_defaults_rotate_and_the_examples_keep_them() -> None:
    config = parse_config(json.loads(DEVNET_CONFIG.read_text()), environ={})
    assert config.logging.files.max_bytes == DEFAULT_MAX_BYTES > 0
    assert config.logging.files.backup_count == DEFAULT_BACKUP_COUNT >= 1


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [("max_bytes", -1, "max_bytes must not be negative"), ("backup_count", 0, "backup_count must be at")],
)
def test_bad_rotation_keys_are_one_clear_line(tmp_path: Path, key: str, value: int, problem: str) -> None:
    data: dict[str, Any] = json.loads(DEVNET_CONFIG.read_text())
    data["logging"]["files"][key] = value
    result = athena_pool("config", "check", str(write_json(tmp_path / "pool.json", data)))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (reported,) = [text for text in result.stderr.splitlines() if problem in text]
    assert "logging.files" in reported
