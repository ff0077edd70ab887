"""asyncio helpers the pool's loops share.

`asyncio.wait_for` on Python 3.11 swallows a cancellation that arrives just as the awaited thing
completes (CPython gh-86296, fixed in 3.12 by building wait_for on `asyncio.timeout`): a loop such as
"wait for a wake-up or the interval, then work" would then go on running after `cancel()`, and the close
that awaits it would hang. Loops here wait with `wait_event`, which never loses a cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """True when `event` is set within `timeout_s`, False when the time ran out first. A cancellation of
    the caller always propagates, even if it arrives as the event is set."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def cancel_until_done(*tasks: asyncio.Task[Any] | None, retry_s: float = 1.0) -> None:
    """Cancels `tasks` (None entries are skipped) and returns once every one has finished; their errors
    are retrieved and dropped, as `gather(..., return_exceptions=True)` would. A task still running after
    `retry_s` is cancelled again: redis-py sends every command under `asyncio.wait_for`, so on Python 3.11
    a cancellation landing in a send is lost, and a task that only stops when cancelled would then run on
    (and its owner's close hang for good)."""
    pending = {task for task in tasks if task is not None}
    while pending:
        for task in pending:
            task.cancel()
        done, pending = await asyncio.wait(pending, timeout=retry_s)
        for task in done:
            if not task.cancelled():
                task.exception()  # retrieved: no "exception was never retrieved" at garbage collection


def signal_child(process: asyncio.subprocess.Process, signum: int) -> None:
    """Sends `signum` to a child unless its exit is already known. Not `Process.send_signal` or `kill`:
    those go through `Popen.send_signal`, which polls the child first and so may reap it behind asyncio's
    child watcher if it has just exited; the watcher then reports exit code 255 instead of the real one.
    A child that has exited but is not yet reaped keeps its pid, so the signal cannot reach another
    process."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)
