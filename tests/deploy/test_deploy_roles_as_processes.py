"""The process layout of the deploy/ stack, without Docker: Redis with deploy/redis/redis.conf (appendonly,
dangerous commands denied), the devnet, and the pool split by roles as docker-compose.yml runs it (`pool`;
`api`; `unlocker,payments`; `charts`), each its own OS process, all reading one config file (the devnet
stack's). The miner is the pool role's demo miner.

Over real HTTP, against the api process only, what an operator would see: the miner connected and hashing,
a block found by the pool (and in the daemon's chain), the block unlocked by the unlocker process, the miner
paid by the payments process (and the transfer in the devnet wallet), charts drawn by the charts process.
Every one of those figures was written to Redis by another process. Then SIGTERM to each process, as
`docker compose down` does: each exits 0 within its service's stop_grace_period, and no log holds a
Traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from deploy_testkit import ROLES
from roles_testkit import (
    DEVNET_CONFIG,
    LOOPBACK,
    Child,
    RoleService,
    StackPorts,
    daemon_call,
    devnet_argv,
    devnet_secret,
    duration_s,
    free_ports,
    get_json,
    role_services,
    stack_config,
    start_devnet,
    tracebacks,
    wait_until,
    wallet_call,
)
from test_deploy_redis import RedisProcess

from athena_pool.config import parse_config
from athena_pool.supervisor import _api_uses_wallet

STARTUP_TIMEOUT_S = 30.0
MINING_TIMEOUT_S = 45.0  # each of: the first block, its unlock 4 blocks later, the payment (seconds each)
FAR_FUTURE_S = 10**10  # /get_payments lists the payments made before `time`
# The roles each compose service runs, one process each.
STACK_LAYOUT = {("pool",), ("api",), ("unlocker", "payments"), ("charts",)}
ATHENA_UNLOCK_DEPTH = 4  # the coin's coinbase unlock: the pool's default and the devnet wallet's


@dataclass
class Stack:
    ports: StackPorts
    config: dict[str, Any]
    services: dict[str, RoleService]  # by compose service name
    roles: dict[str, Child]  # by compose service name
    devnet: Child
    redis: Child
    grace_s: dict[str, float]  # stop_grace_period of the devnet and redis services
    log_dir: Path

    @property
    def api(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.api}"

    @property
    def children(self) -> list[Child]:
        return [*self.roles.values(), self.devnet, self.redis]

    @property
    def wallet_password(self) -> str:
        # What the payments process reads from the secret file that compose hands it.
        path = self.services["unlocker-payments"].environment["ATHENA_POOL_WALLET_RPC_PASSWORD_FILE"]
        return Path(path).read_text().rstrip("\n")


@pytest.fixture
def stack(tmp_path: Path, compose: dict[str, Any], devnet: dict[str, Any]) -> Iterator[Stack]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed (scripts/install installs it)")
    redis_process = _redis(tmp_path / "redis", compose)
    started: list[Child] = []
    try:
        started.append(Child("redis", _running(redis_process), redis_process.workdir / "redis.log"))
        yield _start(tmp_path, free_ports(redis_process.port), compose, devnet, started)
    finally:
        for child in reversed(started):
            child.kill()  # a no-op for the processes the test stopped
        redis_process.stop()


def _redis(workdir: Path, compose: dict[str, Any]) -> RedisProcess:
    """deploy/redis/redis.conf with the compose service's own arguments, on a free loopback port."""
    command = compose["services"]["redis"]["command"]
    assert command[:2] == ["redis-server", "/usr/local/etc/redis/redis.conf"]
    workdir.mkdir()
    return RedisProcess(workdir, extra_args=command[2:])


def _running(redis_process: RedisProcess) -> subprocess.Popen[bytes]:
    client = redis_process.start()
    assert client.info("persistence")["aof_enabled"] == 1
    assert redis_process.process is not None
    return redis_process.process


def _start(
    tmp_path: Path,
    ports: StackPorts,
    compose: dict[str, Any],
    devnet: dict[str, Any],
    started: list[Child],
) -> Stack:
    """The devnet (until its daemon answers), then every role service at once, as compose starts them."""
    log_dir = tmp_path / "logs"
    (log_dir / "athena-pool").mkdir(parents=True)
    config = stack_config(ports, tmp_path / "data", log_dir / "athena-pool")
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config, indent=2))

    password = devnet_secret(devnet, "wallet_rpc_password")
    argv = devnet_argv(ports, tmp_path / "devnet", config["pool_address"], password)
    devnet_child = start_devnet(argv, log_dir / "devnet.out", ports, started)

    services = {service.name: service for service in role_services(compose, devnet, config_file)}
    roles = {}
    for service in services.values():
        environment = {**os.environ, **service.environment}
        child = Child.start(service.name, service.argv, log_dir / f"{service.name}.out", environment)
        started.append(child)
        roles[service.name] = child
    grace_s = {
        "devnet": duration_s(devnet["services"]["devnet"]["stop_grace_period"]),
        "redis": duration_s(compose["services"]["redis"]["stop_grace_period"]),
    }
    return Stack(ports, config, services, roles, devnet_child, started[0], grace_s, log_dir)


def test_the_stack_runs_role_by_role_as_processes(stack: Stack) -> None:
    _check_the_layout(stack)
    miner = _miner_address(stack)
    _check_miner_connected(stack, miner)
    _check_block_found(stack, miner)
    _check_block_unlocked(stack)
    _check_miner_paid(stack, miner)
    _check_charts_drawn(stack)
    _check_health(stack)
    _stop_everything(stack)
    found = tracebacks([*sorted(stack.log_dir.rglob("*.*")), stack.redis.log])
    assert not found, "\n\n".join(found)


def _check_the_layout(stack: Stack) -> None:
    """Every role runs, in exactly one process, as in the stack; the API answers with this config."""
    assert {service.roles for service in stack.services.values()} == STACK_LAYOUT
    listed = [role for service in stack.services.values() for role in service.roles]
    assert sorted(listed) == sorted(ROLES), f"the compose services run roles {listed}"
    config = wait_until(
        lambda: get_json(f"{stack.api}/api/v1/config"), STARTUP_TIMEOUT_S, "the API", stack.children
    )
    assert [port["port"] for port in config["ports"]] == [stack.ports.stratum]
    assert config["unlock_depth"] == ATHENA_UNLOCK_DEPTH


def _miner_address(stack: Stack) -> str:
    """The demo miner's address, which the pool role keeps in its data folder."""
    path = Path(stack.config["data_dir"]) / "demo-miner.address"

    def written() -> str | None:
        text = path.read_text().strip() if path.exists() else ""
        return text or None

    address = wait_until(written, STARTUP_TIMEOUT_S, "the demo miner's address", stack.children)
    assert address != stack.config["pool_address"]
    return address


def _check_miner_connected(stack: Stack, miner: str) -> None:
    """The pool process's live connections and the shares it recorded, as the api process reports them."""

    def hashing() -> bool:
        pool = get_json(f"{stack.api}/api/v1/pool")
        return bool(pool["connections"] >= 1 and pool["hashrate"]["total"] > 0 and pool["miners"]["total"])

    wait_until(hashing, MINING_TIMEOUT_S, "the pool's connections and hashrate", stack.children)
    mine = get_json(f"{stack.api}/api/v1/miners/{miner}")
    assert mine["hashrate"]["current"] > 0 and mine["workers"]["online"] == 1
    assert mine["activity"]["shares"]["valid"] > 0
    workers = get_json(f"{stack.api}/api/v1/miners/{miner}/workers")["items"]
    assert [worker["name"] for worker in workers] == ["rig-1"]
    (port,) = get_json(f"{stack.api}/api/v1/ports")["items"]
    assert port["port"] == stack.ports.stratum and port["connections"] == 1
    # The reference pool's /stats, as its front-ends read it.
    stats = get_json(f"{stack.api}/stats?address={miner}")
    assert stats["pool"]["hashrate"] > 0 and stats["pool"]["miners"] == 1
    assert stats["miner"]["hashrate"] > 0


def _check_block_found(stack: Stack, miner: str) -> None:
    """Blocks of the pool's, found by the miner's worker: in the block list (read from Redis per request)
    and in the pool's totals (the stats snapshot, recomputed every api.update_interval_s)."""

    def blocks() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = get_json(f"{stack.api}/api/v1/blocks")["items"]
        counted = get_json(f"{stack.api}/api/v1/pool")["blocks"]["found_prop"] >= 1
        return items if items and counted else None

    found = wait_until(blocks, MINING_TIMEOUT_S, "a block found by the pool", stack.children)
    assert {(block["finder"], block["finder_worker"]) for block in found} == {(miner, "rig-1")}


def _check_block_unlocked(stack: Stack) -> None:
    """The unlocker process unlocks a block once it is buried deep enough and credits its reward (PPLNS,
    the config's 1 % pool fee) to the one miner. A pool block can lose a race with one of the devnet's
    own blocks and be orphaned instead, so any unlocked block will do; it must be the daemon's."""

    def unlocked() -> dict[str, Any] | None:
        items = get_json(f"{stack.api}/api/v1/blocks?status=matured")["items"]
        return next((block for block in items if block["status"] == "unlocked"), None)

    block = wait_until(unlocked, MINING_TIMEOUT_S, "an unlocked block", stack.children)
    header = daemon_call(stack.ports.daemon, "getblockheaderbyheight", {"height": block["height"]})
    assert header["block_header"]["hash"] == block["hash"], "not the daemon's block at that height"
    found = get_json(f"{stack.api}/api/v1/blocks/{block['height']}/{block['hash']}")
    assert found["scheme"] == "pplns" and found["reward"] > 0 and found["pool_fee"] > 0
    assert found["credits_total"] == found["reward"] - found["pool_fee"]
    assert found["credited_accounts"] == 1


def _check_miner_paid(stack: Stack, miner: str) -> None:
    """The payments process pays the miner from the devnet wallet; the API and the wallet agree."""

    def paid() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = get_json(f"{stack.api}/api/v1/miners/{miner}/payments")["items"]
        return items or None

    payment = wait_until(paid, MINING_TIMEOUT_S, "the miner's first payment", stack.children)[-1]
    assert payment["amount"] > 0 and payment["tx_hash"]
    pool_payments = get_json(f"{stack.api}/api/v1/payments")["items"]
    assert payment["tx_hash"] in {p["tx_hash"] for p in pool_payments}
    # The reference API: [tx:amount:fee:mixin, time, tx:amount:fee:mixin, time, ...].
    flat = get_json(f"{stack.api}/get_payments?time={FAR_FUTURE_S}&address={miner}")
    assert any(entry.startswith(f"{payment['tx_hash']}:{payment['amount']}:") for entry in flat[0::2])
    assert get_json(f"{stack.api}/api/v1/miners/{miner}")["money"]["paid"] >= payment["amount"]
    # The wallet itself sent that amount to that address in that transaction.
    params = {"transactionHash": payment["tx_hash"]}
    sent = wallet_call(stack.ports.wallet, "getTransaction", params, stack.wallet_password)["transaction"]
    transfers = [(transfer["address"], transfer["amount"]) for transfer in sent["transfers"]]
    assert (miner, payment["amount"]) in transfers


def _check_charts_drawn(stack: Stack) -> None:
    """Only the charts process collects chart points: the api process runs no collector."""

    def drawn() -> bool:
        series = get_json(f"{stack.api}/api/v1/charts/pool")["series"]
        return any(point[1] > 0 for point in series["hashrate"])

    wait_until(drawn, STARTUP_TIMEOUT_S, "a point of the pool's hashrate chart", stack.children)


def _check_health(stack: Stack) -> None:
    """What the api process monitors itself: the daemon, and the pool process through its live figures in
    Redis. The wallet is the payments process's: the stack gives the wallet's password to that one only,
    so the api reports no wallet state rather than a wallet that refuses it."""
    health = get_json(f"{stack.api}/health")
    assert health["status"] == "ok", health
    assert health["checks"]["stratum"]["instances"] == 1
    assert health["checks"]["services"] == {"daemon": True}
    stats = get_json(f"{stack.api}/stats")
    assert stats["health"]["athena"] == {"daemon": "ok", "wallet": None, "price": None}


def _stop_everything(stack: Stack) -> None:
    """SIGTERM to every process, each within its service's stop_grace_period: the pool's roles together
    first (they still flush into Redis and finish a payment pass), then the devnet, then Redis."""
    for child in stack.roles.values():
        child.terminate()
    codes = {name: child.exit_code(stack.services[name].stop_grace_s) for name, child in stack.roles.items()}
    for child in (stack.devnet, stack.redis):
        child.terminate()
        codes[child.name] = child.exit_code(stack.grace_s[child.name])
    logs = "\n".join(child.tail() for child in stack.children)
    assert codes == dict.fromkeys(codes, 0), f"exit codes {codes}\n{logs}"


@pytest.mark.parametrize(
    ("payments_here", "password", "expected"),
    [
        (False, None, False),  # the stack's api service: no wallet password, so no wallet probe
        (True, None, True),  # beside the payments role, as in one all-roles process
        (False, "devnet", True),  # the password reached the api process anyway (config or environment)
    ],
)
def test_the_api_talks_to_the_wallet_only_where_it_can_log_in(
    payments_here: bool, password: str | None, expected: bool
) -> None:
    data = json.loads(DEVNET_CONFIG.read_text())
    data["payments"]["wallet"]["rpc_password"] = password
    config = parse_config(data, environ={})
    assert _api_uses_wallet(config, payments_here=payments_here) is expected
