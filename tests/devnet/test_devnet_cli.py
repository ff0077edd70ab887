"""`athena-pool devnet` as a real process: it serves both RPCs and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp


async def test_devnet_command_serves_and_stops(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "athena_pool",
        "devnet",
        "--daemon-port",
        "0",
        "--wallet-port",
        "0",
        "--data-dir",
        str(tmp_path),
        "--difficulty",
        "5",
        "--no-network-blocks",
        "--rpc-password",
        "s3cret",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    banner = []
    try:
        async with asyncio.timeout(120):
            while not any("pool address" in line for line in banner):
                banner.append((await process.stdout.readline()).decode())
        text = "".join(banner)
        daemon_url = re.search(r"daemon\s+(http://\S+)/json_rpc", text)
        wallet_url = re.search(r"wallet\s+(http://\S+)/json_rpc", text)
        address = re.search(r"pool address (\S+)", text)
        assert daemon_url and wallet_url and address
        async with aiohttp.ClientSession() as session:
            request = {"jsonrpc": "2.0", "id": 1, "method": "getblockcount", "params": {}}
            async with session.post(f"{daemon_url[1]}/json_rpc", json=request) as response:
                assert (await response.json())["result"]["count"] == 1
            request = {"jsonrpc": "2.0", "id": 1, "method": "getAddresses", "password": "s3cret"}
            async with session.post(f"{wallet_url[1]}/json_rpc", json=request) as response:
                assert (await response.json())["result"]["addresses"] == [address[1]]
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            rest, _ = await process.communicate()
    assert process.returncode == 0
    assert "devnet stopped" in rest.decode()
    assert (tmp_path / "wallet.jsonl").exists() and (tmp_path / "chain.jsonl").exists()
