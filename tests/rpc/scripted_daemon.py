"""A real local HTTP server whose answers each test scripts, to produce every daemon fault for real."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Answer:
    """One scripted reply: a JSON-RPC result or error, or raw bytes, with an HTTP status; or a fault."""

    result: Any = None
    error: dict[str, Any] | None = None
    raw: bytes | None = None  # sent as is, instead of a JSON-RPC envelope
    status: int = 200
    reply_id: Any = "echo"  # "echo" answers the request's id
    hang: bool = False  # never answer (until the server stops)
    drop: bool = False  # close the connection without answering


Script = Callable[[Any], Answer]


@dataclass
class ScriptedServer:
    """JSON-RPC on POST /json_rpc and plain JSON on other paths, answering as the test says."""

    methods: dict[str, Script] = field(default_factory=dict)
    paths: dict[str, Script] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    gate: asyncio.Event | None = None  # when set by a test, every handler waits for it
    url: str = ""
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    def answer(self, method: str, result: Any) -> None:
        self.methods[method] = lambda _params: Answer(result=result)

    def script(self, method: str, answer: Answer) -> None:
        self.methods[method] = lambda _params: answer

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/json_rpc", self._json_rpc)
        app.router.add_route("*", "/{path:.*}", self._plain)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _json_rpc(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.calls.append((body["method"], body.get("params")))
        script = self.methods.get(body["method"])
        if script is None:
            answer = Answer(error={"code": -32601, "message": "Method not found"})
        else:
            answer = script(body.get("params"))
        return await self._respond(request, answer, body.get("id"))

    async def _plain(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        self.calls.append((path, None))
        script = self.paths.get(path)
        if script is None:
            return web.Response(status=404, text="not found")
        return await self._respond(request, script(None), None, envelope=False)

    async def _respond(
        self, request: web.Request, answer: Answer, request_id: Any, *, envelope: bool = True
    ) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if answer.hang:
                await self._stopping.wait()
            if answer.drop:
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            return web.Response(status=answer.status, body=_body(answer, request_id, envelope))
        finally:
            self.in_flight -= 1


def _body(answer: Answer, request_id: Any, envelope: bool) -> bytes:
    if answer.raw is not None:
        return answer.raw
    if not envelope:
        return json.dumps(answer.result).encode()
    reply: dict[str, Any] = {
        "jsonrpc": "2.0",
        "id": request_id if answer.reply_id == "echo" else answer.reply_id,
    }
    if answer.error is not None:
        reply["error"] = answer.error
    else:
        reply["result"] = answer.result
    return json.dumps(reply).encode()
