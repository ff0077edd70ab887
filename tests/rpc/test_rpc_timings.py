"""RPC timings per method, for the metrics: a call the transport could not read and an answer the typed
client finds malformed both count as `bad_response` errors of their method, once each."""

from __future__ import annotations

import pytest
from scripted_daemon import Answer, ScriptedServer

from athena_pool.rpc import JsonRpcClient, RpcBadResponse
from athena_pool.rpc.daemon import TurtleDaemonClient
from athena_pool.rpc.timings import RpcTimings
from athena_pool.rpc.wallet import MoneroWalletClient, WalletdClient

TEMPLATE = {"blocktemplate_blob": "00" * 80, "difficulty": 100, "height": 5, "reserved_offset": 3}


def errors(timings: RpcTimings, kind: str, method: str) -> tuple[int, dict[str, int]]:
    figures = timings.figures()[kind][method]
    return figures["count"], figures["errors"]


async def test_a_malformed_template_counts_as_a_bad_response_of_its_method(server: ScriptedServer) -> None:
    timings = RpcTimings()
    server.answer("getblocktemplate", {**TEMPLATE, "status": "OK", "difficulty": "a lot"})
    async with JsonRpcClient(server.url, timings=timings.endpoint("daemon")) as rpc:
        daemon = TurtleDaemonClient(rpc)
        with pytest.raises(RpcBadResponse, match="difficulty"):
            await daemon.get_block_template("addr", 8)
        assert errors(timings, "daemon", "getblocktemplate") == (1, {"bad_response": 1})
        server.answer("getblocktemplate", {**TEMPLATE, "status": "OK"})
        assert (await daemon.get_block_template("addr", 8)).height == 5
        assert errors(timings, "daemon", "getblocktemplate") == (2, {"bad_response": 1})
        # Not JSON at all: the transport counts it, the typed client does not count it again.
        server.script("getblockcount", Answer(raw=b"<html>busy</html>"))
        with pytest.raises(RpcBadResponse):
            await daemon.get_block_count()
        assert errors(timings, "daemon", "getblockcount") == (1, {"bad_response": 1})


async def test_a_nested_read_counts_once_under_the_inner_method(server: ScriptedServer) -> None:
    """monero-wallet-rpc's refresh then get_height: a bad height counts as get_height's, not refresh's."""
    timings = RpcTimings()
    server.answer("refresh", {"blocks_fetched": 0})
    server.answer("get_height", {"height": -1.5})
    async with JsonRpcClient(server.url, timings=timings.endpoint("wallet")) as rpc:
        with pytest.raises(RpcBadResponse):
            await MoneroWalletClient(rpc).sync()
    assert errors(timings, "wallet", "refresh") == (1, {})
    assert errors(timings, "wallet", "get_height") == (1, {"bad_response": 1})


async def test_walletd_calls_are_timed_per_method(server: ScriptedServer) -> None:
    """walletd speaks JSON-RPC over a plain POST: its calls are still named by method, not by path."""
    timings = RpcTimings()
    server.answer("getBalance", {"availableBalance": 7})
    async with JsonRpcClient(server.url, timings=timings.endpoint("wallet")) as rpc:
        with pytest.raises(RpcBadResponse, match="lockedAmount"):
            await WalletdClient(rpc, rpc_password=None).get_balance()
    assert set(timings.figures()["wallet"]) == {"getBalance"}
    assert errors(timings, "wallet", "getBalance") == (1, {"bad_response": 1})
