"""Waiting for a syncing daemon and wallet: a local HTTP daemon that syncs, the devnet, a fake clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from athena_pool.devnet.runner import DevnetOptions, start_devnet
from athena_pool.rpc.daemon import DaemonInfo, create_daemon_client
from athena_pool.rpc.errors import RpcUnavailable
from athena_pool.rpc.jsonrpc import JsonRpcClient
from athena_pool.rpc.wallet import WalletSync, create_wallet_client
from athena_pool.sync_wait import SyncWaitSettings, wait_until_synced

FAST = SyncWaitSettings(poll_interval=0.02, progress_interval=0.001)


@dataclass
class SyncingNode:
    """A TurtleCoin-style daemon (GET /getinfo) and walletd (getStatus) that sync one step per poll."""

    daemon_steps: list[tuple[int, int, bool] | None]  # (height, network height, synced); None: HTTP 503
    wallet_steps: list[tuple[int, int]]  # (blockCount, knownBlockCount)
    password: str = "wallet-pass"
    daemon_polls: int = 0
    wallet_polls: int = 0

    async def getinfo(self, request: web.Request) -> web.Response:
        step = self.daemon_steps[min(self.daemon_polls, len(self.daemon_steps) - 1)]
        self.daemon_polls += 1
        if step is None:
            return web.Response(status=503, text="Core is busy")
        height, network, synced = step
        return web.json_response(
            {"status": "OK", "height": height, "network_height": network, "synced": synced, "difficulty": 77}
        )

    async def json_rpc(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        assert body["method"] == "getStatus" and body["password"] == self.password
        count, known = self.wallet_steps[min(self.wallet_polls, len(self.wallet_steps) - 1)]
        self.wallet_polls += 1
        result = {"blockCount": count, "knownBlockCount": known, "peerCount": 8, "lastBlockHash": "00" * 32}
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result})


@pytest.fixture
async def node_server() -> AsyncIterator[tuple[SyncingNode, str]]:
    node = SyncingNode(
        daemon_steps=[None, (100, 1000, False), (500, 1000, False), (1000, 1000, True)],
        wallet_steps=[(10, 1000), (990, 1000), (1000, 1000)],
    )
    app = web.Application()
    app.router.add_get("/getinfo", node.getinfo)
    app.router.add_post("/json_rpc", node.json_rpc)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield node, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def sync_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="athena_pool.sync")
    yield caplog


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.levelname} {r.getMessage()}" for r in caplog.records if r.name == "athena_pool.sync"]


async def test_waits_for_a_syncing_daemon_then_its_wallet(
    node_server: tuple[SyncingNode, str], sync_log: pytest.LogCaptureFixture
) -> None:
    node, url = node_server
    wallet = create_wallet_client("walletd", url, rpc_password=node.password)
    async with JsonRpcClient(url) as rpc:
        daemon = create_daemon_client("turtle", rpc)
        try:
            state = await asyncio.wait_for(wait_until_synced(daemon, wallet, settings=FAST), 20)
        finally:
            await wallet.close()
    assert (state.daemon_height, state.wallet_height) == (1000, 1000)
    assert node.daemon_polls >= 4 and node.wallet_polls == 3
    logged = lines(sync_log)
    assert logged[0].startswith("WARNING waiting for the daemon: no usable answer yet (")
    assert "INFO waiting for the daemon to sync: height 100 of 1000 (10.0 %)" in logged
    assert any(
        line.startswith("INFO waiting for the daemon to sync: height 500 of 1000 (50.0 %), ")
        for line in logged
    )
    assert "INFO daemon synced at height 1000" in logged
    assert "INFO waiting for the wallet to sync: height 10 of 1000 (1.0 %)" in logged
    assert "INFO wallet synced at height 1000" in logged


async def test_the_devnet_is_synced_at_once(tmp_path: Path, sync_log: pytest.LogCaptureFixture) -> None:
    options = DevnetOptions(daemon_port=0, wallet_port=0, data_dir=tmp_path, network_blocks=False, seed=3)
    async with start_devnet(options) as devnet:
        wallet = create_wallet_client("walletd", devnet.wallet_url, rpc_password=devnet.rpc_password)
        async with JsonRpcClient(devnet.daemon_url) as rpc:
            daemon = create_daemon_client("turtle", rpc)
            try:
                state = await asyncio.wait_for(wait_until_synced(daemon, wallet, settings=FAST), 20)
            finally:
                await wallet.close()
            count = await daemon.get_block_count()
    assert state.daemon_height == count and state.wallet_height == count
    assert [line for line in lines(sync_log) if not line.startswith("DEBUG")] == []


class ScriptedDaemon:
    """A DaemonClient answering `get_info` from a script (only what wait_until_synced calls)."""

    dialect = "turtle"

    def __init__(self, script: list[DaemonInfo | Exception]) -> None:
        self.script = script
        self.calls = 0

    async def get_info(self) -> DaemonInfo:
        answer = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_one_progress_line_per_interval_with_speed_and_time_left(
    sync_log: pytest.LogCaptureFixture,
) -> None:
    # 100 blocks per 10 s poll, 20 polls: 2,000 blocks of 10,000.
    script: list[DaemonInfo | Exception] = [DaemonInfo(1000 + 100 * i, 10_000, False, 5) for i in range(20)]
    script.append(DaemonInfo(10_000, 10_000, True, 5))
    daemon = ScriptedDaemon(script)
    fake = FakeTime()
    settings = SyncWaitSettings(poll_interval=10, progress_interval=60)
    state = await wait_until_synced(
        daemon, settings=settings, clock=fake.clock, sleep=fake.sleep, daemon_name="daemon http://node:12001"
    )
    assert state.daemon_height == 10_000 and state.wallet_height is None
    assert state.waited_seconds == 200
    progress = [line for line in lines(sync_log) if "to sync" in line]
    # Polls at t = 0, 10, ..., 190: a line at 0, 60, 120, 180.
    assert len(progress) == 4
    assert (
        progress[0] == "INFO waiting for the daemon http://node:12001 to sync: height 1000 of 10000 (10.0 %)"
    )
    assert progress[1] == (
        "INFO waiting for the daemon http://node:12001 to sync: height 1600 of 10000 (16.0 %), "
        "10.0 blocks/s, about 14 min left"
    )
    assert lines(sync_log)[-1] == "INFO daemon http://node:12001 synced at height 10000"


async def test_no_peers_yet_and_an_unreachable_daemon_are_said_plainly(
    sync_log: pytest.LogCaptureFixture,
) -> None:
    daemon = ScriptedDaemon(
        [RpcUnavailable("connection refused"), DaemonInfo(1, 1, False, 1), DaemonInfo(1, 1, True, 1)]
    )
    fake = FakeTime()
    await wait_until_synced(
        daemon, settings=SyncWaitSettings(progress_interval=0.5), clock=fake.clock, sleep=fake.sleep
    )
    assert lines(sync_log) == [
        "WARNING waiting for the daemon: no usable answer yet (connection refused)",
        "INFO waiting for the daemon to sync: height 1, network height not known yet (no peers?)",
        "INFO daemon synced at height 1",
    ]


async def test_cancelling_the_wait_stops_it_at_once() -> None:
    daemon = ScriptedDaemon([DaemonInfo(5, 50, False, 1)])
    task = asyncio.create_task(wait_until_synced(daemon, settings=SyncWaitSettings(poll_interval=30)))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    assert daemon.calls == 1


class ScriptedWallet:
    dialect = "walletd"

    def __init__(self, script: list[WalletSync]) -> None:
        self.script = script
        self.calls = 0

    async def sync(self) -> WalletSync:
        answer = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return answer


async def test_a_synced_wallet_is_not_waited_for(sync_log: pytest.LogCaptureFixture) -> None:
    daemon = ScriptedDaemon([DaemonInfo(70, 70, True, 1)])
    wallet = ScriptedWallet([WalletSync(70, True)])
    state = await wait_until_synced(daemon, wallet, settings=FAST)
    assert (state.daemon_height, state.wallet_height, wallet.calls) == (70, 70, 1)
    assert all(line.startswith("DEBUG") for line in lines(sync_log))
