"""`WaiterGate`: bounds the requests held open by long polls, in total and per client IP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from athena_pool.api.errors import too_many, unavailable


class WaiterGate:
    def __init__(self, max_total: int, max_per_ip: int) -> None:
        self._max_total = max_total
        self._max_per_ip = max_per_ip
        self._per_ip: dict[str, int] = {}
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def slot(self, ip: str) -> AsyncIterator[None]:
        if self.waiting >= self._max_total:
            raise unavailable("too many requests waiting for the next update; poll /stats instead", 5)
        if self._per_ip.get(ip, 0) >= self._max_per_ip:
            raise too_many("too many long polls from your address at once", 5)
        self.waiting += 1
        self._per_ip[ip] = self._per_ip.get(ip, 0) + 1
        try:
            yield
        finally:
            self.waiting -= 1
            left = self._per_ip[ip] - 1
            if left:
                self._per_ip[ip] = left
            else:
                del self._per_ip[ip]
