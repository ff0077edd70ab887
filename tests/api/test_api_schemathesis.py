"""Schemathesis against the OpenAPI description the pool serves: for every documented operation, generated
requests (valid and, by schemathesis' own choice, edge values) get documented answers: no server error,
a documented status and content type, and a body that matches the response schema.

The API runs over seeded Redis data on its own event loop in a thread (schemathesis calls are synchronous),
with the web front-end's routes installed as in the real app.
Admin operations are exercised twice: without credentials (the 401 answers must match too) and with the
bearer secret.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_support import ADMIN_SECRET, ApiThread, api_settings
from hypothesis import HealthCheck, settings
from schemathesis import CheckFunction
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from athena_pool.api.openapi import build_openapi
from athena_pool.api.settings import AdminSettings, LongPollSettings
from redis_support import RedisServer

# Every generated request comes from 127.0.0.1: the per-IP rate limits (tested on their own elsewhere)
# are raised here, or schemathesis' wrong-credential probes would meet a 429 instead of the 401 it checks.
SETTINGS = api_settings(
    long_poll=LongPollSettings(max_waiters=100, max_waiters_per_ip=100, timeout_s=1.0),
    admin=AdminSettings(login_attempts=1_000_000),
    challenges_per_ip=1_000_000,
    challenges_total=1_000_000,
)
SCHEMA = schemathesis.openapi.from_dict(build_openapi(SETTINGS))


@pytest.fixture(scope="module")
def running_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiThread]:
    server = RedisServer(tmp_path_factory.mktemp("schemathesis-redis"))
    server.start()
    try:
        with ApiThread(server, f"st-{uuid.uuid4().hex[:8]}", SETTINGS) as running:
            yield running
    finally:
        server.kill()


def test_the_served_description_is_the_tested_one(running_api: ApiThread) -> None:
    with urllib.request.urlopen(running_api.url + "/api/v1/openapi.json", timeout=10) as response:
        assert json.loads(response.read()) == build_openapi(SETTINGS)


# Where a schema-valid request can still be refused with 400 for a reason no schema can express: an
# address whose base58 checksum is wrong, a challenge that does not exist, a signature that does not verify.
SEMANTIC = frozenset(
    {"POST /api/v1/miners/{address}/settings/challenge", "POST /api/v1/miners/{address}/settings"}
)


# The reference's notification endpoints: athena-pool has no Telegram bot and sends no e-mail, and says so
# with the documented 501 (checked for its schema like every answer, but a 5xx by design).
UNSUPPORTED = frozenset(
    {
        "GET /get_telegram_notifications",
        "GET /set_telegram_notifications",
        "GET /test_email_notification",
        "GET /test_telegram_notification",
    }
)


def excluded(case: schemathesis.Case[Any]) -> list[CheckFunction]:
    operation = f"{case.method} {case.path}"
    if operation in UNSUPPORTED:
        return [not_a_server_error]
    return [positive_data_acceptance] if operation in SEMANTIC else []


@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: schemathesis.Case[Any], running_api: ApiThread) -> None:
    case.call_and_validate(base_url=running_api.url, excluded_checks=excluded(case))


@SCHEMA.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented_for_the_admin(
    case: schemathesis.Case[Any], running_api: ApiThread
) -> None:
    bearer = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    case.call_and_validate(base_url=running_api.url, headers=bearer, excluded_checks=excluded(case))


def test_description_file(tmp_path: Path) -> None:
    """The description is plain JSON that other tools (and the web front-end) can load."""
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(build_openapi(SETTINGS)))
    assert schemathesis.openapi.from_path(str(path)).get_all_operations()
