"""The stratum wire format xmrig speaks: one line in → a validated request; replies and pushes out.

Pure functions, no I/O. `parse` either returns one of the request dataclasses or raises `StratumError`
with the message the miner reads; nothing else escapes it, whatever the bytes (the fuzz tests hold it to
that). Every size a stranger controls is bounded here: nesting depth, string lengths, list lengths.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

RequestId = int | str | None

MAX_DEPTH: Final = 5  # request → params → algo-perf → value is 4; one spare level
MAX_ID_CHARS: Final = 64
MAX_ID_INT: Final = 2**53  # JSON numbers beyond this lose precision in other implementations
MAX_METHOD_CHARS: Final = 32
MAX_LOGIN_CHARS: Final = 256
MAX_PASS_CHARS: Final = 256
MAX_RIGID_CHARS: Final = 256
MAX_AGENT_CHARS: Final = 256
MAX_ALGOS: Final = 128
MAX_ALGO_CHARS: Final = 64
MAX_SESSION_ID_CHARS: Final = 64
MAX_JOB_ID_CHARS: Final = 64
# Nonce and result are only bounded here; their exact form is checked by the share judge, so that the
# checks run in the documented order (job first, then nonce and result).
MAX_NONCE_CHARS: Final = 64
MAX_RESULT_CHARS: Final = 128

HTTP_PROBE_PREFIX: Final = b"GET /"
HTTP_PROBE_BODY: Final = b"Mining server online\n"


class StratumError(Exception):
    """A request that cannot be served; `message` goes to the miner as `{"code":-1,"message":...}`."""

    def __init__(self, message: str, request_id: RequestId = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True)
class LoginRequest:
    request_id: RequestId
    login: str
    password: str
    agent: str
    rigid: str
    algos: tuple[str, ...] | None  # None: the miner did not send an `algo` list


@dataclass(frozen=True)
class GetJobRequest:
    request_id: RequestId
    session_id: str


@dataclass(frozen=True)
class KeepaliveRequest:
    request_id: RequestId
    session_id: str


@dataclass(frozen=True)
class SubmitRequest:
    request_id: RequestId
    session_id: str
    job_id: str
    nonce: str
    result: str
    algo: str | None


@dataclass(frozen=True)
class HttpProbe:
    """A `GET /` line: a load balancer or a curious human checking the port."""


Request = LoginRequest | GetJobRequest | KeepaliveRequest | SubmitRequest | HttpProbe


def parse(line: bytes) -> Request:
    """One line (without its newline) → a request, or `StratumError`."""
    if line.startswith(HTTP_PROBE_PREFIX):
        return HttpProbe()
    message = _decode_object(line)
    request_id = _request_id(message)
    method = message.get("method")
    if not isinstance(method, str) or not method or len(method) > MAX_METHOD_CHARS:
        raise StratumError("Missing or invalid method", request_id)
    params = message.get("params", {})
    if not isinstance(params, dict):
        raise StratumError("Invalid params: expected an object", request_id)
    builder = _BUILDERS.get(method)
    if builder is None:
        raise StratumError("Invalid method", request_id)
    return builder(request_id, _Params(params, request_id))


def _decode_object(line: bytes) -> dict[str, Any]:
    try:
        text = line.decode("utf-8")
        value = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError, NaN/Infinity and integers too long to convert.
        raise StratumError("Malformed JSON") from exc
    if not isinstance(value, dict):
        raise StratumError("Malformed request: expected a JSON object")
    if _depth(value) > MAX_DEPTH:
        raise StratumError("Malformed request: nested too deeply")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _depth(value: Any, level: int = 1) -> int:
    """Nesting depth, stopping as soon as it passes MAX_DEPTH (so the walk itself stays shallow)."""
    if level > MAX_DEPTH:
        return level
    children: list[Any]
    if isinstance(value, dict):
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return level - 1
    deepest = level
    for child in children:
        deepest = max(deepest, _depth(child, level + 1))
        if deepest > MAX_DEPTH:
            break
    return deepest


def _request_id(message: dict[str, Any]) -> RequestId:
    value = message.get("id")
    if value is None:
        return None
    if isinstance(value, bool):
        raise StratumError("Invalid id")
    if isinstance(value, int) and -MAX_ID_INT <= value <= MAX_ID_INT:
        return value
    if isinstance(value, str) and len(value) <= MAX_ID_CHARS:
        return value
    raise StratumError("Invalid id: expected an integer or a short string")


class _Params:
    """Typed, bounded access to `params`, raising `StratumError` that names the bad field."""

    def __init__(self, params: dict[str, Any], request_id: RequestId) -> None:
        self._params = params
        self._request_id = request_id

    def required_text(self, name: str, max_chars: int) -> str:
        if name not in self._params:
            raise StratumError(f"Missing params.{name}", self._request_id)
        return self._text(name, self._params[name], max_chars)

    def optional_text(self, name: str, max_chars: int) -> str | None:
        value = self._params.get(name)
        return None if value is None else self._text(name, value, max_chars)

    def optional_text_list(self, name: str, max_items: int, max_chars: int) -> tuple[str, ...] | None:
        value = self._params.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or len(value) > max_items:
            raise StratumError(
                f"Invalid params.{name}: expected a list of at most {max_items} names", self._request_id
            )
        return tuple(self._text(name, item, max_chars) for item in value)

    def _text(self, name: str, value: Any, max_chars: int) -> str:
        if not isinstance(value, str):
            raise StratumError(f"Invalid params.{name}: expected a string", self._request_id)
        if len(value) > max_chars:
            raise StratumError(f"Invalid params.{name}: longer than {max_chars} characters", self._request_id)
        return value


def _login(request_id: RequestId, params: _Params) -> LoginRequest:
    return LoginRequest(
        request_id=request_id,
        login=params.required_text("login", MAX_LOGIN_CHARS),
        password=params.optional_text("pass", MAX_PASS_CHARS) or "",
        agent=params.optional_text("agent", MAX_AGENT_CHARS) or "",
        rigid=params.optional_text("rigid", MAX_RIGID_CHARS) or "",
        algos=params.optional_text_list("algo", MAX_ALGOS, MAX_ALGO_CHARS),
    )


def _getjob(request_id: RequestId, params: _Params) -> GetJobRequest:
    return GetJobRequest(request_id, params.required_text("id", MAX_SESSION_ID_CHARS))


def _keepalived(request_id: RequestId, params: _Params) -> KeepaliveRequest:
    return KeepaliveRequest(request_id, params.required_text("id", MAX_SESSION_ID_CHARS))


def _submit(request_id: RequestId, params: _Params) -> SubmitRequest:
    return SubmitRequest(
        request_id=request_id,
        session_id=params.required_text("id", MAX_SESSION_ID_CHARS),
        job_id=params.required_text("job_id", MAX_JOB_ID_CHARS),
        nonce=params.required_text("nonce", MAX_NONCE_CHARS),
        result=params.required_text("result", MAX_RESULT_CHARS),
        algo=params.optional_text("algo", MAX_ALGO_CHARS),
    )


_BUILDERS: Mapping[str, Callable[[RequestId, _Params], Request]] = MappingProxyType(
    {"login": _login, "getjob": _getjob, "keepalived": _keepalived, "submit": _submit}
)


# --- replies and pushes -------------------------------------------------------------------------------


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode("ascii") + b"\n"


def result_reply(request_id: RequestId, result: Any) -> bytes:
    return _line({"id": request_id, "jsonrpc": "2.0", "error": None, "result": result})


def error_reply(request_id: RequestId, message: str) -> bytes:
    # xmrig's own shape for errors carries no `result`; every pool error uses code -1.
    return _line({"id": request_id, "jsonrpc": "2.0", "error": {"code": -1, "message": message}})


def job_push(job: dict[str, Any]) -> bytes:
    return _line({"jsonrpc": "2.0", "method": "job", "params": job})


def job_push_json(job_json: str) -> bytes:
    """A `job` push around a job object that is already JSON text (`Job.stratum_json`)."""
    return b'{"jsonrpc":"2.0","method":"job","params":' + job_json.encode("ascii") + b"}\n"


def reconnect_push(host: str, port: int) -> bytes:
    """`client.reconnect`, as xmrig reads it: params are exactly two strings, host and port."""
    return _line({"jsonrpc": "2.0", "method": "client.reconnect", "params": [host, str(port)]})


def login_result(session_id: str, job: dict[str, Any], extensions: tuple[str, ...]) -> dict[str, Any]:
    return {"id": session_id, "job": job, "extensions": list(extensions), "status": "OK"}


def status_ok() -> dict[str, str]:
    return {"status": "OK"}


def status_keepalived() -> dict[str, str]:
    return {"status": "KEEPALIVED"}


def http_probe_reply() -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/plain\r\n"
        f"Content-Length: {len(HTTP_PROBE_BODY)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + HTTP_PROBE_BODY
