"""deploy/docker-compose.yml and its devnet overlay, read as files: the compose specification's schema, the
subset `docker stack deploy` accepts, every reference resolving, the recipe's ports, non-root users, the
singletons, traefik, secrets, and the devnet profile."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deploy_testkit import (
    APP_UID,
    COMPOSE_FILE,
    DEPLOY,
    DEVNET_FILE,
    ROLES,
    DockerIgnore,
    read_dockerfile,
    read_env_file,
    variables_used,
    walk_strings,
)

SCHEMA = Path(__file__).with_name("compose-spec.json")
ATHENA_POOL_IMAGE = "athena-pool:local"
STRATUM_PORTS = (3335, 5557, 7779)
API_PORT = 8117
CONFIG_PATH = "/etc/athena-pool/config.json"


def services(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = document["services"]
    return found


def athena_pool_roles(document: dict[str, Any]) -> dict[str, list[str]]:
    """service name → the roles its `athena-pool run` command starts."""
    out: dict[str, list[str]] = {}
    for name, service in services(document).items():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["run"]:
            out[name] = command[command.index("--roles") + 1].split(",")
    return out


# ---------------------------------------------------------------------------------------------------------
# The compose specification (JSON schema shipped by the npm package dclint, see README.md here).


def compose_spec_validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = compose_spec_validator()
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.mark.parametrize("which", ["compose_raw", "compose", "devnet_raw", "devnet"])
def test_files_follow_the_compose_specification(which: str, request: pytest.FixtureRequest) -> None:
    assert schema_errors(request.getfixturevalue(which)) == []


def test_the_schema_check_catches_a_misspelt_key(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["pool"]["restart_polcy"] = "always"
    broken["services"]["redis"]["healthcheck"]["intervall"] = "5s"
    errors = schema_errors(broken)
    assert any("restart_polcy" in error for error in errors)
    assert any("intervall" in error for error in errors)


# ---------------------------------------------------------------------------------------------------------
# What `docker stack deploy` accepts: docker/cli validates against its own schema (config_schema_v3.13),
# stricter than the compose specification. The keys below are that schema's; test_deploy_compose_tools.py
# runs the real `docker stack config` too where the docker CLI is installed.

SWARM_TOP = {"version", "services", "networks", "volumes", "secrets", "configs"}
SWARM_SERVICE = {
    "deploy", "build", "cap_add", "cap_drop", "cgroupns_mode", "cgroup_parent", "command", "configs",
    "container_name", "credential_spec", "depends_on", "devices", "dns", "dns_search", "domainname",
    "entrypoint", "env_file", "environment", "expose", "external_links", "extra_hosts", "group_add",
    "healthcheck", "hostname", "image", "init", "ipc", "isolation", "labels", "links", "logging",
    "mac_address", "network_mode", "networks", "pid", "ports", "privileged", "read_only", "restart",
    "security_opt", "shm_size", "secrets", "sysctls", "stdin_open", "stop_grace_period", "stop_signal",
    "tmpfs", "tty", "ulimits", "oom_score_adj", "user", "userns_mode", "volumes", "working_dir",
}  # fmt: skip
SWARM_DEPLOY = {
    "mode", "endpoint_mode", "replicas", "labels", "rollback_config", "update_config", "resources",
    "restart_policy", "placement",
}  # fmt: skip
SWARM_HEALTHCHECK = {"disable", "interval", "retries", "test", "timeout", "start_period", "start_interval"}
SWARM_PORT = {"mode", "target", "published", "protocol"}
SWARM_VOLUME_MOUNT = {"type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs"}
SWARM_NETWORK = {"name", "driver", "driver_opts", "ipam", "external", "internal", "attachable", "labels"}
SWARM_VOLUME = {"name", "driver", "driver_opts", "external", "labels"}
SWARM_SECRET = {"name", "file", "external", "labels", "driver", "driver_opts", "template_driver"}
SWARM_CONFIG = {"name", "file", "external", "labels", "template_driver"}
SWARM_DURATION_KEYS = {"interval", "timeout", "start_period", "start_interval", "stop_grace_period", "delay",
                       "window", "monitor"}  # fmt: skip
GO_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+")


def swarm_problems(document: dict[str, Any]) -> list[str]:
    problems: list[str] = []

    def only(where: str, mapping: dict[str, Any], allowed: set[str]) -> None:
        for key in mapping:
            if key not in allowed and not key.startswith("x-"):
                problems.append(f"{where}: {key!r} is not accepted by docker stack deploy")

    def durations(where: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in SWARM_DURATION_KEYS and not GO_DURATION.fullmatch(str(item)):
                    problems.append(f"{where}.{key}: {item!r} is not a Go duration")
                durations(f"{where}.{key}", item)

    only("(top level)", document, SWARM_TOP)
    for name, service in services(document).items():
        where = f"services.{name}"
        only(where, service, SWARM_SERVICE)
        only(f"{where}.deploy", service.get("deploy") or {}, SWARM_DEPLOY)
        only(f"{where}.healthcheck", service.get("healthcheck") or {}, SWARM_HEALTHCHECK)
        if not isinstance(service.get("depends_on", []), list):
            problems.append(f"{where}.depends_on: only the list form is accepted")
        for port in service.get("ports", []):
            if isinstance(port, dict):
                only(f"{where}.ports", port, SWARM_PORT)
        for mount in service.get("volumes", []):
            if isinstance(mount, dict):
                only(f"{where}.volumes", mount, SWARM_VOLUME_MOUNT)
        durations(where, service)
    for section, allowed in (
        ("networks", SWARM_NETWORK),
        ("volumes", SWARM_VOLUME),
        ("secrets", SWARM_SECRET),
        ("configs", SWARM_CONFIG),
    ):
        for name, item in (document.get(section) or {}).items():
            only(f"{section}.{name}", item or {}, allowed)
    return problems


@pytest.mark.parametrize("which", ["compose", "devnet"])
def test_files_stay_within_what_docker_stack_deploy_accepts(
    which: str, request: pytest.FixtureRequest
) -> None:
    assert swarm_problems(request.getfixturevalue(which)) == []


def test_the_swarm_check_catches_compose_only_keys(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["name"] = "athena"
    broken["services"]["devnet"] = {"image": "x", "profiles": ["devnet"], "depends_on": {"redis": {}}}
    broken["services"]["pool"]["healthcheck"]["start_period"] = "12 hours"
    problems = swarm_problems(broken)
    assert any("'name'" in p for p in problems)
    assert any("'profiles'" in p for p in problems)
    assert any("depends_on" in p for p in problems)
    assert any("12 hours" in p for p in problems)


# ---------------------------------------------------------------------------------------------------------
# References.


def declared(document: dict[str, Any], section: str) -> set[str]:
    return set(document.get(section) or {})


def used(document: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"networks": set(), "volumes": set(), "secrets": set(), "configs": set()}
    for service in services(document).values():
        networks = service.get("networks") or []
        out["networks"].update(networks if isinstance(networks, list) else networks.keys())
        for mount in service.get("volumes", []):
            source = mount.get("source") if isinstance(mount, dict) else mount.split(":")[0]
            kind = mount.get("type", "volume") if isinstance(mount, dict) else None
            if isinstance(mount, str) and not source.startswith((".", "/", "~", "$")):
                kind = "volume"
            if kind == "volume" and source:
                out["volumes"].add(source)
        for section in ("secrets", "configs"):
            for item in service.get(section, []):
                out[section].add(item if isinstance(item, str) else item["source"])
    return out


def test_every_reference_of_the_stack_resolves_and_nothing_is_orphaned(compose: dict[str, Any]) -> None:
    names = set(services(compose))
    for name, service in services(compose).items():
        for dependency in service.get("depends_on", []):
            assert dependency in names, f"{name} depends on unknown service {dependency}"
    references = used(compose)
    for section, names_used in references.items():
        assert names_used <= declared(compose, section), (
            f"{section}: undeclared {names_used - declared(compose, section)}"
        )
        assert declared(compose, section) <= names_used, (
            f"{section}: unused {declared(compose, section) - names_used}"
        )


def test_the_devnet_overlay_resolves_against_the_stack(
    compose: dict[str, Any], devnet: dict[str, Any]
) -> None:
    for name, service in services(devnet).items():
        if name != "devnet":
            assert name in services(compose), f"the overlay changes {name}, which the stack does not have"
        for dependency in service.get("depends_on", []):
            assert dependency in services(compose) or dependency in services(devnet)
    references = used(devnet)
    for section, names_used in references.items():
        known = declared(compose, section) | declared(devnet, section)
        assert names_used <= known, f"{section}: undeclared {names_used - known}"
    for section in ("secrets", "configs"):
        assert declared(devnet, section) <= declared(compose, section), f"the overlay adds {section}"


def test_files_the_stack_mounts_from_deploy_exist(compose: dict[str, Any], devnet: dict[str, Any]) -> None:
    """The configs and devnet secrets that deploy/ ships (the pool's own config files and the production
    secrets are the operator's)."""
    for document in (compose, devnet):
        for section in ("configs", "secrets"):
            for name, item in (document.get(section) or {}).items():
                path = (DEPLOY / item["file"]).resolve()
                if path.is_relative_to((DEPLOY / "config").resolve()) or "/secrets/" in item["file"]:
                    continue  # written by the operator (or by deploy/config's own issue)
                assert path.is_file(), f"{section}.{name}: {item['file']} does not exist"


# ---------------------------------------------------------------------------------------------------------
# Ports: the recipe's stratum ports published, the API behind nginx.


def published(service: dict[str, Any]) -> list[tuple[int, int, str, str]]:
    out = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            out.append(
                (int(port["published"]), port["target"], port.get("protocol", "tcp"), port.get("mode", ""))
            )
        else:
            host, _, container = str(port).rpartition(":")
            out.append((int(host), int(container), "tcp", "ingress"))
    return out


def test_the_pool_publishes_the_recipes_stratum_ports_in_host_mode(compose: dict[str, Any]) -> None:
    pool = services(compose)["pool"]
    assert published(pool) == [(port, port, "tcp", "host") for port in STRATUM_PORTS]


def test_nothing_else_is_published_and_the_api_is_only_reachable_through_nginx(
    compose: dict[str, Any],
) -> None:
    for name, service in services(compose).items():
        if name != "pool":
            assert "ports" not in service, f"{name} publishes {service['ports']}"
    api = services(compose)["api"]
    assert api["expose"] == [str(API_PORT)]
    assert api["environment"]["ATHENA_POOL_HEALTHCHECK"] == f"tcp:127.0.0.1:{API_PORT}"
    assert set(api["networks"]) == {"backend"}
    assert compose["networks"]["backend"]["internal"] is True
    assert compose["networks"]["backend"]["attachable"] is True


def test_the_image_exposes_and_probes_the_same_ports() -> None:
    runtime = read_dockerfile(DEPLOY / "Dockerfile").stage("runtime")
    exposed = [int(port) for line in runtime.all("EXPOSE") for port in line.split()]
    assert exposed == [*STRATUM_PORTS, API_PORT]
    assert 'ATHENA_POOL_HEALTHCHECK="tcp:127.0.0.1:3335"' in runtime.all("ENV")


# ---------------------------------------------------------------------------------------------------------
# Users: non-root everywhere, the pool's own UID where the pool's data is.


def uid_of(user: str) -> int:
    uid = user.split(":")[0]
    assert uid.isdigit(), f"user {user!r}: numeric ids only (a name can be root in another image)"
    return int(uid)


@pytest.mark.parametrize("which", ["compose", "devnet"])
def test_every_service_runs_as_a_non_root_user(which: str, request: pytest.FixtureRequest) -> None:
    for name, service in services(request.getfixturevalue(which)).items():
        if set(service) <= {"image", "deploy", "ports"}:
            continue  # an overlay entry that only scales or publishes an existing service
        assert "user" in service, f"{name} has no user: it would run as the image's default, often root"
        assert uid_of(service["user"]) != 0, f"{name} runs as root"


def test_the_pool_redis_daemon_and_wallet_run_as_3508(
    compose: dict[str, Any], devnet: dict[str, Any]
) -> None:
    owners = {name: s["user"] for name, s in services(compose).items()}
    owners["devnet"] = services(devnet)["devnet"]["user"]
    for name in ("daemon", "wallet", "redis", "devnet", *athena_pool_roles(compose)):
        assert owners[name] == f"{APP_UID}:{APP_UID}", name
    assert owners["nginx"] == "101:101"


def test_the_users_come_from_one_variable_pair(compose_raw: dict[str, Any]) -> None:
    for name, service in services(compose_raw).items():
        if name != "nginx":
            assert service["user"] == "${ATHENA_UID:-3508}:${ATHENA_GID:-3508}", name
    build_args = compose_raw["x-athena-pool-image"]["build"]["args"]
    assert build_args == {"APP_UID": "${ATHENA_UID:-3508}", "APP_GID": "${ATHENA_GID:-3508}"}


@pytest.mark.parametrize("which", ["compose", "devnet"])
def test_containers_drop_capabilities_and_privilege_escalation(
    which: str, request: pytest.FixtureRequest
) -> None:
    for name, service in services(request.getfixturevalue(which)).items():
        if "user" not in service:
            continue
        assert service.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        if name not in ("daemon", "wallet"):  # the coin's images: their writable paths are unknown
            assert service.get("read_only") is True, name


def test_data_lives_in_volumes_mounted_where_the_processes_write(compose: dict[str, Any]) -> None:
    mounts = {
        name: {m["target"] if isinstance(m, dict) else m.split(":")[1]: m for m in s.get("volumes", [])}
        for name, s in services(compose).items()
    }
    assert "/var/lib/athena-pool" in mounts["pool"]
    assert "/var/lib/athena-pool" in mounts["unlocker-payments"]
    for role in athena_pool_roles(compose):
        assert "/var/log/athena-pool" in mounts[role], role
        assert "/tmp" in mounts[role], f"{role}: a read-only root needs a tmpfs /tmp"
    assert {"/data", "/var/log/redis"} <= set(mounts["redis"])
    # The image creates these folders for APP_UID, so a fresh volume mounted there starts with that owner.
    runtime = read_dockerfile(DEPLOY / "Dockerfile").stage("runtime")
    assert any(
        "install -d -m 0750 -o" in run and "/var/lib/athena-pool /var/log/athena-pool" in run
        for run in runtime.all("RUN")
    )


# ---------------------------------------------------------------------------------------------------------
# Roles and swarm deployment keys.


def test_the_roles_run_as_separate_services_each_exactly_once(compose: dict[str, Any]) -> None:
    roles = athena_pool_roles(compose)
    assert roles == {
        "pool": ["pool"],
        "api": ["api"],
        "unlocker-payments": ["unlocker", "payments"],
        "charts": ["charts"],
    }
    assert sorted(r for group in roles.values() for r in group) == sorted(ROLES)
    for name in roles:
        service = services(compose)[name]
        assert service["command"][:3] == ["run", "--config", CONFIG_PATH]
        assert service["image"] == ATHENA_POOL_IMAGE
        assert [c["target"] for c in service["configs"]] == [CONFIG_PATH]
        assert service["depends_on"] == ["redis"]


def test_every_service_has_swarm_deploy_keys(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        deploy = service["deploy"]
        assert deploy["replicas"] == 1, name
        assert deploy["restart_policy"]["condition"] == "any", name
        assert "restart" not in service, f"{name}: restart_policy alone, read by both tools"


def test_singletons_never_run_twice_during_an_update(compose: dict[str, Any]) -> None:
    """Two payment processors pay twice; two chart collectors record every point twice; two Redis on one
    AOF corrupt it; two pools cannot bind the same host ports."""
    for name in ("unlocker-payments", "charts", "redis", "pool"):
        deploy = services(compose)[name]["deploy"]
        assert deploy["replicas"] == 1
        assert deploy["update_config"]["order"] == "stop-first", name


def test_stop_grace_periods_cover_the_slow_shutdowns(compose: dict[str, Any]) -> None:
    def seconds(value: str) -> int:
        number, unit = int(value[:-1]), value[-1]
        return number * {"s": 1, "m": 60, "h": 3600}[unit]

    grace = {name: seconds(s["stop_grace_period"]) for name, s in services(compose).items()}
    assert grace["unlocker-payments"] >= 120  # a payment batch in flight
    assert grace["daemon"] >= 60  # the chain database
    assert grace["redis"] >= 30  # the AOF and a last snapshot


def test_healthchecks_fit_each_role(compose: dict[str, Any]) -> None:
    svc = services(compose)
    assert svc["pool"]["healthcheck"]["test"] == ["CMD", "athena-pool-healthcheck"]
    start = svc["pool"]["healthcheck"]["start_period"]
    assert start.endswith("h") and int(start[:-1]) >= 1, (
        "a pool waiting for the daemon's sync must not be killed"
    )
    assert svc["pool"]["environment"]["ATHENA_POOL_HEALTHCHECK"] == "tcp:127.0.0.1:3335"
    for name in ("unlocker-payments", "charts"):
        assert svc[name]["healthcheck"] == {"disable": True}, name
    assert svc["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert svc["nginx"]["healthcheck"]["test"][-1] == "http://127.0.0.1:8080/nginx-health"


def test_the_stratum_server_gets_a_high_file_descriptor_limit(compose: dict[str, Any]) -> None:
    nofile = services(compose)["pool"]["ulimits"]["nofile"]
    assert nofile["soft"] >= 65536 and nofile["hard"] >= nofile["soft"]


# ---------------------------------------------------------------------------------------------------------
# traefik, nginx, Redis wiring.


def nginx_listen_port() -> int:
    match = re.search(r"^\s*listen\s+(\d+)", (DEPLOY / "nginx" / "nginx.conf").read_text(), re.MULTILINE)
    assert match
    return int(match[1])


def test_traefik_labels_route_the_host_to_nginx(compose: dict[str, Any]) -> None:
    nginx = services(compose)["nginx"]
    labels = nginx["labels"]
    assert nginx["deploy"]["labels"] == labels, "swarm reads deploy.labels, compose the container's labels"
    assert labels["traefik.enable"] == "true"
    assert labels["traefik.http.routers.athena-pool.rule"] == "Host(`pool.example.com`)"
    assert labels["traefik.http.routers.athena-pool.entrypoints"] == "websecure"
    assert labels["traefik.http.routers.athena-pool-http.entrypoints"] == "web"
    assert labels["traefik.http.routers.athena-pool.tls.certresolver"] == "le"
    assert labels["traefik.http.services.athena-pool.loadbalancer.server.port"] == str(nginx_listen_port())
    assert labels["traefik.docker.network"] == compose["networks"]["traefik"]["name"]
    assert "traefik" in nginx["networks"]
    assert compose["networks"]["traefik"]["external"] == "true"  # a string until the tools cast it


def test_traefik_host_comes_from_pool_host(compose_raw: dict[str, Any]) -> None:
    labels = compose_raw["x-traefik-labels"]
    assert labels["traefik.http.routers.athena-pool.rule"] == "Host(`${POOL_HOST:-pool.example.com}`)"


def test_nginx_proxies_to_the_api_service(compose: dict[str, Any]) -> None:
    conf = (DEPLOY / "nginx" / "nginx.conf").read_text()
    match = re.search(r"set \$athena_api http://([a-z-]+):(\d+);", conf)
    assert match, "nginx.conf names the API as http://SERVICE:PORT"
    assert match[1] in services(compose) and int(match[2]) == API_PORT
    assert set(services(compose)["nginx"]["networks"]) >= set(services(compose)[match[1]]["networks"])
    nginx_configs = services(compose)["nginx"]["configs"]
    assert nginx_configs == [{"source": "nginx_conf", "target": "/etc/nginx/nginx.conf", "mode": 0o444}]
    assert compose["configs"]["nginx_conf"]["file"] == "./nginx/nginx.conf"


def test_nginx_comes_from_the_web_target_of_the_same_dockerfile(compose: dict[str, Any]) -> None:
    build = services(compose)["nginx"]["build"]
    assert build == {"context": "..", "dockerfile": "deploy/Dockerfile", "target": "web"}
    web = read_dockerfile(DEPLOY / "Dockerfile").stage("web")
    assert "deploy/nginx/nginx.conf /etc/nginx/nginx.conf" in web.all("COPY")


def test_redis_uses_the_shipped_config(compose: dict[str, Any]) -> None:
    redis = services(compose)["redis"]
    assert redis["command"][:2] == ["redis-server", "/usr/local/etc/redis/redis.conf"]
    assert redis["command"][2:] == ["--maxmemory", "1gb"]
    assert redis["configs"][0]["source"] == "redis_conf"
    assert redis["configs"][0]["target"] == "/usr/local/etc/redis/redis.conf"
    assert compose["configs"]["redis_conf"]["file"] == "./redis/redis.conf"
    assert set(redis["networks"]) == {"backend"}


# ---------------------------------------------------------------------------------------------------------
# Secrets.

SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|PASSPHRASE|PRIVATE", re.IGNORECASE)


@pytest.mark.parametrize("which", ["compose", "devnet"])
def test_secrets_reach_containers_only_as_files(which: str, request: pytest.FixtureRequest) -> None:
    for name, service in services(request.getfixturevalue(which)).items():
        mounted = {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
        for key, value in (service.get("environment") or {}).items():
            if SECRET_WORDS.search(key):
                assert key.endswith("_FILE"), f"{name}: {key} holds a secret itself"
                secret = str(value).removeprefix("/run/secrets/")
                assert str(value).startswith("/run/secrets/") and secret in mounted, f"{name}: {key}={value}"
        for mount in service.get("secrets", []):
            if isinstance(mount, dict):
                assert mount["mode"] == 0o400, f"{name}: {mount['source']} readable by others"


WALLET_PROBE = """
import json, os, sys
config = sys.argv[sys.argv.index("--config") + 1]
print(json.dumps({"argv": sys.argv[1:], "config": json.load(open(config)), "mode": os.stat(config).st_mode}))
"""


def test_the_wallet_reads_its_passwords_from_secret_files(compose: dict[str, Any], tmp_path: Path) -> None:
    """The wallet's start script, run by a real sh: the passwords from the secret files end up in the
    config file that `services --config` reads (private to the user), never in a process's arguments.
    Only what is not on this machine is moved: the secret and tmpfs folders, and `services` itself (a
    Python one-liner that reports its arguments and that file)."""
    wallet = services(compose)["wallet"]
    assert wallet["entrypoint"] == ["/bin/sh", "-c"]
    script = wallet["command"][0]
    assert "--rpc-password" not in script and "--container-password" not in script
    assert {s["source"] for s in wallet["secrets"]} == {"wallet_rpc_password", "wallet_container_password"}
    assert {"type": "tmpfs", "target": "/tmp"} in wallet["volumes"]
    passwords = {"wallet_rpc_password": "a1" * 32, "wallet_container_password": "b2" * 32}
    for name, value in passwords.items():
        (tmp_path / name).write_text(value + "\n")
    (tmp_path / "tmp").mkdir()
    local = script.replace("/tmp/", f"{tmp_path}/tmp/").replace("/run/secrets/", f"{tmp_path}/")
    assert local.count("exec services ") == 1
    local = local.replace("exec services ", f"exec {sys.executable} -c '{WALLET_PROBE}' ")
    result = subprocess.run(["sh", "-c", local], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["config"] == {
        "container-password": passwords["wallet_container_password"],
        "rpc-password": passwords["wallet_rpc_password"],
    }
    assert seen["mode"] & 0o077 == 0, "the config file is readable by its owner only"
    assert not any(value in " ".join(seen["argv"]) for value in passwords.values())
    assert seen["argv"][seen["argv"].index("--bind-port") + 1] == "8070"
    assert services(compose)["unlocker-payments"]["environment"] == {
        "ATHENA_POOL_WALLET_RPC_PASSWORD_FILE": "/run/secrets/wallet_rpc_password"
    }


def test_no_secret_value_is_written_in_the_stack(compose_raw: dict[str, Any]) -> None:
    for text in walk_strings(compose_raw):
        assert not re.search(r"(?i)(password|secret)\s*[=:]\s*['\"]?[A-Za-z0-9]{6,}", text), text


def test_secret_files_stay_out_of_the_image_build_context() -> None:
    ignore = DockerIgnore((DEPLOY / "Dockerfile.dockerignore").read_text())
    for path in ("deploy/secrets/wallet_rpc_password", "deploy/devnet/wallet_rpc_password", "deploy/.env"):
        assert ignore.excluded(path), path


# ---------------------------------------------------------------------------------------------------------
# The devnet profile.


def test_the_devnet_overlay_replaces_the_daemon_and_the_wallet(devnet: dict[str, Any]) -> None:
    svc = services(devnet)
    for name in ("daemon", "wallet"):
        assert svc[name] == {"image": ATHENA_POOL_IMAGE, "deploy": {"replicas": 0}}, name
    command = svc["devnet"]["command"][0]
    assert svc["devnet"]["entrypoint"] == ["/bin/sh", "-c"]
    assert command.startswith("exec athena-pool devnet --host 0.0.0.0 --daemon-port 12001 --wallet-port 8070")
    assert '--rpc-password "$(cat /run/secrets/wallet_rpc_password)"' in command
    assert '--pool-address "${DEVNET_POOL_ADDRESS}"' in command
    assert svc["devnet"]["environment"]["ATHENA_POOL_HEALTHCHECK"] == "tcp:127.0.0.1:12001 tcp:127.0.0.1:8070"
    assert svc["devnet"]["deploy"]["replicas"] == 1
    assert devnet["configs"]["athena_pool_config"]["file"] == "./config/athena-devnet.json"


def test_the_devnet_pool_address_is_a_valid_athena_address(devnet: dict[str, Any]) -> None:
    from athena_pool.coins.addresses import decode_address

    address = services(devnet)["devnet"]["environment"]["DEVNET_POOL_ADDRESS"]
    decode_address(address, "athena")  # raises on a bad checksum, prefix or key
    units = "\n".join(p.read_text() for p in (DEPLOY / "systemd").glob("*.service"))
    assert f"DEVNET_POOL_ADDRESS={address}" in units, "the systemd devnet unit uses the same wallet"


def test_the_devnet_secrets_are_the_devnets_own(devnet: dict[str, Any]) -> None:
    for name, item in devnet["secrets"].items():
        path = DEPLOY / item["file"]
        assert path.parent == DEPLOY / "devnet", name
        assert path.read_text().strip(), name
    assert (DEPLOY / "devnet" / "wallet_rpc_password").read_text() == "devnet\n"


def test_the_devnet_env_file_makes_the_stack_self_contained() -> None:
    env = read_env_file(DEPLOY / "devnet.env")
    assert env["TRAEFIK_NETWORK_EXTERNAL"] == "false"
    assert env["ATHENA_POOL_DEVNET_CONFIG"] == "./config/athena-devnet.json"
    assert env["COMPOSE_PROJECT_NAME"] == "athena-devnet"


def test_every_variable_is_documented_in_an_env_file(
    compose_raw: dict[str, Any], devnet_raw: dict[str, Any]
) -> None:
    used_names = variables_used(compose_raw) | variables_used(devnet_raw)
    documented = set(read_env_file(DEPLOY / "example.env")) | set(read_env_file(DEPLOY / "devnet.env"))
    assert used_names - documented == set(), "variables without an example"
    assert documented - used_names - {"COMPOSE_PROJECT_NAME"} == set(), "examples of unused variables"


def test_compose_files_are_where_the_readme_says() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for path in (COMPOSE_FILE, DEVNET_FILE):
        assert path.name in readme
    assert "prepare-volumes.sh" in readme and "chown" in readme
