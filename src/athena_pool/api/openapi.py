"""The OpenAPI 3.0 description of the API, served at `/api/v1/openapi.json`.

Written by hand next to the handlers it describes; `tests/api` runs schemathesis against it, so every
response of every documented operation must match it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from aiohttp import web

from athena_pool import __version__
from athena_pool.api.ownership.service import EMAIL_PATTERN
from athena_pool.api.pagination import CURSOR_PATTERN
from athena_pool.api.settings import ApiSettings

OPENAPI_KEY = web.AppKey("athena_pool_api_openapi", dict)

Schema = Mapping[str, Any]


def frozen(value: Any) -> Any:
    """Module-level schema pieces are read-only (MappingProxyType, tuples); `thawed` makes JSON of them."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    return value


def thawed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: thawed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thawed(item) for item in value]
    return value


INT: Schema = frozen({"type": "integer"})
NUM: Schema = frozen({"type": "number"})
STR: Schema = frozen({"type": "string"})
BOOL: Schema = frozen({"type": "boolean"})
ANY_OBJECT: Schema = frozen({"type": "object", "additionalProperties": True})
ACCOUNT_PATTERN = r"^[1-9A-HJ-NP-Za-km-z]{10,200}(\.[0-9a-fA-F]{16,64})?$"


def nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


def obj(props: Mapping[str, Schema], optional: tuple[str, ...] = (), extra: bool = False) -> Schema:
    required = [name for name in props if name not in optional]
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": extra}
    if required:
        schema["required"] = required
    return schema


def arr(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(item: Schema) -> Schema:
    return obj({"items": arr(item), "next_cursor": nullable(STR)})


def map_of(value: Schema) -> Schema:
    return {"type": "object", "additionalProperties": value}


CHART = frozen(arr(arr(NUM)))
BLOCK_PROPS: Mapping[str, Schema] = frozen(
    {
        "height": INT,
        "hash": STR,
        "status": {"type": "string", "enum": ["candidate", "unlocked", "orphaned"]},
        "reward_type": {"type": "string", "enum": ["prop", "solo"]},
        "finder": STR,
        "finder_worker": STR,
        "time_ms": INT,
        "network_difficulty": INT,
        "round_shares": INT,
        "effort": nullable(NUM),
        "confirmations_left": INT,
        "reward": nullable(INT),
        "scheme": nullable(STR),
        "pool_fee": nullable(INT),
        "credited": nullable(INT),
        "unlocked_ms": nullable(INT),
        "orphaned_ms": nullable(INT),
    }
)
SHARES = frozen(map_of(INT))

SCHEMAS: Mapping[str, Schema] = frozen(
    {
        "Error": obj({"error": STR}),
        "NotFound": obj({"error": {"type": "string", "enum": ["Not found"]}}),
        "Block": obj(BLOCK_PROPS),
        "BlockDetail": obj({**BLOCK_PROPS, "credits_total": INT, "credited_accounts": INT}),
        "Activity": obj({"hashes": INT, "last_share_ms": INT, "last_seen_ms": INT, "shares": SHARES}),
        "Worker": obj(
            {
                "name": STR,
                "hashrate": NUM,
                "hashrate_1h": NUM,
                "hashrate_6h": nullable(NUM),
                "hashrate_24h": nullable(NUM),
                "hashes": INT,
                "last_share_ms": INT,
                "last_seen_ms": INT,
                "shares": SHARES,
            }
        ),
        "PoolPayment": obj(
            {"time_ms": INT, "tx_hash": STR, "amount": INT, "fee": INT, "payees": INT, "batch": STR}
        ),
        "MinerPayment": obj({"time_ms": INT, "tx_hash": STR, "amount": INT, "fee": INT, "batch": STR}),
        "CreditProof": obj(
            {
                "address": STR,
                "amount": INT,
                "unpaid": INT,
                "unknown": INT,
                "paid": arr(obj({"tx_hash": STR, "amount": INT, "time_ms": INT})),
            }
        ),
        "Challenge": obj({"challenge": STR, "message": STR, "expires_at": INT}),
        "CompatStatus": obj(
            {
                "status": STR,
                "challenge": STR,
                "message": STR,
                "expires_at": INT,
                "level": NUM,
                "email": nullable(STR),
            },
            optional=("challenge", "message", "expires_at", "level", "email"),
        ),
        "CompatStats": obj(
            {
                "health": map_of(
                    obj({"daemon": nullable(STR), "wallet": nullable(STR), "price": nullable(STR)})
                ),
                "pool": obj(
                    {
                        "stats": map_of(STR),
                        "blocks": arr(STR),
                        "totalBlocks": INT,
                        "totalBlocksSolo": INT,
                        "totalDiff": INT,
                        "totalDiffSolo": INT,
                        "totalShares": INT,
                        "totalSharesSolo": INT,
                        "payments": arr(STR),
                        "totalPayments": INT,
                        "totalMinersPaid": INT,
                        "miners": INT,
                        "minersSolo": INT,
                        "workers": INT,
                        "workersSolo": INT,
                        "hashrate": INT,
                        "hashrateSolo": INT,
                        "roundScore": INT,
                        "roundHashes": INT,
                        "lastBlockFound": nullable(STR),
                        "lastBlockFoundSolo": nullable(STR),
                    }
                ),
                "lastblock": obj(
                    {
                        "difficulty": nullable(INT),
                        "height": nullable(INT),
                        "timestamp": nullable(INT),
                        "reward": nullable(INT),
                        "hash": nullable(STR),
                    }
                ),
                "network": obj({"difficulty": INT, "height": INT}),
                "config": ANY_OBJECT,
                "charts": {
                    "type": "object",
                    "properties": {"blocks": map_of(INT), "blocksSolo": map_of(INT)},
                    "additionalProperties": CHART,
                },
                "miner": obj(
                    {"hashrate": INT, "roundScore": INT, "roundHashes": INT},
                    optional=("hashrate", "roundScore", "roundHashes"),
                ),
            }
        ),
        "CompatAddress": obj(
            {
                "stats": {
                    "type": "object",
                    "required": ["hashes", "lastShare", "balance", "paid", "hashrate"],
                    "additionalProperties": True,
                },
                "payments": arr(STR),
                "charts": obj({"hashrate": CHART, "payments": arr(arr({}))}),
                "workers": arr(
                    obj(
                        {
                            "name": STR,
                            "hashrate": INT,
                            "lastShare": INT,
                            "hashes": INT,
                            "hashrate_1h": NUM,
                            "hashrate_6h": NUM,
                            "hashrate_24h": NUM,
                        }
                    )
                ),
            }
        ),
    }
)

ERRORS: Mapping[str, Any] = frozen(
    {
        "400": {
            "description": "Bad parameter. A request line or header over 8 KiB is refused by the HTTP layer "
            "before the API sees it, with a text/plain 400.",
            "content": {"application/json": {"schema": ref("Error")}, "text/plain": {"schema": STR}},
        },
        "429": {"description": "Rate limited", "content": {"application/json": {"schema": ref("Error")}}},
        "503": {
            "description": "Not available yet",
            "content": {"application/json": {"schema": ref("Error")}},
        },
        "default": {"description": "Error", "content": {"application/json": {"schema": ref("Error")}}},
    }
)


def ok(schema: Schema, description: str = "OK", status: str = "200") -> dict[str, Any]:
    return {
        status: {"description": description, "content": {"application/json": {"schema": schema}}},
        **ERRORS,
    }


def unsupported(what: str) -> dict[str, Any]:
    """The answers of a reference endpoint for a feature this pool does not have: 501 with the reason."""
    description = f"Not supported: athena-pool sends no {what} notifications"
    answer = {"description": description, "content": {"application/json": {"schema": ref("Error")}}}
    return {"501": answer, **ERRORS}


def query(name: str, schema: Schema, required: bool = False, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def path(name: str, schema: Schema) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


ADDRESS_QUERY = frozen({"type": "string", "pattern": ACCOUNT_PATTERN})
LENIENT_ADDRESS = frozen({"type": "string"})


def page_params(settings: ApiSettings) -> list[dict[str, Any]]:
    return [
        query("limit", {"type": "integer", "minimum": 1, "maximum": settings.page_size_max}),
        query(
            "cursor",
            {"type": "string", "pattern": CURSOR_PATTERN},
            description="next_cursor of the previous page",
        ),
    ]


ADDRESS = path("address", {"type": "string", "pattern": ACCOUNT_PATTERN})
BLOCK_ID = (
    path("height", {"type": "integer", "minimum": 0, "maximum": 2**53}),
    path("hash", {"type": "string", "pattern": "^[0-9a-f]{64}$"}),
)
ADMIN_SECURITY = frozen([{"bearer": []}, {"session": []}])


def get(
    summary: str,
    responses: dict[str, Any],
    params: Sequence[Mapping[str, Any]] | None = None,
    tag: str = "v1",
    admin: bool = False,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        operation["parameters"] = params
    if admin:
        operation["security"] = ADMIN_SECURITY
    return {"get": operation}


def post(
    summary: str,
    body: Schema | None,
    responses: dict[str, Any],
    params: Sequence[Mapping[str, Any]] | None = None,
    tag: str = "v1",
    admin: bool = False,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        operation["parameters"] = params
    if admin:
        operation["security"] = ADMIN_SECURITY
    return {"post": operation}


def _compat_paths(settings: ApiSettings) -> dict[str, Any]:
    tag = "compatible"
    address_required = [query("address", ADDRESS_QUERY, required=True)]
    settings_params = [
        query("address", ADDRESS_QUERY, required=True),
        query("signature", {"type": "string", "maxLength": 200}),
        query("challenge", {"type": "string", "pattern": "^[0-9a-f]{32}$"}),
    ]
    compat_admin = {"description": "OK", "content": {"application/json": {"schema": ANY_OBJECT}}}
    telegram_params = [
        query("chatId", {"type": "string", "maxLength": 64}, required=True),
        query("type", {"type": "string", "enum": ["miner", "blocks", "default"]}, required=True),
    ]
    paths: dict[str, Any] = {
        "/stats": get(
            "Pool, network and config (reference shape); an unknown or malformed address gives miner {}",
            ok(ref("CompatStats")),
            [query("address", LENIENT_ADDRESS)],
            tag,
        ),
        "/live_stats": get(
            "Like /stats, answered at the next update (long poll, bounded)",
            ok(ref("CompatStats")),
            [query("address", LENIENT_ADDRESS)],
            tag,
        ),
        "/stats_address": get(
            "One address: stats, payments, charts, workers",
            ok({"anyOf": [ref("CompatAddress"), ref("NotFound")]}),
            [
                *address_required,
                query("longpoll", {"type": "string"}, description="true: answer at the next update"),
            ],
            tag,
        ),
        "/get_payments": get(
            "Payments before `time` (unix s), flat [member, score, ...]",
            ok(arr(STR)),
            [
                query("time", {"type": "integer", "minimum": 0, "maximum": 10**11}, required=True),
                query("address", ADDRESS_QUERY),
            ],
            tag,
        ),
        "/get_blocks": get(
            "Matured blocks below `height`, flat [member, score, ...]",
            ok(arr(STR)),
            [query("height", {"type": "integer", "minimum": 0, "maximum": 2**53}, required=True)],
            tag,
        ),
        "/get_top10miners": get(
            "The ten fastest miners (addresses truncated)",
            ok(arr(obj({"miner": STR, "hashrate": INT, "lastShare": STR, "hashes": STR}))),
            tag=tag,
        ),
        "/get_miner_payout_level": get(
            "A miner's payout threshold, in coins", ok(ref("CompatStatus")), address_required, tag
        ),
        "/get_email_notifications": get(
            "A miner's notification e-mail (masked)", ok(ref("CompatStatus")), address_required, tag
        ),
        "/set_miner_payout_level": get(
            "Set the payout threshold: without a signature, returns the message to sign",
            ok(ref("CompatStatus")),
            [
                *settings_params,
                query("level", {"type": "string", "minLength": 1, "maxLength": 40}, required=True),
            ],
            tag,
        ),
        "/set_email_notifications": get(
            "Set or remove the notification e-mail, with the same proof of ownership",
            ok(ref("CompatStatus")),
            [
                *settings_params,
                query("action", {"type": "string", "enum": ["enable", "disable"]}, required=True),
                query("email", {"type": "string", "maxLength": 254}),
            ],
            tag,
        ),
        "/block_explorers": get(
            "Explorer URL templates",
            ok(map_of(obj({"blockchainExplorer": STR, "transactionExplorer": STR}))),
            tag=tag,
        ),
        "/get_apis": get("Merged-mining child APIs (none)", ok(ANY_OBJECT), tag=tag),
        "/get_market": get("Market prices (none)", ok(arr({})), tag=tag),
        "/get_telegram_notifications": get(
            "A Telegram chat's subscription: this pool has no Telegram bot (501)",
            unsupported("telegram"),
            [*telegram_params, query("address", LENIENT_ADDRESS)],
            tag,
        ),
        "/set_telegram_notifications": get(
            "Subscribe a Telegram chat: this pool has no Telegram bot (501)",
            unsupported("telegram"),
            [
                *telegram_params,
                query("action", {"type": "string", "enum": ["enable", "disable"]}, required=True),
                query("address", LENIENT_ADDRESS),
            ],
            tag,
        ),
        "/admin_log": get(
            "Recent lines of one log /admin_monitoring lists (JSON, not the reference's raw text)",
            {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": obj({"file": STR, "lines": arr(STR)})}},
                },
                **ERRORS,
            },
            [query("file", {"type": "string", "minLength": 1, "maxLength": 80}, required=True)],
            tag,
            admin=True,
        ),
        "/test_email_notification": get(
            "Send a test e-mail: this pool sends no e-mail (501)",
            unsupported("e-mail"),
            [query("email", {"type": "string", "maxLength": 254})],
            tag,
            admin=True,
        ),
        "/test_telegram_notification": get(
            "Post a test Telegram message: this pool has no Telegram bot (501)",
            unsupported("telegram"),
            tag=tag,
            admin=True,
        ),
    }
    for admin_path in (
        "/admin_stats",
        "/admin_users",
        "/admin_ports",
        "/admin_monitoring",
        "/miners_hashrate",
        "/workers_hashrate",
    ):
        paths[admin_path] = get(
            f"Reference admin data ({admin_path[1:]})", {"200": compat_admin, **ERRORS}, tag=tag, admin=True
        )
    return paths


def _v1_public_paths(settings: ApiSettings) -> dict[str, Any]:
    v1 = "/api/v1"
    pool = obj(
        {
            "updated_ms": INT,
            "hashrate": obj({"prop": NUM, "solo": NUM, "total": NUM}),
            "miners": obj({"prop": INT, "solo": INT, "total": INT}),
            "workers": obj({"prop": INT, "solo": INT}),
            "connections": INT,
            "round": obj({"hashes": INT, "effort": nullable(NUM)}),
            "blocks": obj(
                {
                    "found_prop": INT,
                    "found_solo": INT,
                    "candidates": INT,
                    "matured": INT,
                    "last_found_ms": obj({"prop": nullable(INT), "solo": nullable(INT)}),
                }
            ),
            "luck": obj({"blocks": INT, "effort": nullable(NUM)}),
            "shares": SHARES,
            "payments": obj({"total": INT, "accounts_paid": INT, "paid_total": INT}),
        }
    )
    network = obj(
        {
            "height": INT,
            "difficulty": INT,
            "hashrate": NUM,
            "last_block_hash": STR,
            "last_block_time_s": INT,
            "updated_ms": INT,
        }
    )
    port = obj(
        {
            "port": INT,
            "difficulty": INT,
            "description": STR,
            "fixed_difficulty": nullable(INT),
            "tls": BOOL,
            "connections": INT,
        }
    )
    block_detail = dict(ref("BlockDetail"))
    ranked = obj({"rank": INT, "miner": STR, "hashrate": NUM, "workers": INT})
    ban = obj(
        {
            "id": STR,
            "scope": {"type": "string", "enum": ["ip", "wallet", "worker"]},
            "ip": STR,
            "address": STR,
            "worker": STR,
            "reason": STR,
            "created_ms": INT,
            "until_ms": INT,
        }
    )
    metrics = {
        "200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": STR}}}
    }
    return {
        f"{v1}/pool": get("Pool statistics", ok(pool)),
        f"{v1}/network": get("The network as the pool sees it", ok(network)),
        f"{v1}/config": get("Coin, fees, payments, ports, login syntax, explorers", ok(ANY_OBJECT)),
        f"{v1}/ports": get("Public stratum ports with their connections", ok(obj({"items": arr(port)}))),
        f"{v1}/charts/pool": get(
            "Pool charts: [time_s, value, samples] points (blocks, blocks_solo: blocks found per step)",
            ok(obj({"step_s": INT, "series": map_of(CHART)})),
        ),
        f"{v1}/blocks": get(
            "Blocks found, newest first",
            ok(page_of(ref("Block"))),
            [*page_params(settings), query("status", {"type": "string", "enum": ["candidate", "matured"]})],
        ),
        f"{v1}/blocks/{{height}}/{{hash}}": get("One block", ok(block_detail), BLOCK_ID),
        f"{v1}/blocks/{{height}}/{{hash}}/credits": get(
            "The block's payout proof: credits per address, and the payments that paid them (FIFO)",
            ok(page_of(ref("CreditProof"))),
            [*BLOCK_ID, *page_params(settings)],
        ),
        f"{v1}/payments": get(
            "Pool payments, newest first", ok(page_of(ref("PoolPayment"))), page_params(settings)
        ),
        f"{v1}/miners": get(
            "Active miners by hashrate (addresses truncated)", ok(page_of(ranked)), page_params(settings)
        ),
        f"{v1}/bans": get(
            "Live bans, longest first (IPs masked, addresses truncated)",
            ok(page_of(ban)),
            page_params(settings),
        ),
        "/health": get(
            "Health: ok, degraded or down (503)",
            ok(obj({"status": STR, "checks": ANY_OBJECT})),
            tag="operations",
        ),
        f"{v1}/openapi.json": get("This description", ok(ANY_OBJECT), tag="operations"),
        "/metrics": {"get": {"summary": "Prometheus metrics", "tags": ["operations"], "responses": metrics}},
    }


def _v1_miner_paths(settings: ApiSettings) -> dict[str, Any]:
    miner = "/api/v1/miners/{address}"
    details = obj(
        {
            "address": STR,
            "hashrate": obj({"current": NUM, "1h": NUM, "6h": NUM, "24h": NUM}),
            "activity": ref("Activity"),
            "money": obj(
                {"balance": INT, "pending": INT, "paid": INT, "fees_charged": INT, "payout_threshold": INT}
            ),
            "round": obj({"prop": INT, "solo": INT}),
            "workers": obj({"online": INT, "total": INT}),
        }
    )
    chart = obj({"step_s": INT, "hashrate": CHART, "payments": arr(arr(INT))})
    credit = obj({"height": INT, "hash": STR, "amount": INT, "scheme": STR, "time_ms": INT})
    current = obj(
        {
            "payout_threshold": INT,
            "payout_threshold_own": nullable(INT),
            "payout_threshold_default": INT,
            "payout_threshold_min": INT,
            "payout_threshold_max": nullable(INT),
            "email": nullable(STR),
        }
    )
    threshold: dict[str, Any] = {"type": "integer", "minimum": settings.payout.min_atomic}
    if settings.payout.max_atomic is not None:
        threshold["maximum"] = settings.payout.max_atomic
    email: Schema = {"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN}
    change = obj({"payout_threshold": threshold, "email": email}, optional=("payout_threshold", "email"))
    proof = obj(
        {
            "challenge": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "signature": {"type": "string", "maxLength": 200},
        }
    )
    applied = obj({"applied": obj({"payout_threshold": nullable(INT), "email": nullable(STR)})})
    return {
        miner: get("One address: hashrate, activity, money, round share", ok(details), [ADDRESS]),
        f"{miner}/workers": get(
            "Its workers, most recently seen first",
            ok(page_of(ref("Worker"))),
            [ADDRESS, *page_params(settings)],
        ),
        f"{miner}/chart": get("Its hashrate chart and payments", ok(chart), [ADDRESS]),
        f"{miner}/payments": get(
            "Its payments (tx hashes), newest first",
            ok(page_of(ref("MinerPayment"))),
            [ADDRESS, *page_params(settings)],
        ),
        f"{miner}/credits": get(
            "Blocks that credited it, newest first", ok(page_of(credit)), [ADDRESS, *page_params(settings)]
        ),
        f"{miner}/settings/challenge": post(
            "Ask for a settings change: returns the message to sign with a key of the address",
            change,
            ok(ref("Challenge"), "Challenge issued", "201"),
            [ADDRESS],
        ),
        f"{miner}/settings": get("Its settings (e-mail masked)", ok(current), [ADDRESS])
        | post(
            "Apply a change: the challenge and the signature of its message", proof, ok(applied), [ADDRESS]
        ),
    }


def _v1_admin_paths(settings: ApiSettings) -> dict[str, Any]:
    admin = "/api/v1/admin"
    login = obj({"secret": {"type": "string", "maxLength": 1024}})
    session = obj({"ok": BOOL, "csrf_token": STR, "expires_ms": INT})
    logs = obj(
        {
            "items": arr(
                obj(
                    {
                        "t": nullable(INT),
                        "level": nullable(STR),
                        "logger": nullable(STR),
                        "message": nullable(STR),
                        "instance": nullable(STR),
                    }
                )
            )
        }
    )
    tx_hash: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    resolve: Schema = {
        "oneOf": [
            obj({"action": {"type": "string", "enum": ["paid"]}, "tx_hash": tx_hash}),
            obj({"action": {"type": "string", "enum": ["not_sent"]}}),
        ]
    }
    level = query("level", {"type": "string", "enum": ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]})
    batch_id = path("batch_id", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"})
    ban_id = path("ban_id", {"type": "string", "pattern": "^[0-9a-f]{32}$"})
    admin_ban = obj(
        {
            "id": STR,
            "scope": {"type": "string", "enum": ["ip", "wallet", "worker"]},
            "ip": STR,
            "address": STR,
            "worker": STR,
            "reason": STR,
            "created_ms": INT,
            "until_ms": INT,
            "source": STR,
        }
    )
    ip: Schema = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
    common = {
        "ip": ip,
        "reason": {"type": "string", "maxLength": 200},
        "duration_s": {"type": "integer", "minimum": 1, "maximum": 365 * 86_400},
    }
    address = {"type": "string", "pattern": ACCOUNT_PATTERN}
    worker = {"type": "string", "minLength": 1, "maxLength": 64}
    new_ban = {
        "oneOf": [
            obj({"scope": {"type": "string", "enum": ["ip"]}, **common}, optional=("reason",)),
            obj(
                {"scope": {"type": "string", "enum": ["wallet"]}, "address": address, **common},
                optional=("reason",),
            ),
            obj(
                {
                    "scope": {"type": "string", "enum": ["worker"]},
                    "address": address,
                    "worker": worker,
                    **common,
                },
                optional=("reason",),
            ),
        ]
    }
    return {
        f"{admin}/login": post(
            "Log in with the admin secret: sets the session cookie", login, ok(session), tag="admin"
        ),
        f"{admin}/logout": post("End the session", None, ok(obj({"ok": BOOL})), tag="admin", admin=True),
        f"{admin}/stats": get(
            "Money, ledger, batches, blocks, miners", ok(ANY_OBJECT), tag="admin", admin=True
        ),
        f"{admin}/miners": get(
            "Every miner, most recently seen first",
            ok(page_of(ANY_OBJECT)),
            page_params(settings),
            "admin",
            True,
        ),
        f"{admin}/ports": get(
            "Ports and connections per stratum instance", ok(ANY_OBJECT), tag="admin", admin=True
        ),
        f"{admin}/health": get(
            "Redis, daemon, wallet, stratum instances, unlocker", ok(ANY_OBJECT), tag="admin", admin=True
        ),
        f"{admin}/logs": get(
            "Recent log lines, newest first",
            ok(logs),
            [query("limit", {"type": "integer", "minimum": 1, "maximum": max(settings.log_lines, 1)}), level],
            "admin",
            True,
        ),
        f"{admin}/bans": get(
            "Live bans, in full", ok(page_of(admin_ban)), page_params(settings), "admin", True
        )
        | post(
            "Ban by hand",
            new_ban,
            ok({"type": "object", "properties": {"ban": admin_ban}}, "Banned", "201"),
            tag="admin",
            admin=True,
        ),
        f"{admin}/bans/{{ban_id}}/lift": post(
            "Lift a ban, in every stratum process", None, ok(obj({"lifted": STR})), [ban_id], "admin", True
        ),
        f"{admin}/payments/review": get(
            "Payment batches in manual review", ok(page_of(ANY_OBJECT)), page_params(settings), "admin", True
        ),
        f"{admin}/payments/review/{{batch_id}}/resolve": post(
            "Resolve a batch in manual review: paid (with its tx hash) or not sent (back to the balances)",
            resolve,
            ok(obj({"batch": nullable(ANY_OBJECT)})),
            [batch_id],
            "admin",
            True,
        ),
    }


def build_openapi(settings: ApiSettings) -> dict[str, Any]:
    schemas = dict(SCHEMAS)
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "athena-pool API",
            "version": __version__,
            "description": "The reference pool's endpoints (tag `compatible`), and the versioned API. "
            "Lists are pages: `limit` and `cursor` (the previous page's `next_cursor`). Errors are "
            '`{"error": message}` with a matching status. Amounts are integers of atomic units; times are ms '
            "unless named _s.",
        },
        "paths": {
            **_compat_paths(settings),
            **_v1_public_paths(settings),
            **_v1_miner_paths(settings),
            **_v1_admin_paths(settings),
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The admin secret"},
                "session": {"type": "apiKey", "in": "cookie", "name": "athena_admin"},
            },
        },
    }
    result: dict[str, Any] = thawed(document)
    return result
