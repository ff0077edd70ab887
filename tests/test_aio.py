"""`wait_event` and `cancel_until_done`: how the pool's loops wait and how their owners stop them. A loop
must stop when cancelled, even when a library eats the cancellation (Python 3.11's asyncio.wait_for,
which redis-py sends every command with)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from athena_pool.aio import cancel_until_done, signal_child, wait_event


async def test_true_when_set_false_when_the_time_runs_out() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5) is True


async def wake_or_interval_loop(event: asyncio.Event) -> None:
    while True:
        await wait_event(event, 0.5)
        event.clear()


async def test_a_loop_cancelled_as_its_event_is_set_stops() -> None:
    """The race: the event is set, the waiting task is woken, and the cancellation arrives before it
    runs. asyncio.wait_for (3.11) returned the result and dropped the cancellation, so the loop ran on."""
    for _ in range(20):
        event = asyncio.Event()
        task = asyncio.create_task(wake_or_interval_loop(event))
        await asyncio.sleep(0.001)
        event.set()
        await asyncio.sleep(0)  # the event's waiter is woken; the loop has not run yet
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert done == {task} and task.cancelled()


async def eats_one_cancellation(stopped: list[bool]) -> None:
    """A loop whose library call swallows the first cancellation (as wait_for does in a redis-py send)."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(60)
    try:
        while True:
            await asyncio.sleep(0.01)
    finally:
        stopped.append(True)


async def test_cancel_until_done_cancels_again_what_swallowed_a_cancellation() -> None:
    stopped: list[bool] = []
    stubborn = asyncio.create_task(eats_one_cancellation(stopped))

    async def fails() -> None:
        raise RuntimeError("already broken")

    broken = asyncio.create_task(fails())
    await asyncio.sleep(0.01)
    await asyncio.wait_for(cancel_until_done(stubborn, broken, None, retry_s=0.05), 5)
    assert stopped == [True] and stubborn.cancelled()
    assert isinstance(broken.exception(), RuntimeError)


async def test_signal_child_kills_a_running_child_and_leaves_a_finished_one_alone() -> None:
    running = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(60)")
    signal_child(running, signal.SIGKILL)
    assert await asyncio.wait_for(running.wait(), 10) == -signal.SIGKILL
    finished = await asyncio.create_subprocess_exec(sys.executable, "-c", "raise SystemExit(3)")
    assert await finished.wait() == 3
    signal_child(finished, signal.SIGKILL)  # its exit is known: nothing is sent
    assert finished.returncode == 3
