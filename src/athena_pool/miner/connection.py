"""Newline-delimited JSON over one TCP connection, with every line bounded."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any


class StratumProtocolError(Exception):
    """The pool sent something the miner cannot follow; the connection is dropped and retried."""


class StratumConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, host: str, port: int, *, max_line_bytes: int, timeout: float) -> StratumConnection:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, limit=max_line_bytes)
        return cls(reader, writer)

    async def send(self, message: dict[str, Any]) -> None:
        self._writer.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await self._writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        """The next JSON object, or None when the pool closed the connection."""
        try:
            line = await self._reader.readline()
        except ValueError:  # asyncio's wrapper for a line longer than the stream limit
            raise StratumProtocolError("pool sent a line longer than the limit") from None
        if not line:
            return None
        try:
            message = json.loads(line)
        except ValueError:
            raise StratumProtocolError(f"pool sent a line that is not JSON: {line[:80]!r}") from None
        if not isinstance(message, dict):
            raise StratumProtocolError("pool sent JSON that is not an object")
        return message

    def abort(self) -> None:
        """Close at once (safe to call from anywhere on the loop, any number of times)."""
        self._writer.close()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):  # the peer may already be gone; nothing left to flush
            await self._writer.wait_closed()
