"""The job manager on a real forknote2 template served over real HTTP by a simulated Athena daemon."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from forknote2_daemon import FAMILY, Forknote2Daemon
from job_test_support import ATHENA_ALGO, NETWORK_DIFFICULTY, POOL_ADDRESS, vector

from athena_pool.coins.families import get_family
from athena_pool.jobs import JobConfig, JobManager, NetworkState, new_instance_id
from athena_pool.jobs.contracts import NoTemplateError
from athena_pool.jobs.template import MAX_MINER_BLOB_SIZE
from athena_pool.rpc import JsonRpcClient, MoneroDaemonClient, TurtleDaemonClient
from athena_pool.targets import compact_target_hex, wide_target_hex


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_no_template_before_the_first_poll(manager: JobManager) -> None:
    with pytest.raises(NoTemplateError):
        manager.issue_job(100)


async def test_template_comes_from_parsing_not_from_the_daemon_offset(
    manager: JobManager, daemon: Forknote2Daemon
) -> None:
    assert await manager.refresh() is True
    template = manager.current_template()
    assert template.height == daemon.tip.height + 1
    assert template.prev_hash_hex == daemon.tip.hash_hex  # taken from the blob: the legacy answer has none
    assert template.difficulty == NETWORK_DIFFICULTY
    assert template.reserved.size == 16
    # The daemon reports payload start + 1 (Bytecoin off-by-one); the template holds the real start.
    answer = daemon._template_answer({"reserve_size": 16})
    assert template.reserved.offset == answer["reserved_offset"] - 1
    assert template.generation == 1


async def test_job_is_what_xmrig_expects(manager: JobManager) -> None:
    await manager.refresh()
    job = manager.issue_job(5)
    stratum = job.to_stratum("session-7")
    assert set(stratum) == {"blob", "job_id", "target", "id", "height", "algo"}  # no seed_hash off RandomX
    blob = bytes.fromhex(stratum["blob"])
    assert len(blob) <= MAX_MINER_BLOB_SIZE
    assert blob[39:43] == bytes(4)  # a non-zero nonce would switch xmrig to NiceHash mode
    assert blob == FAMILY.hashing_blob(job.blob)
    assert stratum["target"] == compact_target_hex(5)
    assert stratum["id"] == "session-7"
    assert stratum["height"] == manager.current_template().height
    assert stratum["algo"] == ATHENA_ALGO == "cn-lite/1"
    assert len(stratum["job_id"]) == 24


async def test_every_job_is_a_new_blob_with_extra_nonce_and_instance_id(daemon: Forknote2Daemon) -> None:
    instance_id = bytes.fromhex("a1b2c3d4")
    async with JsonRpcClient(daemon.url) as rpc:
        jobs = JobManager(
            TurtleDaemonClient(rpc),
            FAMILY,
            ATHENA_ALGO,
            JobConfig(wallet_address=POOL_ADDRESS),
            instance_id=instance_id,
        )
        await jobs.refresh()
        issued = [jobs.issue_job(10) for _ in range(300)]
    reserved = jobs.current_template().reserved
    assert len({job.blob for job in issued}) == 300
    assert len({job.hashing_blob for job in issued}) == 300
    assert len({job.job_id for job in issued}) == 300
    for job in issued:
        payload = job.blob[reserved.offset : reserved.offset + reserved.size]
        assert payload[:4] == job.extra_nonce.to_bytes(4, "big")
        assert payload[4:8] == instance_id
        assert payload[8:] == bytes(8)
        # Nothing outside the reserved space changes.
        outside = slice(0, reserved.offset)
        assert job.blob[outside] == jobs.current_template().blob[outside]


async def test_job_difficulty_is_capped_at_the_network_difficulty(manager: JobManager) -> None:
    await manager.refresh()
    assert manager.issue_job(1_000_000).difficulty == NETWORK_DIFFICULTY
    with pytest.raises(ValueError, match="at least 1"):
        manager.issue_job(0)


async def test_target_is_8_bytes_above_2_to_the_24(manager: JobManager, daemon: Forknote2Daemon) -> None:
    daemon.difficulty = 1 << 40
    await manager.refresh()
    assert manager.issue_job(1 << 24).to_stratum("s")["target"] == compact_target_hex(1 << 24)
    job = manager.issue_job(1 << 33)
    assert job.to_stratum("s")["target"] == wide_target_hex(1 << 33)
    assert len(job.to_stratum("s")["target"]) == 16


async def test_template_is_replaced_only_when_the_tip_moves(
    manager: JobManager, daemon: Forknote2Daemon
) -> None:
    assert await manager.refresh() is True
    first = manager.current_template()
    assert await manager.refresh() is False
    assert manager.current_template() is first
    daemon.mine_foreign_block()
    assert await manager.refresh() is True
    second = manager.current_template()
    assert second.height == first.height + 1
    assert second.prev_hash_hex == daemon.tip.hash_hex
    assert second.generation == first.generation + 1
    assert manager.is_stale(first) and not manager.is_stale(second)


async def test_forced_refresh_replaces_an_unchanged_template(manager: JobManager) -> None:
    await manager.refresh()
    first = manager.current_template()
    assert await manager.refresh(force=True) is True
    assert manager.current_template() is not first
    assert manager.current_template().same_tip(first)
    assert not manager.is_stale(first)  # same tip: its shares still mine the current block


async def test_old_template_is_replaced_after_the_maximum_age(rpc: JsonRpcClient) -> None:
    clock = FakeClock()
    config = JobConfig(wallet_address=POOL_ADDRESS, max_template_age=30)
    jobs = JobManager(
        TurtleDaemonClient(rpc), FAMILY, ATHENA_ALGO, config, instance_id=new_instance_id(), clock=clock
    )
    await jobs.refresh()
    first = jobs.current_template()
    clock.now += 29
    assert await jobs.refresh() is False
    clock.now += 1
    assert await jobs.refresh() is True
    assert jobs.current_template().same_tip(first)


async def test_only_the_last_templates_are_kept(manager: JobManager, daemon: Forknote2Daemon) -> None:
    await manager.refresh()
    first = manager.current_template()
    for _ in range(manager.config.keep_templates - 1):
        daemon.mine_foreign_block()
        await manager.refresh()
    assert manager.is_kept(first)
    daemon.mine_foreign_block()
    await manager.refresh()
    assert not manager.is_kept(first)


async def test_listeners_hear_each_new_template_once(manager: JobManager, daemon: Forknote2Daemon) -> None:
    heard: list[int] = []

    def broken_listener() -> None:
        raise RuntimeError("a listener bug must not stop the others")

    manager.add_template_listener(broken_listener)
    manager.add_template_listener(lambda: heard.append(manager.current_template().height))
    await manager.refresh()
    await manager.refresh()
    daemon.mine_foreign_block()
    await manager.refresh()
    assert heard == [daemon.tip.height, daemon.tip.height + 1]


async def test_network_state_reaches_the_hook(rpc: JsonRpcClient, daemon: Forknote2Daemon) -> None:
    states: list[NetworkState] = []
    published = asyncio.Event()

    async def record(state: NetworkState) -> None:
        states.append(state)
        published.set()

    jobs = JobManager(
        TurtleDaemonClient(rpc),
        FAMILY,
        ATHENA_ALGO,
        JobConfig(wallet_address=POOL_ADDRESS),
        instance_id=new_instance_id(),
        on_network_state=record,
    )
    await jobs.refresh()
    await asyncio.wait_for(published.wait(), 10)
    await jobs.stop()
    (state,) = states
    assert state.height == daemon.tip.height + 1
    assert state.difficulty == NETWORK_DIFFICULTY
    assert state.last_block_hash == daemon.tip.hash_hex
    assert state.last_block is not None
    assert state.last_block.hash_hex == daemon.tip.hash_hex
    assert state.last_block.timestamp == daemon.tip.timestamp


async def test_poller_follows_the_chain_and_a_forced_refresh(
    manager: JobManager, daemon: Forknote2Daemon
) -> None:
    changed = asyncio.Event()
    manager.add_template_listener(changed.set)
    manager.start()
    await asyncio.wait_for(manager.wait_for_template(), 10)
    changed.clear()
    daemon.mine_foreign_block()
    await asyncio.wait_for(changed.wait(), 10)
    assert manager.current_template().height == daemon.tip.height + 1
    changed.clear()
    generation = manager.current_template().generation
    manager.refresh_now()
    await asyncio.wait_for(changed.wait(), 10)
    assert manager.current_template().generation == generation + 1


async def test_daemon_going_away_is_logged_once_and_the_last_template_served(
    manager: JobManager, daemon: Forknote2Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    await manager.refresh()
    template = manager.current_template()
    await daemon.stop()
    with caplog.at_level(logging.WARNING, logger="athena_pool.jobs.manager"):
        for _ in range(3):
            assert await manager.refresh() is False
    assert len(caplog.records) == 1
    assert "daemon unavailable" in caplog.records[0].getMessage()
    assert manager.daemon_available is False
    assert manager.last_problem is not None
    assert manager.issue_job(4).template is template  # miners keep working on what we have


async def test_daemon_coming_back_is_noticed(rpc: JsonRpcClient, daemon: Forknote2Daemon) -> None:
    jobs = JobManager(
        TurtleDaemonClient(rpc),
        FAMILY,
        ATHENA_ALGO,
        JobConfig(wallet_address=POOL_ADDRESS),
        instance_id=new_instance_id(),
    )
    availability: list[bool] = []
    daemon.broken_answer = {"status": "BUSY"}
    assert await jobs.refresh() is False
    availability.append(jobs.daemon_available)
    with pytest.raises(NoTemplateError, match="busy"):
        jobs.issue_job(1)
    daemon.broken_answer = None
    assert await jobs.refresh() is True
    availability.append(jobs.daemon_available)
    assert availability == [False, True]
    assert jobs.last_problem is None


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"blocktemplate_blob": "zz", "difficulty": 8, "height": 1, "reserved_offset": 0}, "not hex"),
        (
            {"blocktemplate_blob": "0500", "difficulty": 8, "height": 1, "reserved_offset": 0},
            "does not parse",
        ),
        ({"difficulty": 8, "height": 1, "reserved_offset": 0}, "'blocktemplate_blob' is missing"),
    ],
)
async def test_broken_answer_is_logged_and_ignored(
    manager: JobManager, daemon: Forknote2Daemon, answer: dict[str, Any], problem: str
) -> None:
    await manager.refresh()
    template = manager.current_template()
    daemon.broken_answer = answer
    assert await manager.refresh(force=True) is False
    assert manager.current_template() is template
    assert manager.last_problem is not None and problem in manager.last_problem
    assert manager.daemon_available is True


async def test_template_whose_height_contradicts_its_coinbase_is_refused(
    manager: JobManager, daemon: Forknote2Daemon
) -> None:
    answer = daemon._template_answer({"reserve_size": 16})
    daemon.broken_answer = {**answer, "height": answer["height"] + 1}
    assert await manager.refresh() is False
    assert manager.last_problem is not None and "the coinbase says" in manager.last_problem


async def test_real_template_with_too_little_reserved_space_is_refused(
    manager: JobManager, daemon: Forknote2Daemon, block_vectors: list[dict[str, Any]]
) -> None:
    source = vector(block_vectors, "TRTL", 1457937)["template_json"]
    daemon.broken_answer = {
        "blocktemplate_blob": source["blob"],
        "difficulty": source["difficulty"],
        "height": 1457937,
        "reserved_offset": source["reservedOffset"],
        "status": "OK",
    }
    assert await manager.refresh() is False
    assert (
        manager.last_problem is not None and "reserved space of 6 bytes is too small" in manager.last_problem
    )


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="reserve_size"):
        JobConfig(wallet_address="a", reserve_size=7)
    with pytest.raises(ValueError, match="reserve_size"):
        JobConfig(wallet_address="a", reserve_size=128)
    with pytest.raises(ValueError, match="keep_templates"):
        JobConfig(wallet_address="a", keep_templates=0)
    with pytest.raises(ValueError, match="wallet_address"):
        JobConfig(wallet_address="")


# --- a real monerod template, served as monerod served it ---------------------------------------------------


@pytest.fixture
async def monero_answer_server(block_vectors: list[dict[str, Any]]) -> Any:
    """Serves the real get_block_template answer of XMR 3195018, with a next seed announced."""
    answer = dict(vector(block_vectors, "XMR", 3195018)["template_json"]["result"])
    answer["next_seed_hash"] = "11" * 32

    async def json_rpc(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": answer})

    app = web.Application()
    app.router.add_post("/json_rpc", json_rpc)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", answer
    await runner.cleanup()


async def test_monero_template_gives_seeded_jobs_and_announces_the_next_seed(
    monero_answer_server: tuple[str, dict[str, Any]],
) -> None:
    url, answer = monero_answer_server
    seeds: list[bytes] = []
    announced = asyncio.Event()

    def prepare(seed: bytes) -> None:
        seeds.append(seed)
        announced.set()

    async with JsonRpcClient(url) as rpc:
        jobs = JobManager(
            MoneroDaemonClient(rpc),
            get_family("monero"),
            "rx/0",
            JobConfig(wallet_address="4-monero-address", reserve_size=16),
            instance_id=new_instance_id(),
            on_next_seed=prepare,
        )
        assert await jobs.refresh() is True
        await asyncio.wait_for(announced.wait(), 10)
        assert await jobs.refresh(force=True) is True
        await jobs.stop()
    # The served blob has a 60-byte reserve (its daemon was asked for 60); we use our 8 bytes of it.
    template = jobs.current_template()
    assert template.reserved.offset == answer["reserved_offset"]
    assert template.reserved.size == 60
    assert seeds == [bytes.fromhex("11" * 32)]  # announced once, not on every template
    stratum = jobs.issue_job(1000).to_stratum("s")
    assert stratum["seed_hash"] == answer["seed_hash"]
    assert stratum["height"] == 3195018
    assert stratum["algo"] == "rx/0"
