"""A stratum worker process for the cluster tests: the test job source on a shared port, until SIGTERM.

Job ids carry the worker's pid, so a test can tell which process served a connection.
"""

from __future__ import annotations

import asyncio
import os
import signal

import uvloop
from stratum_fakes import FakeJobSource, FakeJudge, ListSink, validate_test_address

from athena_pool.jobs.contracts import IssuedJob
from athena_pool.stratum import PortConfig, StratumConfig, StratumServer


class PidJobSource(FakeJobSource):
    def issue_job(self, difficulty: int) -> IssuedJob:
        job = super().issue_job(difficulty)
        job.job_id = f"{os.getpid()}-{job.job_id}"  # type: ignore[misc]
        return job


async def _serve(port: int, blob: bytes) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    source = PidJobSource(blob, height=100)
    config = StratumConfig(ports=(PortConfig(port, difficulty=100, host="127.0.0.1"),), reuse_port=True)
    server = StratumServer(
        config=config,
        job_source=source,
        judge=FakeJudge(source),
        share_sink=ListSink(),
        validate_address=validate_test_address,
    )
    await server.start()
    await stop.wait()
    await server.close()


def serve(port: int, blob_hex: str, index: int) -> None:
    """The cluster's target: `partial(serve, port, blob_hex)` is called with the worker index."""
    uvloop.run(_serve(port, bytes.fromhex(blob_hex)))
