"""`athena-pool miner` as a real process: it mines against a stratum server and stops on SIGINT."""

from __future__ import annotations

import asyncio
import signal
import sys

from mini_pool import MiniPool


async def test_miner_command_mines_and_stops_cleanly() -> None:
    async with MiniPool(difficulty=4) as pool:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "athena_pool",
            "miner",
            "--url",
            f"127.0.0.1:{pool.port}",
            "--user",
            "athena-test-login",
            "--threads",
            "1",
            "--report-interval",
            "0.2",
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(120):
                await pool.wait_until(lambda p: len(p.accepted) >= 1)
        finally:
            process.send_signal(signal.SIGINT)
            async with asyncio.timeout(60):
                output, _ = await process.communicate()
    assert process.returncode == 0
    text = output.decode()
    assert "mining cn-lite/1 at 127.0.0.1" in text
    assert "accepted" in text.splitlines()[-1]
    assert not pool.violations
