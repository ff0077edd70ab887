"""An async JSON-RPC 2.0 client over HTTP (aiohttp), plus plain GET/POST JSON for a daemon's other routes.

Every failure comes out as one of the three errors of `rpc.errors`; nothing from aiohttp, json or a
KeyError leaks to the caller. Calls share one `ClientSession` (passed in, or owned and closed here) and at
most `max_concurrency` of them are in flight at once, so a burst of share submissions and the template
poller cannot open an unbounded number of sockets to the daemon. With `timings`, every call's duration and
outcome is recorded per method (`rpc/timings.py`), for the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import aiohttp

from athena_pool.rpc.errors import RpcBadResponse, RpcError, RpcFailure, RpcUnavailable
from athena_pool.rpc.timings import EndpointTimings

DEFAULT_TIMEOUT = 10.0
DEFAULT_CONCURRENCY = 8
# A template carries every tx hash of the block (32 bytes, 64 hex each): even a very full block stays far
# below this. The limit only stops a broken or hostile endpoint from filling our memory.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

JsonParams = Mapping[str, Any] | Sequence[Any] | None


class JsonRpcClient:
    """JSON-RPC 2.0 calls to `base_url + rpc_path`, and JSON GET/POST to other paths of the same server."""

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        rpc_path: str = "/json_rpc",
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        auth: aiohttp.BasicAuth | None = None,
        timings: EndpointTimings | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.rpc_path = rpc_path
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self._auth = auth
        self._session = session
        self._owns_session = session is None
        self._slots = asyncio.Semaphore(max_concurrency)
        self._ids = itertools.count(1)
        self._timings = timings

    async def __aenter__(self) -> JsonRpcClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client created it; a passed-in session belongs to the caller."""
        if not self._owns_session or self._session is None:
            return
        session, self._session = self._session, None
        if not session.closed:
            await session.close()

    async def call(self, method: str, params: JsonParams = None, *, timeout: float | None = None) -> Any:
        """The `result` of a JSON-RPC call. Raises RpcError, RpcUnavailable or RpcBadResponse."""
        request_id = next(self._ids)
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            payload["params"] = params
        with self._timed(method):
            reply = await self._exchange("POST", self.rpc_path, payload, timeout, what=method)
            return _unwrap_reply(reply, request_id, method)

    async def get_json(self, path: str, *, timeout: float | None = None) -> dict[str, Any]:
        """A plain GET returning a JSON object (e.g. `/getinfo`, `/getheight`)."""
        with self._timed(path):
            return _require_object(await self._exchange("GET", path, None, timeout, what=path), path)

    async def post_json(
        self, path: str, body: Mapping[str, Any], *, timeout: float | None = None, label: str | None = None
    ) -> dict[str, Any]:
        """A plain POST of a JSON object returning a JSON object (e.g. monerod's `/get_info`). `label`
        names the call in the timings (default: the path), for a JSON-RPC dialect built on this."""
        with self._timed(label or path):
            return _require_object(await self._exchange("POST", path, body, timeout, what=path), path)

    @contextlib.contextmanager
    def _timed(self, method: str) -> Iterator[None]:
        """Records the call's duration as the caller waits for it (a wait for a free slot included) and
        its outcome. A cancelled call (shutdown, a caller's own deadline) is not recorded: it says nothing
        about the endpoint."""
        if self._timings is None:
            yield
            return
        started = time.perf_counter()
        try:
            yield
        except RpcFailure as exc:
            self._timings.record(method, time.perf_counter() - started, _error_kind(exc))
            exc.counted = True
            raise
        self._timings.record(method, time.perf_counter() - started)

    @contextlib.contextmanager
    def reading(self, method: str) -> Iterator[None]:
        """Around a caller's reading of an answer to `method`: an answer its field checks find malformed
        (RpcBadResponse) counts as a `bad_response` error of `method`, as one the transport could not
        parse does. A failure already counted (by the call itself, or an inner `reading`) is not again."""
        try:
            yield
        except RpcBadResponse as exc:
            if self._timings is not None and not exc.counted:
                self._timings.record_error(method, _error_kind(exc))
            exc.counted = True
            raise

    async def _exchange(self, verb: str, path: str, body: Any, timeout: float | None, *, what: str) -> Any:
        limit = self.timeout if timeout is None else timeout
        try:
            # The deadline covers waiting for a slot too: the caller asked for an answer within `limit`.
            async with asyncio.timeout(limit), self._slots:
                status, raw = await self._send(verb, path, body)
        except TimeoutError as exc:
            raise RpcUnavailable(f"{what}: no answer from {self.base_url} within {limit:g} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise RpcUnavailable(f"{what}: {self.base_url} unreachable: {exc or type(exc).__name__}") from exc
        return _decode_body(status, raw, what)

    async def _send(self, verb: str, path: str, body: Any) -> tuple[int, bytes]:
        session = self._session_for_call()
        url = self.base_url + path
        async with session.request(verb, url, json=body, auth=self._auth) as response:
            return response.status, await self._read_bounded(response, what=path)

    async def _read_bounded(self, response: aiohttp.ClientResponse, *, what: str) -> bytes:
        declared = response.content_length
        if declared is not None and declared > self.max_body_bytes:
            raise RpcBadResponse(f"{what}: body of {declared} bytes exceeds {self.max_body_bytes}")
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            total += len(chunk)
            if total > self.max_body_bytes:
                raise RpcBadResponse(f"{what}: body exceeds {self.max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _session_for_call(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RpcUnavailable("the shared HTTP session is closed")
            self._session = aiohttp.ClientSession()
        return self._session


def _error_kind(exc: RpcFailure) -> str:
    if isinstance(exc, RpcError):
        return "error_reply"  # the endpoint answered, with a JSON-RPC error
    if isinstance(exc, RpcBadResponse):
        return "bad_response"
    return "unavailable"


def _decode_body(status: int, raw: bytes, what: str) -> Any:
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # bad UTF-8, bad JSON, absurdly deep nesting
        if not 200 <= status < 300:
            raise RpcUnavailable(f"{what}: HTTP {status}") from exc
        raise RpcBadResponse(f"{what}: body is not JSON: {raw[:80]!r}") from exc
    if not 200 <= status < 300 and not _is_error_reply(decoded):
        # Some servers send a JSON-RPC error with a 500; keep it (it carries the daemon's message), but any
        # other non-2xx answer means the endpoint is not serving us.
        raise RpcUnavailable(f"{what}: HTTP {status}")
    return decoded


def _is_error_reply(decoded: Any) -> bool:
    return isinstance(decoded, dict) and isinstance(decoded.get("error"), dict)


def _unwrap_reply(reply: Any, request_id: int, method: str) -> Any:
    if not isinstance(reply, dict):
        raise RpcBadResponse(f"{method}: reply is a {type(reply).__name__}, not a JSON object")
    error = reply.get("error")
    if error is not None:
        raise _error_from(error, method)
    if "result" not in reply:
        raise RpcBadResponse(f"{method}: reply has neither result nor error")
    # Servers that answer a different id are confused about which request this is; never trust the result.
    if "id" in reply and reply["id"] != request_id and str(reply["id"]) != str(request_id):
        raise RpcBadResponse(f"{method}: reply id {reply['id']!r} does not match request id {request_id}")
    return reply["result"]


def _error_from(error: Any, method: str) -> RpcError | RpcBadResponse:
    if not isinstance(error, dict):
        return RpcBadResponse(f"{method}: error member is not an object: {error!r:.80}")
    code = error.get("code")
    message = error.get("message")
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(message, str):
        return RpcBadResponse(f"{method}: malformed error object: {error!r:.120}")
    return RpcError(code, message)


def _require_object(decoded: Any, what: str) -> dict[str, Any]:
    if not isinstance(decoded, dict):
        raise RpcBadResponse(f"{what}: answer is a {type(decoded).__name__}, not a JSON object")
    return decoded


class HasRpc(Protocol):
    rpc: JsonRpcClient


Client = TypeVar("Client", bound=HasRpc)
Params = ParamSpec("Params")
Result = TypeVar("Result")


def reads_answer_of(
    method: str,
) -> Callable[
    [Callable[Concatenate[Client, Params], Coroutine[Any, Any, Result]]],
    Callable[Concatenate[Client, Params], Coroutine[Any, Any, Result]],
]:
    """A typed client's method that calls `method` and checks its answer: see `JsonRpcClient.reading`."""

    def decorate(
        read: Callable[Concatenate[Client, Params], Coroutine[Any, Any, Result]],
    ) -> Callable[Concatenate[Client, Params], Coroutine[Any, Any, Result]]:
        async def counted(client: Client, /, *args: Params.args, **kwargs: Params.kwargs) -> Result:
            with client.rpc.reading(method):
                return await read(client, *args, **kwargs)

        functools.update_wrapper(counted, read)
        return counted

    return decorate
