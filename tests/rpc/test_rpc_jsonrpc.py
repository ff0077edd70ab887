"""The JSON-RPC transport against a real local HTTP server producing each fault for real."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from scripted_daemon import Answer, ScriptedServer

from athena_pool.rpc import JsonRpcClient, RpcBadResponse, RpcError, RpcFailure, RpcUnavailable


async def test_call_returns_result_and_sends_params(server: ScriptedServer) -> None:
    server.methods["echo"] = lambda params: Answer(result={"got": params})
    async with JsonRpcClient(server.url) as client:
        result = await client.call("echo", {"height": 7})
    assert result == {"got": {"height": 7}}
    assert server.calls == [("echo", {"height": 7})]


async def test_call_without_params_sends_none(server: ScriptedServer) -> None:
    server.answer("ping", "pong")
    async with JsonRpcClient(server.url) as client:
        assert await client.call("ping") == "pong"
    assert server.calls == [("ping", None)]


async def test_error_reply_raises_rpc_error_with_code_and_message(server: ScriptedServer) -> None:
    server.script("submitblock", Answer(error={"code": -7, "message": "Block not accepted"}))
    async with JsonRpcClient(server.url) as client:
        with pytest.raises(RpcError) as caught:
            await client.call("submitblock", ["00"])
    assert caught.value.code == -7
    assert caught.value.message == "Block not accepted"
    assert isinstance(caught.value, RpcFailure)


async def test_unknown_method_is_an_rpc_error(server: ScriptedServer) -> None:
    async with JsonRpcClient(server.url) as client:
        with pytest.raises(RpcError) as caught:
            await client.call("no_such_method")
    assert caught.value.code == -32601


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (Answer(raw=b"<html>oops</html>"), "not JSON"),
        (Answer(raw=b"\xff\xfe\x00garbage"), "not JSON"),
        (Answer(raw=b"[1, 2, 3]"), "not a JSON object"),
        (Answer(raw=b'{"jsonrpc": "2.0", "id": 1}'), "neither result nor error"),
        (Answer(error={"code": "minus seven", "message": "x"}), "malformed error"),
        (Answer(error={"code": -7}), "malformed error"),
        (Answer(raw=b'{"jsonrpc": "2.0", "id": 1, "error": "broken"}'), "error member"),
        (Answer(result=1, reply_id=999), "does not match"),
        (Answer(raw=b"[" * 100_000 + b"]" * 100_000), "not JSON"),
    ],
    ids=[
        "html",
        "bad-utf8",
        "array",
        "no-result",
        "code-type",
        "no-message",
        "error-string",
        "wrong-id",
        "deep",
    ],
)
async def test_malformed_replies_raise_bad_response(
    server: ScriptedServer, answer: Answer, fragment: str
) -> None:
    server.script("m", answer)
    async with JsonRpcClient(server.url) as client:
        with pytest.raises(RpcBadResponse, match=fragment):
            await client.call("m")


async def test_reply_id_as_string_of_our_id_is_accepted(server: ScriptedServer) -> None:
    # Some daemons echo ids as strings; the value is still ours.
    server.script("m", Answer(result=5, reply_id="1"))
    async with JsonRpcClient(server.url) as client:
        assert await client.call("m") == 5


async def test_http_error_status_is_unavailable(server: ScriptedServer) -> None:
    server.script("m", Answer(raw=b"Internal Server Error", status=500))
    async with JsonRpcClient(server.url) as client:
        with pytest.raises(RpcUnavailable, match="HTTP 500"):
            await client.call("m")


async def test_http_error_status_with_json_error_keeps_the_daemon_message(server: ScriptedServer) -> None:
    server.script("m", Answer(error={"code": -9, "message": "Core is busy"}, status=500))
    async with JsonRpcClient(server.url) as client:
        with pytest.raises(RpcError, match="Core is busy"):
            await client.call("m")


async def test_wrong_path_is_unavailable(server: ScriptedServer) -> None:
    async with JsonRpcClient(server.url, rpc_path="/nowhere") as client:
        with pytest.raises(RpcUnavailable, match="HTTP 404"):
            await client.call("m")


async def test_timeout_is_unavailable(server: ScriptedServer) -> None:
    server.script("slow", Answer(hang=True))
    async with JsonRpcClient(server.url, timeout=0.2) as client:
        with pytest.raises(RpcUnavailable, match="no answer"):
            await client.call("slow")


async def test_per_call_timeout_overrides_default(server: ScriptedServer) -> None:
    server.script("slow", Answer(hang=True))
    async with JsonRpcClient(server.url, timeout=60) as client:
        with pytest.raises(RpcUnavailable, match=r"within 0\.2 s"):
            await client.call("slow", timeout=0.2)


async def test_connection_refused_is_unavailable(refused_url: str) -> None:
    async with JsonRpcClient(refused_url) as client:
        with pytest.raises(RpcUnavailable, match="unreachable"):
            await client.call("getblockcount")


async def test_dropped_connection_is_unavailable(server: ScriptedServer) -> None:
    server.script("m", Answer(drop=True))
    async with JsonRpcClient(server.url) as client:
        with pytest.raises(RpcUnavailable):
            await client.call("m")


async def test_oversized_body_is_bad_response(server: ScriptedServer) -> None:
    server.answer("big", "x" * 5000)
    async with JsonRpcClient(server.url, max_body_bytes=1000) as client:
        with pytest.raises(RpcBadResponse, match="exceeds 1000"):
            await client.call("big")


async def test_concurrency_is_bounded(server: ScriptedServer) -> None:
    server.answer("m", 1)
    server.gate = asyncio.Event()
    async with JsonRpcClient(server.url, max_concurrency=2) as client:
        calls = [asyncio.create_task(client.call("m")) for _ in range(6)]
        while server.in_flight < 2:
            await asyncio.sleep(0.01)
        server.gate.set()
        assert await asyncio.gather(*calls) == [1] * 6
    assert server.max_in_flight == 2
    assert len(server.calls) == 6


async def test_get_json_reads_plain_routes(server: ScriptedServer) -> None:
    server.paths["/getheight"] = lambda _p: Answer(
        result={"height": 12, "network_height": 12, "status": "OK"}
    )
    async with JsonRpcClient(server.url) as client:
        assert await client.get_json("/getheight") == {"height": 12, "network_height": 12, "status": "OK"}


async def test_get_json_rejects_non_objects(server: ScriptedServer) -> None:
    server.paths["/getinfo"] = lambda _p: Answer(result=[1, 2])
    async with JsonRpcClient(server.url) as client:
        with pytest.raises(RpcBadResponse, match="not a JSON object"):
            await client.get_json("/getinfo")


async def test_post_json_sends_the_body(server: ScriptedServer) -> None:
    server.paths["/get_info"] = lambda _p: Answer(result={"height": 3})
    async with JsonRpcClient(server.url) as client:
        assert await client.post_json("/get_info", {}) == {"height": 3}


async def test_shared_session_is_left_open(server: ScriptedServer) -> None:
    server.answer("m", 1)
    async with aiohttp.ClientSession() as session:
        client = JsonRpcClient(server.url, session=session)
        assert await client.call("m") == 1
        await client.close()
        assert not session.closed


async def test_owned_session_is_reopened_after_close(server: ScriptedServer) -> None:
    server.answer("m", 1)
    client = JsonRpcClient(server.url)
    assert await client.call("m") == 1
    await client.close()
    assert await client.call("m") == 1
    await client.close()


def test_constructor_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="timeout"):
        JsonRpcClient("http://127.0.0.1:1", timeout=0)
    with pytest.raises(ValueError, match="concurrency"):
        JsonRpcClient("http://127.0.0.1:1", max_concurrency=0)
