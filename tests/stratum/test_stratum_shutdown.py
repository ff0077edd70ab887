"""A graceful stop over real TCP: shares being judged finish, are recorded and answered; miners that
understand it get `client.reconnect`; nobody new gets in; every connection ends."""

from __future__ import annotations

import asyncio
from typing import Any

from stratum_fakes import (
    ADDRESS,
    OTHER_ADDRESS,
    GatedJudge,
    PoolFactory,
    StratumClient,
    find_share,
    wait_until,
)

from athena_pool.storage.records import ShareKind
from athena_pool.stratum import ShutdownSettings


async def logged_in(port: int, login: str, agent: str) -> tuple[StratumClient, str, dict[str, Any]]:
    client = await StratumClient.connect(port)
    reply = await client.call("login", {"login": login, "pass": "x", "agent": agent})
    assert reply["error"] is None, reply
    return client, reply["result"]["id"], reply["result"]["job"]


async def rest_of_stream(client: StratumClient) -> list[dict[str, Any]]:
    messages = []
    while (message := await client.read_message()) is not None:
        messages.append(message)
    return messages


async def test_shutdown_sends_reconnect_and_loses_no_acknowledged_share(make_pool: PoolFactory) -> None:
    pool = await make_pool(judge_factory=GatedJudge)
    judge = pool.judge
    assert isinstance(judge, GatedJudge)
    xmrig, xmrig_id, job = await logged_in(pool.port, ADDRESS, "XMRig/6.26.0 (Linux x86_64) libuv/1.48.0")
    other, _, _ = await logged_in(pool.port, OTHER_ADDRESS, "some-other-miner/2.0")
    nonce, result = find_share(job, 100)
    params = {"id": xmrig_id, "job_id": job["job_id"], "nonce": nonce, "result": result}
    await xmrig.send({"id": 7, "jsonrpc": "2.0", "method": "submit", "params": params})
    await wait_until(lambda: judge.waiting == 1)  # the share is being "hashed"

    closing = asyncio.create_task(pool.server.close())
    await wait_until(lambda: not pool.server.listening or pool.server._closed)
    # Requests sent from now on are not taken; new connections are not served.
    nonce2, result2 = find_share(job, 100, 5000)
    params2 = {"id": xmrig_id, "job_id": job["job_id"], "nonce": nonce2, "result": result2}
    await xmrig.send({"id": 8, "jsonrpc": "2.0", "method": "submit", "params": params2})
    judge.gate.set()
    await closing

    messages = await rest_of_stream(xmrig)
    assert messages[0] == {"id": 7, "jsonrpc": "2.0", "error": None, "result": {"status": "OK"}}
    reconnect = messages[1]
    assert reconnect == {
        "jsonrpc": "2.0",
        "method": "client.reconnect",
        "params": ["127.0.0.1", str(pool.port)],
    }
    assert all(isinstance(param, str) for param in reconnect["params"])
    assert len(messages) == 2  # the submit sent during the stop was never taken, so never answered
    assert [(r.address, r.kind) for r in pool.sink.records] == [(ADDRESS, ShareKind.VALID)]
    assert await rest_of_stream(other) == []  # not an xmrig: no reconnect, just the close
    assert pool.server.registry.connections() == 0
    try:
        late = await StratumClient.connect(pool.port)
    except OSError:
        pass  # refused: nobody listens any more
    else:
        assert await late.read_until_closed() == b""


async def test_the_reconnect_host_and_agents_are_configurable(make_pool: PoolFactory) -> None:
    pool = await make_pool(
        shutdown=ShutdownSettings(reconnect_host="pool.example.org", reconnect_agents=("*",))
    )
    client, _, _ = await logged_in(pool.port, ADDRESS, "anything/1.0")
    await pool.server.close()
    assert await rest_of_stream(client) == [
        {"jsonrpc": "2.0", "method": "client.reconnect", "params": ["pool.example.org", str(pool.port)]}
    ]
