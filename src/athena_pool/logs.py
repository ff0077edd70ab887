"""Logging for `athena-pool run`: the console and one file per role, a level per sink, secrets masked.

- Console: stderr, colours when it is a terminal (`colors: "auto"`; NO_COLOR turns them off).
- Files: `<directory>/<role>.log` for each role the process runs (pool.log, api.log, unlocker.log,
  payments.log, charts.log). A line goes to the file of the role that wrote it; lines of shared parts
  (start-up, Redis, the daemon client) go to every file of the process. Lines are buffered and written
  every `flush_interval` seconds (the reference pool's `flushInterval`); an ERROR line, a full buffer and
  shutdown write at once. `reopen()` (SIGHUP, from logrotate) closes the files and opens them again.
- Rotation by size, built in (no logrotate needed, e.g. in a Docker volume): a file that would pass
  `max_bytes` is renamed `<role>.log.1` (`.1` to `.2` and so on, `backup_count` kept, the oldest dropped) and
  a new one is started. Safe with several processes on one file (cluster workers): the rotation is done
  under a lock on the file, and a process whose file was renamed (by another process, or by logrotate)
  follows the name to the new file at its next write, SIGHUP or not.
- Every secret the configuration holds is replaced by `***` in every line, traceback included.

What is worth a line at INFO: connections (logins), bans, blocks, payments, state changes. A share is not:
shares are counted, and DEBUG shows vardiff and rejected connections.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import IO, Literal

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL_ALIASES = MappingProxyType({"WARN": "WARNING", "FATAL": "CRITICAL"})
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
MASK = "***"
MIN_SECRET_CHARS = 4  # shorter values would mask ordinary words; secrets are never that short
MAX_BUFFER_CHARS = 1 << 20  # a file buffer this full is written before the interval ends
DEFAULT_MAX_BYTES = 50 << 20  # per file; with 5 backups at most 300 MiB per role
DEFAULT_BACKUP_COUNT = 5
# One INFO line per HTTP request is not worth keeping (nginx logs the requests); shown at DEBUG.
QUIET_LOGGERS = ("aiohttp.access",)

# The role that owns each logger (the longest matching prefix wins); other loggers are shared.
ROLE_LOGGERS: Mapping[str, str] = MappingProxyType(
    {
        "athena_pool.stratum": "pool",
        "athena_pool.jobs": "pool",
        "athena_pool.pow": "pool",
        "athena_pool.miner": "pool",
        "athena_pool.console": "pool",
        "athena_pool.api": "api",
        "athena_pool.api.charts": "charts",
        "athena_pool.unlocker": "unlocker",
        "athena_pool.payments": "payments",
    }
)

_COLORS = MappingProxyType(
    {
        logging.DEBUG: "\x1b[2m",
        logging.INFO: "\x1b[32m",
        logging.WARNING: "\x1b[33m",
        logging.ERROR: "\x1b[31m",
        logging.CRITICAL: "\x1b[1;31m",
    }
)
_RESET = "\x1b[0m"


def normalise_level(value: str) -> str:
    """ "info", "warn", "WARNING" ... to a `logging` level name; ValueError for anything else."""
    name = value.strip().upper()
    name = _LEVEL_ALIASES.get(name, name)
    if name not in LEVELS:
        raise ValueError(f"{value!r} is not a log level (one of {', '.join(LEVELS)})")
    return name


@dataclass(frozen=True)
class ConsoleLogSettings:
    level: str = "INFO"
    colors: bool | Literal["auto"] = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", normalise_level(self.level))


@dataclass(frozen=True)
class FileLogSettings:
    """No `directory`: no log files (the console only, e.g. under journald or Docker's log driver).
    `max_bytes` 0: no rotation by size (logrotate's job then)."""

    directory: Path | None = None
    level: str = "INFO"
    flush_interval: float = 5.0  # seconds; 0 writes every line at once
    max_bytes: int = DEFAULT_MAX_BYTES  # a file is rotated before it would grow past this
    backup_count: int = DEFAULT_BACKUP_COUNT  # rotated files kept: <role>.log.1 ... <role>.log.N

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", normalise_level(self.level))
        if self.flush_interval < 0:
            raise ValueError("flush_interval must not be negative")
        if self.max_bytes < 0:
            raise ValueError("max_bytes must not be negative (0: no rotation by size)")
        if self.backup_count < 1:
            raise ValueError("backup_count must be at least 1")


@dataclass(frozen=True)
class LoggingSettings:
    console: ConsoleLogSettings = field(default_factory=ConsoleLogSettings)
    files: FileLogSettings = field(default_factory=FileLogSettings)


class SecretMasker:
    """Replaces each secret in a text by `***` (longest first, so one secret inside another is covered)."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        usable = {secret for secret in secrets if secret and len(secret) >= MIN_SECRET_CHARS}
        self._secrets = tuple(sorted(usable, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


class MaskingFilter(logging.Filter):
    """For any handler: the record's message is formatted and masked before the handler sees it."""

    def __init__(self, masker: SecretMasker) -> None:
        super().__init__()
        self._masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._masker:
            return True
        message = record.getMessage()
        masked = self._masker.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted line, exception text included; colours the level name if asked."""

    def __init__(self, masker: SecretMasker, *, colors: bool = False) -> None:
        super().__init__(FORMAT)
        self._masker = masker
        self._colors = colors

    def format(self, record: logging.LogRecord) -> str:
        text = self._masker.mask(super().format(record))
        if self._colors:
            color = _COLORS.get(record.levelno, "")
            text = text.replace(record.levelname, f"{color}{record.levelname}{_RESET}", 1)
        return text


def role_of(logger_name: str) -> str | None:
    """The role owning a logger, or None for a shared one."""
    best: str | None = None
    for prefix in ROLE_LOGGERS:
        if (logger_name == prefix or logger_name.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    return None if best is None else ROLE_LOGGERS[best]


class _RoleFilter(logging.Filter):
    """Lets through the role's own lines and the lines no role of this process owns."""

    def __init__(self, role: str, roles: frozenset[str]) -> None:
        super().__init__()
        self._role = role
        self._roles = roles

    def filter(self, record: logging.LogRecord) -> bool:
        owner = role_of(record.name)
        return owner == self._role or owner not in self._roles


class BufferedFileHandler(logging.Handler):
    """Appends formatted lines to a file every `flush_interval` seconds (a background thread);
    ERROR and above, a full buffer, `flush()` and `close()` write at once. `reopen()` for logrotate.
    Rotates the file by size (`max_bytes`, 0 for never) and follows a file renamed by someone else."""

    def __init__(
        self,
        path: Path,
        flush_interval: float,
        *,
        max_bytes: int = 0,
        backup_count: int = DEFAULT_BACKUP_COUNT,
        max_buffer_chars: int = MAX_BUFFER_CHARS,
    ) -> None:
        super().__init__()
        self.path = path
        self._interval = flush_interval
        self._max_bytes = max_bytes
        self._backup_count = backup_count
        self._max_chars = max_buffer_chars
        self._buffer: list[str] = []
        self._buffered = 0
        self._io_lock = threading.Lock()
        self._stream: IO[str] | None = self._open()
        self._stop_flushing = threading.Event()
        self._flusher: threading.Thread | None = None
        if flush_interval > 0:
            self._flusher = threading.Thread(
                target=self._flush_periodically, name=f"log-flush-{path.name}", daemon=True
            )
            self._flusher.start()

    def _open(self) -> IO[str]:
        return self.path.open("a", encoding="utf-8")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
        except Exception:  # logging never raises into the caller
            self.handleError(record)
            return
        with self._io_lock:
            self._buffer.append(line)
            self._buffered += len(line)
            urgent = self._interval == 0 or record.levelno >= logging.ERROR
            if urgent or self._buffered >= self._max_chars:
                self._write_locked(record)

    def flush(self) -> None:
        with self._io_lock:
            self._write_locked(None)

    def reopen(self) -> None:
        """Write what is buffered to the old file, then open the path again (a new file after a rename)."""
        with self._io_lock:
            self._write_locked(None, follow=False)  # lines logged before the rename belong to the old file
            self._reopen_locked()

    def backup(self, index: int) -> Path:
        """The path of the `index`th rotated file (1 is the newest)."""
        return self.path.with_name(f"{self.path.name}.{index}")

    def _reopen_locked(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self._stream = self._open()

    def close(self) -> None:
        self._stop_flushing.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join(timeout=5)
        with self._io_lock:
            self._write_locked(None)
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        super().close()

    def _flush_periodically(self) -> None:
        while not self._stop_flushing.wait(self._interval):
            self.flush()

    def _write_locked(self, record: logging.LogRecord | None, *, follow: bool = True) -> None:
        if not self._buffer or self._stream is None:
            return
        text = "".join(self._buffer)
        self._buffer.clear()
        self._buffered = 0
        try:
            stream = self._prepare_locked(len(text.encode("utf-8", "replace"))) if follow else self._stream
            stream.write(text)
            stream.flush()
        except OSError:
            if record is not None:
                self.handleError(record)
            else:
                sys.stderr.write(f"athena-pool: cannot write the log file {self.path}\n")


    def _prepare_locked(self, incoming: int) -> IO[str]:
        """The stream to write `incoming` bytes to: the file now at `path` (reopened if it was renamed),
        rotated first if those bytes would take it past `max_bytes`."""
        if not self._is_current():
            self._reopen_locked()
        stream = self._stream
        assert stream is not None
        if self._max_bytes:
            size = os.fstat(stream.fileno()).st_size
            if size and size + incoming > self._max_bytes:
                self._rotate_locked(stream)
                stream = self._stream
                assert stream is not None
        return stream

    def _is_current(self) -> bool:
        """Whether our open file is still the one named `path` (not renamed away by a rotation)."""
        assert self._stream is not None
        try:
            named = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(self._stream.fileno())
        return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)

    def _rotate_locked(self, stream: IO[str]) -> None:
        """Rename the files one step down and start a new one. The lock on the file makes the other
        processes writing it wait; each then finds the name taken by a new file and only reopens."""
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX)
        try:
            if self._is_current():
                for index in range(self._backup_count - 1, 0, -1):
                    if self.backup(index).exists():
                        os.replace(self.backup(index), self.backup(index + 1))
                os.replace(self.path, self.backup(1))
        finally:
            fcntl.flock(stream.fileno(), fcntl.LOCK_UN)
        self._reopen_locked()


@dataclass
class LogSetup:
    """The handlers `configure_logging` installed on the root logger; `close()` removes them."""

    console: logging.Handler
    files: dict[str, BufferedFileHandler]
    masking_filter: MaskingFilter  # add it to any other handler (the API's log ring, for one)
    root_level_before: int
    quieted: dict[str, int] = field(default_factory=dict)  # logger name -> its level before

    def reopen(self) -> None:
        for handler in self.files.values():
            handler.reopen()

    def flush(self) -> None:
        self.console.flush()
        for handler in self.files.values():
            handler.flush()

    def close(self) -> None:
        root = logging.getLogger()
        for handler in (self.console, *self.files.values()):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(self.root_level_before)
        for name, level in self.quieted.items():
            logging.getLogger(name).setLevel(level)


def configure_logging(
    settings: LoggingSettings,
    roles: Sequence[str],
    secrets: Iterable[str | None] = (),
    *,
    level_override: str | None = None,
    stream: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LogSetup:
    """Install the console and file handlers on the root logger. `level_override` (--log-level) sets
    every sink's level. Raises OSError when the log directory cannot be created or written."""
    stream = stream if stream is not None else sys.stderr
    environ = environ if environ is not None else os.environ
    masker = SecretMasker(secrets)
    masking = MaskingFilter(masker)
    console_level = normalise_level(level_override or settings.console.level)
    file_level = normalise_level(level_override or settings.files.level)

    console = logging.StreamHandler(stream)
    console.setLevel(console_level)
    console.setFormatter(
        MaskingFormatter(masker, colors=_use_colors(settings.console.colors, stream, environ))
    )
    console.addFilter(masking)

    files = _file_handlers(settings.files, roles, file_level, masker, masking)
    root = logging.getLogger()
    setup = LogSetup(console, files, masking, root.level)
    numeric = logging.getLevelNamesMapping()
    root.setLevel(min(numeric[console_level], numeric[file_level] if files else logging.CRITICAL))
    for handler in (console, *files.values()):
        root.addHandler(handler)
    if root.level > logging.DEBUG:
        for name in QUIET_LOGGERS:
            quiet = logging.getLogger(name)
            setup.quieted[name] = quiet.level
            quiet.setLevel(logging.WARNING)
    return setup


def _file_handlers(
    settings: FileLogSettings, roles: Sequence[str], level: str, masker: SecretMasker, masking: MaskingFilter
) -> dict[str, BufferedFileHandler]:
    if settings.directory is None:
        return {}
    settings.directory.mkdir(parents=True, exist_ok=True)
    running = frozenset(roles)
    handlers: dict[str, BufferedFileHandler] = {}
    try:
        for role in dict.fromkeys(roles):
            handler = BufferedFileHandler(
                settings.directory / f"{role}.log",
                settings.flush_interval,
                max_bytes=settings.max_bytes,
                backup_count=settings.backup_count,
            )
            handlers[role] = handler
            handler.setLevel(level)
            handler.setFormatter(MaskingFormatter(masker))
            handler.addFilter(masking)
            handler.addFilter(_RoleFilter(role, running))
    except OSError:
        for handler in handlers.values():
            handler.close()
        raise
    return handlers


def _use_colors(setting: bool | Literal["auto"], stream: IO[str], environ: Mapping[str, str]) -> bool:
    if setting != "auto":
        return bool(setting)
    if environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
