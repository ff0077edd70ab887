"""Several stratum processes sharing one port (SO_REUSEPORT): started with spawn, connections spread over
them, a graceful stop of all of them (client.reconnect, then the close), and the parent's bookkeeping."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import pytest
from cluster_worker import serve
from stratum_fakes import ADDRESS, StratumClient

from athena_pool.stratum import PortConfig
from athena_pool.stratum.cluster import Cluster, ClusterSettings, reserve_ports, resolve_worker_count

HERE = Path(__file__).parent


def test_worker_count_and_port_reservation() -> None:
    assert resolve_worker_count(3) == 3
    assert 1 <= resolve_worker_count("auto") <= (os.cpu_count() or 1)
    ports, held = reserve_ports((PortConfig(0, 100, host="127.0.0.1"), PortConfig(3333, 100)))
    try:
        assert ports[0].port != 0 and ports[1].port == 3333
        assert held[0].getsockname()[1] == ports[0].port
        # Another SO_REUSEPORT socket can bind and listen on the reserved port: that is what workers do.
        with socket.socket() as worker:
            worker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            worker.bind(("127.0.0.1", ports[0].port))
            worker.listen()
    finally:
        for sock in held:
            sock.close()


async def login_pid(port: int) -> tuple[StratumClient, str]:
    client = await StratumClient.connect(port)
    reply = await client.call("login", {"login": ADDRESS, "agent": "XMRig/6.26.0"})
    assert reply["error"] is None, reply
    return client, reply["result"]["job"]["job_id"].split("-")[0]


async def wait_for_workers(port: int) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                client, _ = await login_pid(port)
            except (OSError, AssertionError):
                await asyncio.sleep(0.1)
                continue
            await client.close()
            return


async def test_workers_share_the_port_and_stop_gracefully(template_blob: bytes) -> None:
    (port_config,), held = reserve_ports((PortConfig(0, 100, host="127.0.0.1"),))
    cluster = Cluster(
        partial(serve, port_config.port, template_blob.hex()), 2, ClusterSettings(stop_timeout=20)
    )
    try:
        await asyncio.to_thread(cluster.start)
        await wait_for_workers(port_config.port)
        clients: list[StratumClient] = []
        served_by: set[str] = set()
        for _ in range(200):  # the kernel hashes connections over the two listeners
            client, pid = await login_pid(port_config.port)
            clients.append(client)
            served_by.add(pid)
            if len(served_by) == 2:
                break
        assert served_by == {str(pid) for pid in cluster.pids}
        killed = await asyncio.to_thread(cluster.stop)
        assert killed == 0
        for client in clients:
            message = await client.read_message()
            assert message is not None and message["method"] == "client.reconnect"
            assert message["params"] == ["127.0.0.1", str(port_config.port)]
            assert await client.read_message() is None
    finally:
        await asyncio.to_thread(cluster.stop)
        for sock in held:
            sock.close()


async def test_a_dead_worker_is_started_again(template_blob: bytes) -> None:
    (port_config,), held = reserve_ports((PortConfig(0, 100, host="127.0.0.1"),))
    settings = ClusterSettings(respawn_delay=0.1, stop_timeout=20, min_uptime=0)
    cluster = Cluster(partial(serve, port_config.port, template_blob.hex()), 1, settings)
    try:
        await asyncio.to_thread(cluster.start)
        await wait_for_workers(port_config.port)
        (first,) = cluster.pids
        os.kill(first, signal.SIGKILL)
        async with asyncio.timeout(60):
            while cluster.pids in ([], [first]):
                await asyncio.to_thread(cluster.supervise_once, 0.1)
        await wait_for_workers(port_config.port)
        assert cluster.pids != [first]
    finally:
        await asyncio.to_thread(cluster.stop)
        for sock in held:
            sock.close()


def test_run_cluster_stops_its_workers_on_sigterm(template_blob: bytes, tmp_path: Path) -> None:
    """The parent as the runner would use it: in its own process, stopped by SIGTERM, exit code 0."""
    (port_config,), held = reserve_ports((PortConfig(0, 100, host="127.0.0.1"),))
    script = textwrap.dedent(
        f"""
        import sys
        from functools import partial
        sys.path.insert(0, {str(HERE)!r})
        from cluster_worker import serve
        from athena_pool.stratum.cluster import ClusterSettings, run_cluster
        if __name__ == "__main__":
            target = partial(serve, {port_config.port}, {template_blob.hex()!r})
            sys.exit(run_cluster(target, 2, ClusterSettings(stop_timeout=20)))
        """
    )
    (tmp_path / "parent.py").write_text(script)
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")])
    try:
        asyncio.run(wait_for_workers(port_config.port))
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 0
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port_config.port), timeout=5):
            pass
    finally:
        if parent.poll() is None:
            parent.kill()
        for sock in held:
            sock.close()
