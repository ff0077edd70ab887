"""Logging: per-role files, a level per sink, buffered flushes, reopen for logrotate, secrets masked."""

from __future__ import annotations

import io
import logging
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from athena_pool.logs import (
    BufferedFileHandler,
    ConsoleLogSettings,
    FileLogSettings,
    LoggingSettings,
    LogSetup,
    configure_logging,
    normalise_level,
    role_of,
)

SECRET = "hunter2-wallet-password"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def installed() -> Iterator[list[LogSetup]]:
    """Whatever a test installs is removed again, so the suite's own logging is untouched."""
    setups: list[LogSetup] = []
    yield setups
    for setup in setups:
        setup.close()


def settings(
    directory: Path | None, *, console: str = "INFO", files: str = "INFO", flush: float = 0.0
) -> LoggingSettings:
    return LoggingSettings(
        console=ConsoleLogSettings(level=console, colors=False),
        files=FileLogSettings(directory=directory, level=files, flush_interval=flush),
    )


def wait_until(condition: object, timeout: float = 5.0) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def test_each_role_has_its_file_and_shared_lines_go_to_every_file(
    tmp_path: Path, installed: list[LogSetup]
) -> None:
    stream = io.StringIO()
    setup = configure_logging(settings(tmp_path), ["pool", "unlocker"], stream=stream)
    installed.append(setup)
    logging.getLogger("athena_pool.stratum.session").info("miner A logged in")
    logging.getLogger("athena_pool.unlocker").info("block 5 unlocked")
    logging.getLogger("athena_pool").info("shared start-up line")
    logging.getLogger("athena_pool.payments").info("payments line with no payments role here")
    setup.flush()
    pool = (tmp_path / "pool.log").read_text()
    unlocker = (tmp_path / "unlocker.log").read_text()
    assert "miner A logged in" in pool and "miner A logged in" not in unlocker
    assert "block 5 unlocked" in unlocker and "block 5 unlocked" not in pool
    for line in ("shared start-up line", "payments line with no payments role here"):
        assert line in pool and line in unlocker
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pool.log", "unlocker.log"]
    assert stream.getvalue().count("\n") == 4


def test_role_owners() -> None:
    assert role_of("athena_pool.api.charts") == "charts"
    assert role_of("athena_pool.api.v1_admin") == "api"
    assert role_of("athena_pool.jobs.manager") == "pool"
    assert role_of("athena_pool.payments.processor") == "payments"
    assert role_of("athena_pool.apiary") is None
    assert role_of("aiohttp.access") is None


def test_each_sink_has_its_own_level(tmp_path: Path, installed: list[LogSetup]) -> None:
    stream = io.StringIO()
    installed.append(
        configure_logging(settings(tmp_path, console="WARNING", files="DEBUG"), ["pool"], stream=stream)
    )
    log = logging.getLogger("athena_pool.stratum")
    log.debug("vardiff detail")
    log.warning("ban 1.2.3.4")
    installed[0].flush()
    text = (tmp_path / "pool.log").read_text()
    assert "vardiff detail" in text and "ban 1.2.3.4" in text
    assert "vardiff detail" not in stream.getvalue() and "ban 1.2.3.4" in stream.getvalue()


def test_the_level_override_sets_every_sink(tmp_path: Path, installed: list[LogSetup]) -> None:
    stream = io.StringIO()
    installed.append(configure_logging(settings(tmp_path), ["pool"], stream=stream, level_override="debug"))
    logging.getLogger("athena_pool.jobs").debug("template detail")
    installed[0].flush()
    assert "template detail" in stream.getvalue()
    assert "template detail" in (tmp_path / "pool.log").read_text()


def test_lines_are_buffered_until_the_flush_interval_and_errors_go_at_once(
    tmp_path: Path, installed: list[LogSetup]
) -> None:
    installed.append(configure_logging(settings(tmp_path, flush=0.5), ["pool"], stream=io.StringIO()))
    log_file = tmp_path / "pool.log"
    log = logging.getLogger("athena_pool.stratum")
    log.info("buffered line")
    assert "buffered line" not in log_file.read_text()
    assert wait_until(lambda: "buffered line" in log_file.read_text())
    log.info("second buffered line")
    log.error("urgent line")
    text = log_file.read_text()
    assert "second buffered line" in text and "urgent line" in text  # the error took the buffer along


def test_reopen_starts_a_new_file_after_logrotate_renamed_the_old_one(
    tmp_path: Path, installed: list[LogSetup]
) -> None:
    setup = configure_logging(settings(tmp_path, flush=60), ["api"], stream=io.StringIO())
    installed.append(setup)
    log = logging.getLogger("athena_pool.api")
    log.info("before rotation")
    (tmp_path / "api.log").rename(tmp_path / "api.log.1")
    setup.reopen()
    log.info("after rotation")
    setup.flush()
    assert "before rotation" in (tmp_path / "api.log.1").read_text()
    assert "after rotation" not in (tmp_path / "api.log.1").read_text()
    assert "after rotation" in (tmp_path / "api.log").read_text()


def test_no_secret_reaches_any_sink(tmp_path: Path, installed: list[LogSetup]) -> None:
    stream = io.StringIO()
    setup = configure_logging(settings(tmp_path), ["payments"], [SECRET, None, "abc"], stream=stream)
    installed.append(setup)
    ring: list[str] = []

    class Ring(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            ring.append(record.getMessage())

    other = Ring()
    other.addFilter(setup.masking_filter)
    logging.getLogger().addHandler(other)
    try:
        log = logging.getLogger("athena_pool.payments")
        log.info("wallet url http://pool:%s@wallet:8070", SECRET)
        log.info("the abc of payments")
        try:
            raise RuntimeError(f"wallet refused password {SECRET}")
        except RuntimeError:
            log.exception("payment failed")
    finally:
        logging.getLogger().removeHandler(other)
    setup.flush()
    for text in (stream.getvalue(), (tmp_path / "payments.log").read_text(), "\n".join(ring)):
        assert SECRET not in text
        assert "http://pool:***@wallet:8070" in text
    assert "wallet refused password ***" in stream.getvalue()  # the traceback too
    assert "the abc of payments" in ring  # too short to be a secret: left alone


def test_colors_only_on_a_terminal(installed: list[LogSetup]) -> None:
    cases: list[tuple[bool | Literal["auto"], io.StringIO, dict[str, str], bool]] = [
        ("auto", Tty(), {}, True),
        ("auto", io.StringIO(), {}, False),
        ("auto", Tty(), {"NO_COLOR": "1"}, False),
        (True, io.StringIO(), {}, True),
        (False, Tty(), {}, False),
    ]
    for colors, stream, environ, expected in cases:
        config = LoggingSettings(console=ConsoleLogSettings(colors=colors))
        setup = configure_logging(config, ["pool"], stream=stream, environ=environ)
        logging.getLogger("athena_pool.stratum").warning("colour check")
        setup.close()
        assert ("\x1b[33mWARNING\x1b[0m" in stream.getvalue()) is expected, (colors, environ)


def test_level_names() -> None:
    assert normalise_level("warn") == "WARNING"
    assert normalise_level(" info ") == "INFO"
    with pytest.raises(ValueError, match="'loud' is not a log level"):
        normalise_level("loud")


def test_an_unusable_directory_is_an_os_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        configure_logging(settings(blocker / "logs"), ["pool"], stream=io.StringIO())
    assert not any(isinstance(h, BufferedFileHandler) for h in logging.getLogger().handlers)


def test_a_file_handler_closes_twice_as_logging_shutdown_does_at_exit(tmp_path: Path) -> None:
    """LogSetup.close() closes it, then logging.shutdown() (atexit) closes every handler still alive again."""
    handler = BufferedFileHandler(tmp_path / "pool.log", 0.5)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(logging.makeLogRecord({"msg": "one line", "levelno": logging.INFO}))
    handler.close()
    handler.close()
    logging.shutdown([weakref.ref(handler)])
    assert (tmp_path / "pool.log").read_text() == "one line\n"
