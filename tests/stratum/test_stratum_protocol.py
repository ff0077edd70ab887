"""protocol.parse and the reply builders: exact shapes, every refusal; fuzzing lets only StratumError out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from athena_pool.stratum import protocol
from athena_pool.stratum.protocol import (
    GetJobRequest,
    HttpProbe,
    KeepaliveRequest,
    LoginRequest,
    StratumError,
    SubmitRequest,
    parse,
)

BAD_ID = "Invalid id: expected an integer or a short string"


def line(message: Any) -> bytes:
    return json.dumps(message).encode()


def test_xmrig_login() -> None:
    params = {
        "login": "ADDR",
        "pass": "x",
        "agent": "XMRig/6.26.0",
        "rigid": "rig01",
        "algo": ["cn-lite/1", "rx/0"],
        "algo-perf": {"rx/0": 5123.4},
    }
    request = parse(line({"id": 1, "jsonrpc": "2.0", "method": "login", "params": params}))
    assert request == LoginRequest(1, "ADDR", "x", "XMRig/6.26.0", "rig01", ("cn-lite/1", "rx/0"))


def test_login_with_only_a_login() -> None:
    request = parse(line({"id": "a", "method": "login", "params": {"login": "ADDR", "pass": None}}))
    assert request == LoginRequest("a", "ADDR", "", "", "", None)


def test_getjob_keepalived_submit() -> None:
    assert parse(line({"id": 2, "method": "getjob", "params": {"id": "s"}})) == GetJobRequest(2, "s")
    assert parse(line({"id": 8, "method": "keepalived", "params": {"id": "s"}})) == KeepaliveRequest(8, "s")
    submit = {"id": "s", "job_id": "j", "nonce": "d0030040", "result": "ab" * 32, "algo": "cn-lite/1"}
    assert parse(line({"id": 7, "jsonrpc": "2.0", "method": "submit", "params": submit})) == SubmitRequest(
        7, "s", "j", "d0030040", "ab" * 32, "cn-lite/1"
    )


def test_http_probe() -> None:
    assert parse(b"GET / HTTP/1.1") == HttpProbe()
    assert parse(b"GET /stats HTTP/1.0") == HttpProbe()


@pytest.mark.parametrize(
    ("raw", "message", "request_id"),
    [
        (b"{", "Malformed JSON", None),
        (b"\xff\xfe", "Malformed JSON", None),
        (b'{"id":1,"method":"login","params":{"login":NaN}}', "Malformed JSON", None),
        (b"[1]", "Malformed request: expected a JSON object", None),
        (b'"login"', "Malformed request: expected a JSON object", None),
        (b'{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}', "Malformed request: nested too deeply", None),
        (b"[" * 100_000 + b"]" * 100_000, "Malformed JSON", None),
        (b'{"id":true,"method":"login"}', "Invalid id", None),
        (b'{"id":1e3,"method":"login"}', BAD_ID, None),
        (b'{"id":9007199254740993,"method":"login"}', BAD_ID, None),
        (b'{"id":"' + b"i" * 65 + b'","method":"login"}', BAD_ID, None),
        (b'{"id":4,"params":{}}', "Missing or invalid method", 4),
        (b'{"id":4,"method":7}', "Missing or invalid method", 4),
        (b'{"id":4,"method":"' + b"m" * 33 + b'"}', "Missing or invalid method", 4),
        (b'{"id":4,"method":"mining.subscribe","params":[]}', "Invalid params: expected an object", 4),
        (b'{"id":4,"method":"mining.subscribe","params":{}}', "Invalid method", 4),
        (b'{"id":5,"method":"login"}', "Missing params.login", 5),
        (b'{"id":5,"method":"login","params":{"login":5}}', "Invalid params.login: expected a string", 5),
        (
            b'{"id":5,"method":"login","params":{"login":"' + b"a" * 257 + b'"}}',
            "Invalid params.login: longer than 256 characters",
            5,
        ),
        (
            b'{"id":5,"method":"login","params":{"login":"a","pass":"' + b"p" * 257 + b'"}}',
            "Invalid params.pass: longer than 256 characters",
            5,
        ),
        (
            b'{"id":5,"method":"login","params":{"login":"a","agent":"' + b"p" * 257 + b'"}}',
            "Invalid params.agent: longer than 256 characters",
            5,
        ),
        (
            b'{"id":5,"method":"login","params":{"login":"a","rigid":["r"]}}',
            "Invalid params.rigid: expected a string",
            5,
        ),
        (
            b'{"id":5,"method":"login","params":{"login":"a","algo":"rx/0"}}',
            "Invalid params.algo: expected a list of at most 128 names",
            5,
        ),
        (
            b'{"id":5,"method":"login","params":{"login":"a","algo":[1]}}',
            "Invalid params.algo: expected a string",
            5,
        ),
        (
            line({"id": 5, "method": "login", "params": {"login": "a", "algo": ["x"] * 129}}),
            "Invalid params.algo: expected a list of at most 128 names",
            5,
        ),
        (b'{"id":6,"method":"getjob","params":{}}', "Missing params.id", 6),
        (b'{"id":6,"method":"keepalived"}', "Missing params.id", 6),
        (
            b'{"id":7,"method":"submit","params":{"id":"s","job_id":"j","nonce":"00000000"}}',
            "Missing params.result",
            7,
        ),
        (
            b'{"id":7,"method":"submit","params":{"id":"s","job_id":1,"nonce":"0","result":"0"}}',
            "Invalid params.job_id: expected a string",
            7,
        ),
        (
            line(
                {
                    "id": 7,
                    "method": "submit",
                    "params": {"id": "s", "job_id": "j", "nonce": "0" * 65, "result": "0"},
                }
            ),
            "Invalid params.nonce: longer than 64 characters",
            7,
        ),
    ],
)
def test_refusals_are_precise(raw: bytes, message: str, request_id: protocol.RequestId) -> None:
    with pytest.raises(StratumError) as caught:
        parse(raw)
    assert caught.value.message == message
    assert caught.value.request_id == request_id


def test_reply_shapes_are_xmrigs() -> None:
    assert protocol.result_reply(7, protocol.status_ok()) == (
        b'{"id":7,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}\n'
    )
    assert protocol.result_reply(8, protocol.status_keepalived()) == (
        b'{"id":8,"jsonrpc":"2.0","error":null,"result":{"status":"KEEPALIVED"}}\n'
    )
    assert protocol.error_reply(None, "Malformed JSON") == (
        b'{"id":null,"jsonrpc":"2.0","error":{"code":-1,"message":"Malformed JSON"}}\n'
    )
    assert protocol.job_push({"job_id": "j"}) == b'{"jsonrpc":"2.0","method":"job","params":{"job_id":"j"}}\n'
    assert protocol.login_result("s", {"job_id": "j"}, ("algo", "keepalive")) == {
        "id": "s",
        "job": {"job_id": "j"},
        "extensions": ["algo", "keepalive"],
        "status": "OK",
    }


def test_replies_are_ascii_whatever_the_message() -> None:
    reply = protocol.error_reply("é", "Invalid address: ünicode")
    reply.decode("ascii")
    assert json.loads(reply)["error"]["message"] == "Invalid address: ünicode"


def test_http_probe_reply_is_a_complete_response() -> None:
    head, _, body = protocol.http_probe_reply().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert f"Content-Length: {len(body)}".encode() in head


# --- fuzz ---------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
methods = st.sampled_from(["login", "getjob", "submit", "keepalived", "job", ""]) | st.text(max_size=40)
param_names = st.sampled_from(["login", "pass", "agent", "rigid", "algo", "id", "job_id", "nonce", "result"])
request_like = st.fixed_dictionaries(
    {
        "id": json_values,
        "method": methods | json_values,
        "params": st.dictionaries(param_names, json_values, max_size=8) | json_values,
    },
    optional={"jsonrpc": json_values},
)


def parse_or_error(raw: bytes) -> None:
    try:
        result = parse(raw)
    except StratumError as exc:
        assert isinstance(exc.message, str) and exc.message
        protocol.error_reply(exc.request_id, exc.message)  # the error always makes a reply
        return
    assert isinstance(result, LoginRequest | GetJobRequest | KeepaliveRequest | SubmitRequest | HttpProbe)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_only_raise_stratum_error(raw: bytes) -> None:
    parse_or_error(raw)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_random_json_only_raises_stratum_error(value: Any) -> None:
    parse_or_error(json.dumps(value).encode())


@settings(max_examples=1000, deadline=None)
@given(request_like)
def test_random_requests_only_raise_stratum_error(message: dict[str, Any]) -> None:
    parse_or_error(json.dumps(message).encode())
