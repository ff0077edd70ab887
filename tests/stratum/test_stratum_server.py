"""The stratum server over real TCP on 127.0.0.1: every method, every error path, the limits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

import pytest
from stratum_fakes import (
    ADDRESS,
    ALGO,
    ALGO_ALIASES,
    OTHER_ADDRESS,
    PAYMENT_ID,
    TEST_LIMITS,
    FakeClock,
    FakeJobSource,
    FakeJudge,
    ListSink,
    Pool,
    PoolFactory,
    StratumClient,
    default_ports,
    find_share,
    target_hex,
    validate_test_address,
    wait_until,
)

from athena_pool.jobs.contracts import RejectReason
from athena_pool.storage.records import RewardType, ShareKind
from athena_pool.stratum import StratumConfig, StratumLimits, StratumServer


async def logged_in(
    port: int, login: str = ADDRESS, **params: Any
) -> tuple[StratumClient, str, dict[str, Any]]:
    client = await StratumClient.connect(port)
    reply = await client.login(login, **params)
    assert reply["error"] is None, reply
    return client, reply["result"]["id"], reply["result"]["job"]


def error_message(reply: dict[str, Any]) -> str:
    assert reply["error"] is not None, reply
    assert reply["error"]["code"] == -1
    assert "result" not in reply
    message: str = reply["error"]["message"]
    return message


async def submit(
    client: StratumClient, session_id: str, job: dict[str, Any], nonce: str, result: str, **extra: Any
) -> dict[str, Any]:
    params = {"id": session_id, "job_id": job["job_id"], "nonce": nonce, "result": result, **extra}
    return await client.call("submit", params)


async def good_share(
    client: StratumClient, session_id: str, job: dict[str, Any], difficulty: int, start: int = 0
) -> dict[str, Any]:
    nonce, result = find_share(job, difficulty, start)
    return await submit(client, session_id, job, nonce, result)


# --- login --------------------------------------------------------------------------------------------------


async def test_login_reply_has_xmrigs_exact_shape(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    params = {"login": ADDRESS, "pass": "x", "agent": "XMRig/6.26.0", "algo": [ALGO, "rx/0"]}
    await client.send({"id": 1, "jsonrpc": "2.0", "method": "login", "params": params})
    reply = await client.read_reply()
    assert set(reply) == {"id", "jsonrpc", "error", "result"}
    assert (reply["id"], reply["jsonrpc"], reply["error"]) == (1, "2.0", None)
    result = reply["result"]
    assert result["status"] == "OK"
    assert result["extensions"] == ["algo", "keepalive"]
    session_id = result["id"]
    assert len(session_id) == 32
    job = result["job"]
    assert job["id"] == session_id
    assert job["algo"] == ALGO
    assert job["target"] == target_hex(100)
    assert job["height"] == pool.source.height
    assert len(bytes.fromhex(job["blob"])) == 76
    await client.close()


async def test_login_with_fixed_difficulty_is_clamped_to_the_port_bounds(pool: Pool) -> None:
    for login, expected in ((f"{ADDRESS}+2000", 2000), (f"{ADDRESS}+999999999", 5000), (f"{ADDRESS}+1", 10)):
        client, _, job = await logged_in(pool.port, login)
        assert job["target"] == target_hex(expected), login
        await client.close()


async def test_port_fixed_difficulty_applies_without_a_login_suffix(pool: Pool) -> None:
    client, _, job = await logged_in(pool.fixed_port)
    assert job["target"] == target_hex(777)
    await client.close()


async def test_solo_and_payment_id_logins_are_credited_as_such(pool: Pool) -> None:
    client, session_id, job = await logged_in(pool.port, f"SOLO:{ADDRESS}.{PAYMENT_ID.upper()}+300")
    reply = await good_share(client, session_id, job, 300)
    assert reply["result"] == {"status": "OK"}
    record = pool.sink.records[-1]
    assert record.solo is True
    assert record.address == f"{ADDRESS}.{PAYMENT_ID}"
    assert record.difficulty == 300
    await client.close()


async def test_payment_id_refused_where_the_coin_has_none(make_pool: PoolFactory) -> None:
    pool = await make_pool(payment_ids_allowed=False)
    client = await StratumClient.connect(pool.port)
    reply = await client.login(f"{ADDRESS}.{PAYMENT_ID}")
    assert "payment id" in error_message(reply)
    await client.close()


@pytest.mark.parametrize(
    ("params", "worker"),
    [
        ({"pass": "x"}, "default"),
        ({"pass": ""}, "default"),
        ({"pass": "rig-7"}, "rig-7"),
        ({"pass": "x", "rigid": "garage\u0007rig"}, "garage rig"),
        ({"pass": "from-pass", "rigid": "from-rigid"}, "from-rigid"),
    ],
)
async def test_worker_name_comes_from_rigid_else_pass(
    pool: Pool, params: dict[str, str], worker: str
) -> None:
    client, session_id, job = await logged_in(pool.port, ADDRESS, **params)
    await good_share(client, session_id, job, 100)
    assert pool.sink.records[-1].worker == worker
    assert pool.server.registry.workers_online() == 1
    await client.close()


async def test_login_without_pass_is_answered(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    reply = await client.call("login", {"login": ADDRESS})
    assert reply["result"]["status"] == "OK"
    await client.close()


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ("monero4Abcdefghijk", "Invalid address: wrong address prefix for this coin"),
        ("athena0OIl0OIl0OIl", "Invalid address: invalid base58 character"),
        (f"{ADDRESS}+12x", "Invalid difficulty in login: expected a whole number after '+'"),
        (f"{ADDRESS}.rig1", "Invalid payment id: expected 64 hex characters after '.'"),
        ("", "Missing login: expected your wallet address"),
    ],
)
async def test_bad_logins_get_a_precise_message(pool: Pool, login: str, message: str) -> None:
    client = await StratumClient.connect(pool.port)
    assert error_message(await client.login(login)) == message
    assert pool.server.registry.miners_online() == 0
    await client.close()


async def test_algo_list_without_the_pool_algorithm_is_refused(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    message = error_message(await client.login(ADDRESS, algo=["rx/0", "cn/r"]))
    assert message.startswith("Unsupported algorithm") and ALGO in message
    reply = await client.login(ADDRESS, algo=["rx/0", "CryptoNight-Lite/1"])  # an alias, any case
    assert reply["result"]["status"] == "OK"
    await client.close()


async def test_missing_login_param_and_second_login(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    assert error_message(await client.call("login", {"pass": "x"})) == "Missing params.login"
    assert (await client.login())["error"] is None
    assert error_message(await client.login()) == "Already logged in on this connection"
    await client.close()


async def test_login_before_any_template_is_refused_then_works(pool: Pool) -> None:
    pool.source.available = False
    client = await StratumClient.connect(pool.port)
    assert error_message(await client.login()).startswith("No job available yet")
    pool.source.available = True
    assert (await client.login())["result"]["status"] == "OK"
    await client.close()


# --- session binding and the other methods ------------------------------------------------------------------


async def test_methods_before_login_are_unauthenticated(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    fake_job = {"job_id": "00010000001"}
    replies = [
        await client.call("getjob", {"id": "whatever"}),
        await client.call("keepalived", {"id": "whatever"}),
        await submit(client, "whatever", fake_job, "00000000", "00" * 32),
    ]
    assert [error_message(r) for r in replies] == ["Unauthenticated"] * 3
    assert pool.sink.records == []
    await client.close()


async def test_a_session_id_is_only_valid_on_its_own_socket(pool: Pool) -> None:
    alice, alice_id, alice_job = await logged_in(pool.port, ADDRESS)
    mallory, mallory_id, _ = await logged_in(pool.port, OTHER_ADDRESS)
    nonce, result = find_share(alice_job, 100)
    assert error_message(await submit(mallory, alice_id, alice_job, nonce, result)) == "Unauthenticated"
    assert error_message(await mallory.call("getjob", {"id": alice_id})) == "Unauthenticated"
    assert error_message(await mallory.call("keepalived", {"id": alice_id})) == "Unauthenticated"
    assert pool.judge.calls == 0
    # The owner still can, and the share is credited to the owner.
    assert (await submit(alice, alice_id, alice_job, nonce, result))["result"] == {"status": "OK"}
    assert [r.address for r in pool.sink.records] == [ADDRESS]
    assert mallory_id != alice_id
    await alice.close()
    await mallory.close()


async def test_getjob_returns_a_bare_job_never_the_same_twice(pool: Pool) -> None:
    client, session_id, login_job = await logged_in(pool.port)
    jobs = [login_job]
    for _ in range(5):
        reply = await client.call("getjob", {"id": session_id})
        assert reply["error"] is None
        jobs.append(reply["result"])
    pool.source.new_template()
    jobs.append((await client.next_push())["params"])
    jobs.append((await client.call("getjob", {"id": session_id}))["result"])
    assert all(set(job) == {"blob", "job_id", "target", "id", "algo", "height"} for job in jobs)
    assert len({job["job_id"] for job in jobs}) == len(jobs)
    assert len({job["blob"] for job in jobs}) == len(jobs)
    await client.close()


async def test_keepalived(pool: Pool) -> None:
    client, session_id, _ = await logged_in(pool.port)
    await client.send({"id": 8, "jsonrpc": "2.0", "method": "keepalived", "params": {"id": session_id}})
    assert await client.read_reply() == {
        "id": 8,
        "jsonrpc": "2.0",
        "error": None,
        "result": {"status": "KEEPALIVED"},
    }
    await client.close()


async def test_unknown_method_and_missing_params(pool: Pool) -> None:
    client, _, _ = await logged_in(pool.port)
    assert error_message(await client.call("mining.subscribe", {})) == "Invalid method"
    assert error_message(await client.call("getjob", {})) == "Missing params.id"
    await client.close()


async def test_every_template_reaches_every_miner(pool: Pool) -> None:
    first, first_id, _ = await logged_in(pool.port)
    second, second_id, _ = await logged_in(pool.fixed_port, OTHER_ADDRESS)
    idle = await StratumClient.connect(pool.port)  # not logged in: gets nothing
    pool.source.new_template()
    push_one, push_two = await first.next_push(), await second.next_push()
    assert set(push_one) == {"jsonrpc", "method", "params"}
    assert push_one["params"]["id"] == first_id and push_two["params"]["id"] == second_id
    assert push_one["params"]["height"] == pool.source.height
    assert push_two["params"]["target"] == target_hex(777)
    assert error_message(await idle.call("getjob", {"id": first_id})) == "Unauthenticated"
    for client in (first, second, idle):
        await client.close()


async def test_one_failing_push_does_not_stop_the_broadcast(pool: Pool) -> None:
    first, first_id, _ = await logged_in(pool.port)
    second, second_id, _ = await logged_in(pool.port, OTHER_ADDRESS)
    pool.source.fail_next = 1  # the first job of the broadcast blows up
    pool.source.new_template()
    for client, session_id in ((first, first_id), (second, second_id)):
        assert (await client.call("keepalived", {"id": session_id}))["result"] == {"status": "KEEPALIVED"}
    assert len(first.pushes) + len(second.pushes) == 1
    assert pool.server.registry.connections() == 2
    for client in (first, second):
        await client.close()


# --- shares -------------------------------------------------------------------------------------------------


async def test_accepted_share_reply_and_record(pool: Pool) -> None:
    client, session_id, job = await logged_in(pool.port, pass_="unused", rigid="rig1")
    reply = await good_share(client, session_id, job, 100)
    assert set(reply) == {"id", "jsonrpc", "error", "result"} and reply["result"] == {"status": "OK"}
    [record] = pool.sink.records
    assert (record.address, record.worker, record.difficulty, record.kind) == (
        ADDRESS,
        "rig1",
        100,
        ShareKind.VALID,
    )
    assert (record.solo, record.height, record.ip) == (False, job["height"], "127.0.0.1")
    assert record.time_ms == int(pool.clock.now * 1000)
    await client.close()


async def test_every_rejection_has_its_message_and_is_recorded(pool: Pool) -> None:
    client, session_id, job = await logged_in(pool.port)
    low_nonce, low_result = find_share(job, 100, below=True)
    nonce, result = find_share(job, 100)
    cases = [
        (await submit(client, session_id, job, low_nonce, low_result), RejectReason.LOW_DIFFICULTY),
        (await submit(client, session_id, job, nonce, "ff" * 32), RejectReason.BAD_HASH),
        (await submit(client, session_id, job, "xyz", result), RejectReason.MALFORMED_NONCE),
        (await submit(client, session_id, job, "00000001", "abc"), RejectReason.MALFORMED_RESULT),
        (await submit(client, session_id, {"job_id": "nope"}, nonce, result), RejectReason.UNKNOWN_JOB),
    ]
    for reply, reason in cases:
        assert error_message(reply) == reason.message
    recorded = [(r.kind, r.difficulty) for r in pool.sink.records]
    invalid = ShareKind.INVALID
    assert recorded == [(ShareKind.LOW_DIFF, 0), (invalid, 0), (invalid, 0), (invalid, 0), (invalid, 0)]
    assert pool.server.stats().rejects == {reason.value: 1 for _, reason in cases}
    await client.close()


async def test_duplicate_share(pool: Pool) -> None:
    client, session_id, job = await logged_in(pool.port)
    nonce, result = find_share(job, 100)
    assert (await submit(client, session_id, job, nonce, result))["result"] == {"status": "OK"}
    assert error_message(await submit(client, session_id, job, nonce, result)) == "Duplicate share"
    await client.close()


async def test_a_job_the_session_forgot_is_expired_not_invalid(pool: Pool) -> None:
    client, session_id, first_job = await logged_in(pool.port)
    for _ in range(pool.server.config.limits.max_jobs_per_session):
        await client.call("getjob", {"id": session_id})
    nonce, result = find_share(first_job, 100)
    assert error_message(await submit(client, session_id, first_job, nonce, result)) == "Block expired"
    assert pool.sink.records[-1].kind == ShareKind.EXPIRED
    assert pool.sink.records[-1].height == first_job["height"]
    await client.close()


async def test_stale_share_is_credited_and_an_old_template_expires(pool: Pool) -> None:
    client, session_id, job = await logged_in(pool.port)
    pool.source.new_template()
    await client.next_push()
    assert (await good_share(client, session_id, job, 100))["result"] == {"status": "OK"}
    assert pool.sink.records[-1].kind == ShareKind.STALE
    pool.source.new_template()
    pool.source.new_template()
    message = error_message(await good_share(client, session_id, job, 100, start=10**6))
    assert message == "Block expired"
    await client.close()


async def test_block_found(pool: Pool) -> None:
    pool.judge.network_difficulty = 150
    client, session_id, job = await logged_in(pool.port)
    assert (await good_share(client, session_id, job, 150))["result"] == {"status": "OK"}
    client2, session2, job2 = await logged_in(pool.port, f"solo:{OTHER_ADDRESS}", rigid="lucky")
    assert (await good_share(client2, session2, job2, 150))["result"] == {"status": "OK"}
    assert [r.kind for r in pool.sink.records] == [ShareKind.VALID, ShareKind.VALID]
    assert pool.sink.order == ["share:valid", "candidate", "share:valid", "candidate"]
    shared, solo = pool.sink.candidates
    assert (shared.reward_type, shared.finder_address, shared.finder_worker) == (
        RewardType.PROP,
        ADDRESS,
        "default",
    )
    assert (solo.reward_type, solo.finder_address, solo.finder_worker) == (
        RewardType.SOLO,
        OTHER_ADDRESS,
        "lucky",
    )
    assert (solo.height, solo.network_difficulty) == (job2["height"], 150)
    assert solo.time_ms == int(pool.clock.now * 1000)
    assert pool.server.stats().blocks_found == 2
    await client2.close()
    await client.close()


async def test_submit_algo_is_checked_when_sent(pool: Pool) -> None:
    client, session_id, job = await logged_in(pool.port)
    nonce, result = find_share(job, 100)
    message = error_message(await submit(client, session_id, job, nonce, result, algo="rx/0"))
    assert message.startswith("Unsupported algorithm")
    assert (await submit(client, session_id, job, nonce, result, algo=ALGO))["result"] == {"status": "OK"}
    await client.close()


async def test_malformed_submit_params(pool: Pool) -> None:
    client, session_id, job = await logged_in(pool.port)
    params = {"id": session_id, "job_id": job["job_id"], "nonce": 5, "result": "00"}
    reply = await client.call("submit", params)
    assert error_message(reply) == "Invalid params.nonce: expected a string"
    reply = await client.call("submit", {"id": session_id, "job_id": job["job_id"], "nonce": "00000000"})
    assert error_message(reply) == "Missing params.result"
    assert pool.judge.calls == 0
    await client.close()


async def test_a_failing_judge_costs_one_error_reply_not_the_connection(pool: Pool) -> None:
    async def broken_judge(*_: Any) -> Any:
        raise RuntimeError("daemon exploded")

    pool.judge.judge = broken_judge  # type: ignore[method-assign]
    client, session_id, job = await logged_in(pool.port)
    reply = await good_share(client, session_id, job, 100)
    assert error_message(reply) == "Share not checked: internal pool error"
    assert pool.sink.records == []
    assert (await client.call("keepalived", {"id": session_id}))["result"] == {"status": "KEEPALIVED"}
    await client.close()


async def test_a_share_the_sink_refuses_is_never_acknowledged(pool: Pool) -> None:
    def refuse(_: Any) -> None:
        raise OSError("disk full")

    pool.sink.submit = refuse  # type: ignore[method-assign]
    client, session_id, job = await logged_in(pool.port)
    reply = await good_share(client, session_id, job, 100)
    assert "result" not in reply and reply["error"]["message"] == "Share not checked: internal pool error"
    await client.close()


# --- vardiff ------------------------------------------------------------------------------------------------


async def test_vardiff_raises_difficulty_for_a_fast_miner(pool: Pool) -> None:
    client, session_id, job = await logged_in(pool.port)
    difficulty = 100
    targets_seen = [job["target"]]
    for step in range(100):
        pool.clock.advance(2)  # one share every 2 s against a 30 s target: far too fast
        reply = await good_share(client, session_id, job, difficulty, start=step * 10**6)
        assert reply["result"] == {"status": "OK"}
        if client.pushes:
            job = client.pushes.pop(0)["params"]
            difficulty = pool.source.issued[job["job_id"]].difficulty
            targets_seen.append(job["target"])
    assert targets_seen[:3] == [target_hex(100), target_hex(200), target_hex(400)]  # at most x2 per step
    assert difficulty > 100
    await client.close()


async def test_vardiff_lowers_a_silent_miner_on_housekeeping(pool: Pool) -> None:
    client, _, _ = await logged_in(pool.port)
    pool.clock.advance(61)
    pool.server.housekeeping()
    push = await client.next_push()
    assert push["params"]["target"] == target_hex(50)
    await client.close()


async def test_fixed_difficulty_miners_are_never_retargeted(pool: Pool) -> None:
    client, session_id, job = await logged_in(pool.port, f"{ADDRESS}+500")
    for step in range(10):
        pool.clock.advance(30)
        await good_share(client, session_id, job, 500, start=step * 10**6)
        pool.server.housekeeping()
    assert client.pushes == []
    await client.close()


# --- bad input and limits -----------------------------------------------------------------------------------


async def test_malformed_json_is_answered_then_disconnected_after_the_limit(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    await client.send_raw(b"{not json\n")
    assert await client.read_message() == {
        "id": None,
        "jsonrpc": "2.0",
        "error": {"code": -1, "message": "Malformed JSON"},
    }
    await client.send_raw(b"[1,2]\n" + b'{"id":3,"method":"dance"}\n')
    assert error_message(await client.read_reply()) == "Malformed request: expected a JSON object"
    last = await client.read_reply()
    assert last["id"] == 3 and error_message(last) == "Invalid method"
    assert await client.read_until_closed() == b""
    await wait_until(lambda: pool.server.registry.connections() == 0)
    assert pool.server.stats().drops == {"too many malformed requests": 1}
    await client.close()


async def test_crlf_lines_and_blank_lines_are_fine(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    login = json.dumps({"id": 1, "method": "login", "params": {"login": ADDRESS}}).encode()
    await client.send_raw(b"\r\n\n" + login + b"\r\n")
    assert (await client.read_reply())["result"]["status"] == "OK"
    await client.close()


async def test_oversized_line_gets_an_error_then_a_clean_disconnect(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    limit = pool.server.config.limits.max_line_bytes
    await client.send_raw(b'{"id":1,"method":"login","params":{"login":"' + b"a" * limit + b'"}}\n')
    reply = json.loads(await client.read_until_closed())
    assert reply == {
        "id": None,
        "jsonrpc": "2.0",
        "error": {"code": -1, "message": f"Request too large: a line may hold {limit} bytes"},
    }
    await client.close()


async def test_a_flood_without_newline_is_disconnected(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    flood = b"x" * (pool.server.config.limits.max_buffer_bytes + 1)
    with contextlib.suppress(ConnectionError):  # the server may already have closed
        await client.send_raw(flood)
    assert await client.read_until_closed() == b""
    await wait_until(lambda: pool.server.registry.connections() == 0)
    await client.close()


async def test_http_probe_is_answered_politely_then_closed(pool: Pool) -> None:
    client = await StratumClient.connect(pool.port)
    await client.send_raw(b"GET / HTTP/1.1\r\nHost: pool\r\n\r\n")
    answer = await client.read_until_closed()
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\nMining server online\n")
    await client.close()


async def test_a_miner_that_does_not_read_is_dropped(make_pool: PoolFactory) -> None:
    limits = StratumLimits(housekeeping_interval=3600, max_send_buffer_bytes=32 * 1024)
    pool = await make_pool(limits)
    well_behaved, good_id, _ = await logged_in(pool.port)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window fills fast
    raw.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(raw, ("127.0.0.1", pool.port))
    login = json.dumps({"id": 1, "method": "login", "params": {"login": ADDRESS}}).encode()
    await loop.sock_sendall(raw, login + b"\n")
    await wait_until(lambda: pool.server.registry.miners_online() == 1)
    # A template storm: jobs pile up for the miner that never reads.
    drop_key = "slow consumer: send buffer full"
    sent_templates = 0
    while pool.server.stats().drops.get(drop_key, 0) == 0:
        pool.source.new_template()
        sent_templates += 1
        await asyncio.sleep(0)
        assert sent_templates < 100_000, "never dropped"
    await wait_until(lambda: pool.server.registry.connections() == 1)
    # The miner that reads is still served, and has had every push.
    assert (await well_behaved.call("keepalived", {"id": good_id}))["result"] == {"status": "KEEPALIVED"}
    assert len(well_behaved.pushes) == sent_templates
    raw.close()
    await well_behaved.close()


async def test_login_and_idle_timeouts(pool: Pool) -> None:
    silent = await StratumClient.connect(pool.port)
    miner, session_id, _ = await logged_in(pool.port)
    await wait_until(lambda: pool.server.registry.connections() == 2)
    pool.clock.advance(31)
    await miner.call("keepalived", {"id": session_id})
    pool.server.housekeeping()
    assert await silent.read_until_closed() == b""
    pool.clock.advance(600)
    pool.server.housekeeping()
    await miner.read_until_closed()
    await wait_until(lambda: pool.server.registry.connections() == 0)
    assert pool.server.stats().drops == {"login timeout": 1, "idle timeout": 1}
    await silent.close()
    await miner.close()


# --- registry and shutdown ----------------------------------------------------------------------------------


async def test_registry_counts_and_hashrate(pool: Pool) -> None:
    a1, a1_id, a1_job = await logged_in(pool.port, ADDRESS, rigid="one")
    a2, _, _ = await logged_in(pool.port, ADDRESS, rigid="two")
    b, _, _ = await logged_in(pool.fixed_port, OTHER_ADDRESS)
    stats = pool.server.stats()
    assert stats.connections == 3
    assert stats.connections_by_port == {pool.port: 2, pool.fixed_port: 1}
    assert (stats.miners, stats.workers) == (2, 3)
    assert stats.hashrate == 0
    await good_share(a1, a1_id, a1_job, 100)
    stats = pool.server.stats()
    # Accepted difficulty over the time the server has been up (the fake clock stands still: one 10 s
    # bucket), not over the whole 10-minute window.
    assert stats.hashrate == 100 / 10
    assert stats.shares == {"accepted": 1}
    await a2.close()
    await wait_until(lambda: pool.server.stats().workers == 2)
    for client in (a1, b):
        await client.close()


async def test_close_ends_sessions_and_stops_listening(make_pool: PoolFactory) -> None:
    pool = await make_pool()
    client, _, _ = await logged_in(pool.port)
    await pool.server.close()
    assert await client.read_until_closed() == b""
    assert pool.server.registry.connections() == 0
    with pytest.raises(OSError):
        await StratumClient.connect(pool.port)
    await client.close()


def test_the_server_runs_on_uvloop(template_blob: bytes) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> list[str]:
        source = FakeJobSource(template_blob, height=7)
        sink = ListSink()
        config = StratumConfig(ports=default_ports(), algo_aliases=ALGO_ALIASES, limits=TEST_LIMITS)
        server = StratumServer(
            config=config,
            job_source=source,
            judge=FakeJudge(source),
            share_sink=sink,
            validate_address=validate_test_address,
            clock=FakeClock(),
        )
        await server.start()
        client, session_id, job = await logged_in(server.listening[0].port)
        await good_share(client, session_id, job, 100)
        await client.close()
        await server.close()
        return [record.kind.value for record in sink.records]

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(scenario()) == ["valid"]
