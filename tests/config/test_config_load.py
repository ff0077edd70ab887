"""athena-pool's own config format: coin defaults, unknown keys, one line per problem, secrets."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from config_support import ATHENA_ADDRESS, REPO, TRTL_ADDRESS, XMR_ADDRESS, write_json

from athena_pool.config import (
    ConfigError,
    LoadedConfig,
    embedded_default,
    load,
    masked_dump,
    parse,
    placeholder_problems,
    secret_values,
)

NO_ENV: dict[str, str] = {}
ADMIN = "a-long-enough-admin-secret-0123456789"


def problems_of(data: Any, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(data, "test.json", NO_ENV if environ is None else environ)
    return caught.value.problems


def minimal(coin: str = "athena", address: str = ATHENA_ADDRESS, **more: Any) -> dict[str, Any]:
    return {"coin": coin, "pool_address": address, **more}


def test_the_athena_example_has_the_recipes_ports_and_services() -> None:
    config = load(REPO / "config" / "athena.json", NO_ENV).config
    ports = [(p.port, p.difficulty, p.description) for p in config.stratum.ports]
    assert ports == [
        (3335, 5000, "Low end hardware"),
        (5557, 15000, "Mid range hardware"),
        (7779, 50000, "High end hardware"),
    ]
    assert config.api.port == 8117
    assert config.daemon.url == "http://127.0.0.1:12001"
    assert config.payments.wallet.url == "http://127.0.0.1:8070"
    assert config.payments.wallet.dialect == "walletd"
    assert config.logging.files.directory == Path("/var/log/athena-pool")
    assert config.logging.files.flush_interval == 5.0
    assert placeholder_problems(config), "the example's address must be refused by `run`"


@pytest.mark.parametrize(
    ("coin", "address", "daemon", "wallet", "dialect", "min_payout", "fee", "denomination"),
    [
        ("athena", ATHENA_ADDRESS, 12001, 8070, "walletd", 100_000, 10_000, 1),
        ("turtlecoin", TRTL_ADDRESS, 11898, 8070, "walletd", 10_000, 1_000, 1),
        ("monero", XMR_ADDRESS, 18081, 18082, "monero", 100_000_000_000, 100_000_000, 100_000_000),
    ],
)
def test_defaults_follow_the_coin_profile(
    coin: str,
    address: str,
    daemon: int,
    wallet: int,
    dialect: str,
    min_payout: int,
    fee: int,
    denomination: int,
) -> None:
    config = parse(minimal(coin, address), environ=NO_ENV).config
    assert config.coin == coin
    assert config.daemon.url == f"http://127.0.0.1:{daemon}"
    assert config.payments.wallet.url == f"http://127.0.0.1:{wallet}"
    assert config.payments.wallet.dialect == dialect
    assert (config.payments.min_payout, config.payments.fee) == (min_payout, fee)
    assert config.payments.denomination == denomination


def test_the_file_wins_over_the_coin_defaults_and_the_symbol_names_the_coin() -> None:
    data = minimal("TRTL", TRTL_ADDRESS, daemon={"url": "http://node:1234"}, payments={"fee": 50})
    config = parse(data, environ=NO_ENV).config
    assert config.coin == "turtlecoin"
    assert config.daemon.url == "http://node:1234"
    assert config.payments.fee == 50
    assert config.payments.min_payout == 10_000  # the profile's, the file said nothing


def test_storage_limits_are_configurable_and_checked() -> None:
    config = parse(minimal(redis={"limits": {"pplns_max_entries": 6_000_000}}), environ=NO_ENV).config
    assert config.redis.limits.pplns_max_entries == 6_000_000
    assert config.redis.limits.hashrate_window_s == 3_600  # the rest keep their defaults
    problems = problems_of(minimal(redis={"limits": {"pplns_max_entries": 0}}))
    assert problems == ["redis.limits: StoreLimits.pplns_max_entries must be at least 1"]


def test_a_typo_is_an_error_naming_the_key_and_the_likely_one() -> None:
    data = minimal(stratum={"ports": [{"port": 3335, "dificulty": 500}]}, payments={"intervall": 60})
    problems = problems_of(data)
    assert "stratum.ports[0].dificulty: unknown key (did you mean 'difficulty'?)" in problems
    assert "payments.intervall: unknown key (did you mean 'interval'?)" in problems
    assert "stratum.ports[0].difficulty: required, missing" in problems


def test_keys_starting_with_an_underscore_are_comments() -> None:
    data = minimal(_comment=["anything"], api={"_why": "behind nginx", "port": 8118})
    assert parse(data, environ=NO_ENV).config.api.port == 8118


def test_every_problem_is_reported_at_once_one_line_per_key() -> None:
    data = minimal(
        coin="athena",
        stratum={"ports": [{"port": "x", "difficulty": 5}], "cluster_workers": "many"},
        payments={"min_payout": 1.5, "wallet": {"dialect": "walletdd", "rpc_password": 1234567890}},
        logging={"files": {"flush_interval": -1}},
        bogus=1,
    )
    problems = problems_of(data)
    assert problems[0].startswith("bogus: unknown key (known: coin, pool_address,")
    assert (
        'stratum.ports[0].port: should be a valid integer, unable to parse string as an integer (got "x")'
        in problems
    )
    assert (
        "stratum.cluster_workers: should be a valid integer, unable to parse string as an integer "
        "or should be 'auto' (got \"many\")"
    ) in problems
    assert (
        "payments.min_payout: should be a valid integer, got a number with a fractional part (got 1.5)"
        in problems
    )
    assert "payments.wallet.dialect: should be 'walletd' or 'monero' (got \"walletdd\")" in problems
    assert "logging.files: flush_interval must not be negative" in problems
    # A secret's value is never repeated in a problem line.
    assert "payments.wallet.rpc_password: should be a valid string" in problems
    assert not any("1234567890" in line for line in problems)
    assert len(problems) == 7


def test_coin_address_ports_and_dialect_are_checked_together() -> None:
    assert problems_of(minimal("dogecoin")) == [
        "coin: unknown coin 'dogecoin'; known coins: athena, turtlecoin, monero"
    ]
    problems = problems_of(
        minimal(
            "athena",
            TRTL_ADDRESS,
            stratum={"ports": [{"port": 3333, "difficulty": 1}, {"port": 3333, "difficulty": 2}]},
            api={"port": 3333},
            payments={"wallet": {"dialect": "monero"}},
        )
    )
    assert problems[0].startswith("pool_address: not a valid athena address")
    assert problems[1:] == [
        "stratum.ports[1].port: 3333 is also stratum.ports[0]",
        "api.port: 3333 is also a stratum port",
        "payments.wallet.dialect: 'monero' is monero-wallet-rpc; athena uses walletd",
    ]


def test_toml_and_json_give_the_same_config(tmp_path: Path) -> None:
    toml = tmp_path / "pool.toml"
    toml.write_text(
        f'coin = "athena"\npool_address = "{ATHENA_ADDRESS}"\n'
        "[[stratum.ports]]\nport = 3335\ndifficulty = 5000\n"
        '[logging.console]\nlevel = "warn"\n'
    )
    as_json = write_json(
        tmp_path / "pool.json",
        minimal(
            stratum={"ports": [{"port": 3335, "difficulty": 5000}]}, logging={"console": {"level": "warn"}}
        ),
    )
    from_toml, from_json = load(toml, NO_ENV).config, load(as_json, NO_ENV).config
    assert from_toml == from_json
    assert from_toml.logging.console.level == "WARNING"


def test_unreadable_and_malformed_files_are_one_clear_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"coin": "athena",\n  "pool_address": }')
    with pytest.raises(ConfigError) as caught:
        load(broken, NO_ENV)
    assert caught.value.problems == ["not valid JSON: Expecting value at line 2 column 19"]
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "missing.json", NO_ENV)
    assert caught.value.problems == ["cannot read: No such file or directory"]
    with pytest.raises(ConfigError) as caught:
        parse([1, 2], "list.json", NO_ENV)
    assert caught.value.problems == ["the file must hold one object (mapping) of settings"]


def test_secrets_come_from_the_environment_or_files(tmp_path: Path) -> None:
    wallet_file = tmp_path / "wallet_rpc_password"
    wallet_file.write_text("s3cret wallet pass \n")  # one newline stripped, the trailing space kept
    admin_file = tmp_path / "admin_secret"
    admin_file.write_text(ADMIN + "\n")
    env = {
        "ATHENA_POOL_WALLET_RPC_PASSWORD_FILE": str(wallet_file),
        "ATHENA_POOL_ADMIN_SECRET_FILE": str(admin_file),
    }
    data = minimal(payments={"wallet": {"rpc_password": "from-the-file"}})
    loaded = parse(data, environ=env)
    assert loaded.config.payments.wallet.rpc_password == "s3cret wallet pass "
    assert loaded.config.secrets.admin_secret == ADMIN
    assert loaded.secret_sources == {
        "payments.wallet.rpc_password": f"ATHENA_POOL_WALLET_RPC_PASSWORD_FILE ({wallet_file})",
        "secrets.admin_secret": f"ATHENA_POOL_ADMIN_SECRET_FILE ({admin_file})",
    }
    # Set by value instead of by file.
    by_value = parse(minimal(), environ={"ATHENA_POOL_WALLET_RPC_PASSWORD": "pw-by-value"})
    assert by_value.config.payments.wallet.rpc_password == "pw-by-value"
    # In the file only: used, with a warning.
    in_file = parse(data, environ=NO_ENV)
    assert in_file.config.payments.wallet.rpc_password == "from-the-file"
    assert in_file.warnings == (
        "payments.wallet.rpc_password: written in the config file; "
        "prefer ATHENA_POOL_WALLET_RPC_PASSWORD_FILE",
    )
    # repr never shows the admin secret.
    assert ADMIN not in repr(loaded.config)


def test_secret_problems_name_the_variable_never_the_value(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    short = tmp_path / "short"
    short.write_text("tooshort\n")
    problems = problems_of(
        minimal(),
        {
            "ATHENA_POOL_WALLET_RPC_PASSWORD": "x1",
            "ATHENA_POOL_WALLET_RPC_PASSWORD_FILE": str(empty),
            "ATHENA_POOL_ADMIN_SECRET_FILE": str(short),
        },
    )
    assert problems == [
        "ATHENA_POOL_WALLET_RPC_PASSWORD and ATHENA_POOL_WALLET_RPC_PASSWORD_FILE are both set: set only one",
        f"admin secret (from ATHENA_POOL_ADMIN_SECRET_FILE ({short})): "
        "the admin secret must be 16..1024 characters long",
    ]
    assert problems_of(minimal(), {"ATHENA_POOL_WALLET_RPC_PASSWORD_FILE": str(empty)}) == [
        f"ATHENA_POOL_WALLET_RPC_PASSWORD_FILE: {empty} is empty"
    ]
    missing = tmp_path / "nope"
    assert problems_of(minimal(), {"ATHENA_POOL_ADMIN_SECRET_FILE": str(missing)}) == [
        f"ATHENA_POOL_ADMIN_SECRET_FILE: cannot read {missing}: No such file or directory"
    ]


def test_the_api_secret_settings_are_honoured(tmp_path: Path) -> None:
    secret_file = tmp_path / "admin"
    secret_file.write_text(ADMIN)
    from_setting = parse(minimal(api={"admin": {"secret_file": str(secret_file)}}), environ=NO_ENV)
    assert from_setting.config.secrets.admin_secret == ADMIN
    renamed = parse(minimal(api={"admin": {"secret_env": "MY_ADMIN"}}), environ={"MY_ADMIN": ADMIN + "x"})
    assert renamed.config.secrets.admin_secret == ADMIN + "x"


def test_show_masks_every_secret_and_the_rest_round_trips() -> None:
    env = {"ATHENA_POOL_WALLET_RPC_PASSWORD": "wallet-pass-123", "ATHENA_POOL_ADMIN_SECRET": ADMIN}
    data = minimal(
        redis={"url": "redis://:redis-pass-456@cache:6379/2"},
        daemon={"url": "http://rpc:daemon-pass-789@node:12001"},
        unlocker={"pool_fee_percent": 0.8},
    )
    loaded = parse(data, environ=env)
    dumped = masked_dump(loaded.config)
    text = json.dumps(dumped)
    for secret in ("wallet-pass-123", ADMIN, "redis-pass-456", "daemon-pass-789"):
        assert secret not in text
    assert dumped["payments"]["wallet"]["rpc_password"] == "***"
    assert dumped["secrets"]["admin_secret"] == "***"
    assert dumped["redis"]["url"] == "redis://:***@cache:6379/2"
    assert dumped["daemon"]["url"] == "http://rpc:***@node:12001"
    assert dumped["unlocker"]["pool_fee_percent"] == "0.8"
    # What show prints is a config again (secrets aside).
    dumped["payments"]["wallet"]["rpc_password"] = None
    dumped["secrets"]["admin_secret"] = None
    dumped["redis"]["url"] = "redis://cache:6379/2"
    dumped["daemon"]["url"] = "http://node:12001"
    again = parse(dumped, environ=NO_ENV).config
    assert again.unlocker.pool_fee_percent == Decimal("0.8")
    assert again.stratum == loaded.config.stratum
    expected = [ADMIN, "daemon-pass-789", "redis-pass-456", "wallet-pass-123"]
    assert sorted(secret_values(loaded.config)) == sorted(expected)


def test_the_devnet_default_password_is_not_masked_in_logs() -> None:
    assert secret_values(embedded_default()) == []
    assert LoadedConfig(embedded_default()).warnings == ()
