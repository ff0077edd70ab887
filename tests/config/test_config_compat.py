"""A cryptonote-nodejs-pool config.json accepted as it is: exact translation, one warning per ignored key."""

from __future__ import annotations

import copy
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from config_support import ATHENA_ADDRESS, REFERENCE_EXAMPLE, XMR_ADDRESS, reference_config

from athena_pool.config import ConfigError, load, parse, secret_values
from athena_pool.config_compat import is_reference_format, translate_reference
from athena_pool.stratum.settings import ProxyMode

NO_ENV: dict[str, str] = {}
EXAMPLE_TRTL_ADDRESS = (
    "TRTLuzgvaMv5bBhyZFBjhWdJ1qud7VWTCVtmcBPNes3S6omd2DUH9cnEXicHVH9sfN2HYWEDsAEJUS48MEzWoaVH8JU5Ghirb7S"
)


def warned_keys(warnings: tuple[str, ...]) -> list[str]:
    return [line.split(": ", 1)[0] for line in warnings]


def test_the_reference_example_translates_exactly() -> None:
    loaded = load(REFERENCE_EXAMPLE, NO_ENV)
    config = loaded.config
    assert loaded.reference_format
    assert config.coin == "turtlecoin"
    assert config.pool_address == EXAMPLE_TRTL_ADDRESS
    # blockRefreshInterval is in milliseconds, minerTimeout in seconds.
    assert config.jobs.refresh_interval == 1.0
    assert config.stratum.limits.idle_timeout == 900.0
    assert config.stratum.cluster_workers == "auto"
    ports = config.stratum.ports
    assert [(p.port, p.difficulty, p.description, p.hidden, p.tls) for p in ports] == [
        (3333, 5000, "Low end hardware", False, False),
        (4444, 15000, "Mid range hardware", False, False),
        (5555, 25000, "High end hardware", False, False),
        (8888, 25000, "Hidden port", True, False),
        (9999, 20000, "SSL connection", False, True),
    ]
    for port in ports:
        assert port.proxy_protocol is ProxyMode.OFF
        vardiff = port.vardiff
        assert (vardiff.min_difficulty, vardiff.max_difficulty) == (100, 100_000_000)
        assert (vardiff.target_time, vardiff.retarget_time) == (30.0, 30.0)
        assert (vardiff.variance_percent, vardiff.max_jump_percent) == (30.0, 100.0)
    assert config.stratum.tls is not None
    assert (config.stratum.tls.cert_file, config.stratum.tls.key_file) == (
        Path("cert.pem"),
        Path("privkey.pem"),
    )
    trust = config.stratum.trust
    assert (trust.enabled, trust.min_verified_percent, trust.step_percent) == (True, 10.0, 3.0)
    assert (trust.trusted_after, trust.penalty_shares) == (10, 30)
    bans = config.stratum.protection.bans
    # invalid/valid >= 25 % is invalid/all >= 20 %.
    assert (bans.enabled, bans.ban_time, bans.check_threshold, bans.invalid_percent) == (
        True,
        600.0,
        30,
        20.0,
    )


def test_amounts_fees_and_intervals_keep_their_units() -> None:
    config = load(REFERENCE_EXAMPLE, NO_ENV).config
    payments = config.payments
    assert payments.enabled and payments.interval == 1800.0
    assert (payments.min_payout, payments.fee, payments.denomination) == (100_000, 1_000, 100)
    assert (payments.max_addresses, payments.max_transaction_amount, payments.mixin) == (50, 100_000_000, 3)
    assert payments.fee_per_destination and payments.miner_pays_fee
    assert payments.wallet.dialect == "walletd"
    assert payments.wallet.url == "http://127.0.0.1:8070"
    assert payments.wallet.rpc_password == "change-me-wallet-rpc-password"
    unlocker = config.unlocker
    assert unlocker.enabled and unlocker.interval == 30.0 and unlocker.unlock_depth == 40
    assert unlocker.scheme == "prop"  # the reference's own scheme
    assert unlocker.pool_fee_percent == Decimal("0.8")  # exactly, not 0.8000000000000000444
    assert unlocker.solo_fee_percent == Decimal("0.5")
    assert unlocker.finder_reward_percent == Decimal("0.2")
    assert unlocker.donation_percent == 0
    assert config.daemon.url == "http://127.0.0.1:11898"
    assert config.redis.url == "redis://127.0.0.1:6379/0"
    api = config.api
    assert (api.host, api.port, api.update_interval_s, api.hashrate_window_s) == ("127.0.0.1", 8117, 5.0, 600)
    assert api.compat_list_size == 30
    assert api.trusted_proxies == ("127.0.0.1/32", "::1/128")
    assert api.pool.pool_host == "trtl.pool.example.com"
    assert api.pool.blockchain_explorer == "https://explorer.example.com/block.html?hash={id}"
    assert (api.charts.interval_s, api.charts.step_s, api.charts.retention_s) == (60.0, 1800, 86400)
    assert api.charts.blocks_days == 30
    assert config.secrets.admin_secret == "change-me-to-a-long-random-secret"
    logging = config.logging
    assert (logging.files.directory, logging.files.level, logging.files.flush_interval) == (
        Path("logs"),
        "INFO",
        5.0,
    )
    assert (logging.console.level, logging.console.colors) == ("INFO", True)


def test_one_warning_per_key_ignored_or_read_differently() -> None:
    warnings = load(REFERENCE_EXAMPLE, NO_ENV).warnings
    keys = warned_keys(warnings)
    assert [key for key, count in Counter(keys).items() if count > 1] == []
    for key in (
        "poolServer.clusterForks",
        "cnVariant",
        "daemonType",
        "hashingUtil",
        "poolServer.sslCA",
        "poolServer.paymentId.validations",
        "poolServer.paymentId.addressSeparator",
        "poolServer.fixedDiff.addressSeparator",
        "poolServer.banning.invalidPercent",
        "poolServer.varDiff",
        "blockUnlocker.devDonation",
        "api.password",
        "api.trustProxyIP",
        "redis.cleanupInterval",
        "notifications",
        "monitoring",
        "prices",
        "coin",
    ):
        assert key in keys, key
    # Keys that switch nothing on, and keys translated exactly, are not warned about.
    quiet = (
        "childPools",
        "poolServer.mergedMining",
        "email",
        "telegram",
        "blockUnlocker.networkFee",
        "poolServer.slushMining",
        "payments.priority",
        "api.ssl",
        "api.sslCert",
        "payments.minPayment",
        "poolServer.blockRefreshInterval",
        "blockUnlocker.poolFee",
    )
    for key in quiet:
        assert key not in keys, key
    separator = warnings[keys.index("poolServer.paymentId.addressSeparator")]
    assert "ADDRESS.PAYMENTID" in separator
    assert "ADDRESS+DIFF" in warnings[keys.index("poolServer.fixedDiff.addressSeparator")]


@pytest.mark.parametrize(
    ("forks", "workers", "warned"),
    [("auto", "auto", True), (4, 4, True), (1, 1, False), (0, 1, False), (None, 1, False)],
)
def test_cluster_forks_become_stratum_cluster_workers(forks: Any, workers: Any, warned: bool) -> None:
    data = reference_config()
    data["poolServer"]["clusterForks"] = forks  # the reference runs one process for 0 or null
    loaded = parse(data, "config.json", NO_ENV)
    assert loaded.config.stratum.cluster_workers == workers
    warnings = [w for w in loaded.warnings if w.startswith("poolServer.clusterForks: ")]
    assert len(warnings) == warned
    if warned:
        assert "--roles pool" in warnings[0] and "redis.url" in warnings[0]


def test_cluster_forks_that_are_neither_a_number_nor_auto_are_an_error() -> None:
    data = reference_config()
    data["poolServer"]["clusterForks"] = "many"
    with pytest.raises(ConfigError) as caught:
        parse(data, "config.json", NO_ENV)
    assert any(
        problem.startswith("stratum.cluster_workers (from poolServer.clusterForks): ")
        for problem in caught.value.problems
    ), caught.value.problems


def test_the_original_reference_config_with_a_coin_athena_pool_lacks_is_refused() -> None:
    data = reference_config()
    data.update(coin="mutex", symbol="MUTX", coinUnits=1_000_000_000)
    with pytest.raises(ConfigError) as caught:
        parse(data, "config.json", NO_ENV)
    assert caught.value.problems == [
        "coin: 'mutex' (symbol 'MUTX') is not a coin athena-pool supports (athena, turtlecoin, monero)"
    ]


def test_coin_units_that_disagree_with_the_profile_are_an_error() -> None:
    data = reference_config()
    data["coinUnits"] = 1_000_000
    with pytest.raises(ConfigError) as caught:
        parse(data, "config.json", NO_ENV)
    assert caught.value.problems == [
        "coinUnits: 1000000, but turtlecoin has 100 atomic units per coin "
        "(every amount in this file would mean something else)"
    ]


def test_problems_name_the_reference_key_they_came_from() -> None:
    data = reference_config()
    data["poolServer"]["ports"][1]["difficulty"] = "lots"
    data["blockUnlocker"]["depth"] = 0
    data["api"]["hashrateWindow"] = 5
    with pytest.raises(ConfigError) as caught:
        parse(data, "config.json", NO_ENV)
    problems = caught.value.problems
    assert (
        "stratum.ports[1].difficulty (from poolServer.ports[1].difficulty): should be a valid integer, "
        'unable to parse string as an integer (got "lots")'
    ) in problems
    assert "unlocker (from blockUnlocker): unlocker.unlock_depth must be at least 1" in problems
    assert "api: api: update_interval_s > 0 and hashrate_window_s in 10..86400" in problems


def test_miner_pays_fee_needs_dynamic_fees_and_a_ring_holds_the_mixins() -> None:
    data = reference_config()
    data["payments"]["dynamicTransferFee"] = False
    del data["payments"]["mixin"]
    data["payments"]["ringSize"] = 4
    loaded = parse(data, "config.json", NO_ENV)
    assert loaded.config.payments.mixin == 3
    assert not loaded.config.payments.miner_pays_fee
    assert not loaded.config.payments.fee_per_destination
    assert "payments.minerPayFee" in warned_keys(loaded.warnings)


def test_a_monero_reference_config() -> None:
    data = reference_config()
    data.update(coin="monero", symbol="XMR", coinUnits=1_000_000_000_000)
    data["poolServer"]["poolAddress"] = XMR_ADDRESS
    data["poolServer"]["paymentId"] = {"addressSeparator": "."}
    data["daemon"]["port"] = 18081
    data["wallet"] = {"host": "wallet.internal", "port": 18082}
    data["redis"]["auth"] = "redis pass/word"
    loaded = parse(data, "monero.json", NO_ENV)
    config = loaded.config
    assert config.payments.max_addresses == 15
    assert config.payments.mixin is None
    assert config.payments.wallet.dialect == "monero"
    assert config.payments.wallet.url == "http://wallet.internal:18082"
    assert config.redis.url == "redis://:redis%20pass%2Fword@127.0.0.1:6379/0"
    assert "redis%20pass%2Fword" in secret_values(config)
    warnings = dict(line.split(": ", 1) for line in loaded.warnings)
    assert warnings["payments.maxAddresses"] == "lowered to 15 (Monero's most payees per transaction)"
    assert warnings["payments.mixin"] == "ignored; Monero fixes the ring size"
    assert "takes no payment ids" in warnings["poolServer.paymentId.addressSeparator"]


def test_small_reference_details() -> None:
    data: dict[str, Any] = {
        "coin": "athena",
        "poolServer": {
            "poolAddress": ATHENA_ADDRESS,
            "ports": [{"port": 3335, "difficulty": 100, "bogus": 1}],
            "banning": {"enabled": False, "time": 60},
            "shareTrust": {"enabled": False, "min": 1},
            "frobnicate": 3,
        },
        "api": {"password": "short", "payments": 20, "blocks": 30},
        "daemon": {"host": "10.0.0.5", "port": 443},
        "wallet": {"host": "::1", "port": 8070},
    }
    loaded = parse(data, "small.json", NO_ENV)
    config = loaded.config
    assert config.daemon.url == "https://10.0.0.5:443"
    assert config.payments.wallet.url == "http://[::1]:8070"
    assert not config.stratum.protection.bans.enabled
    assert config.secrets.admin_secret is None
    assert config.api.compat_list_size == 30
    assert config.stratum.trust.min_verified_percent == pytest.approx(7.8125)
    warnings = dict(line.split(": ", 1) for line in loaded.warnings)
    assert set(warnings) == {
        "poolServer.ports[0].bogus",
        "poolServer.frobnicate",
        "poolServer.shareTrust.min",
        "api.password",
        "api.payments",
        "coin",
    }
    assert warnings["api.password"].startswith("ignored: shorter than 16 characters")
    assert (
        warnings["poolServer.frobnicate"] == "ignored; not a key of the reference pool's config.json either"
    )


def test_detection_and_no_side_effects_on_the_input() -> None:
    data = reference_config()
    before = copy.deepcopy(data)
    translation = translate_reference(data)
    assert data == before
    assert is_reference_format(data)
    assert not is_reference_format({"coin": "athena", "stratum": {}})
    assert translation.origins["stratum.ports"] == "poolServer.ports"
    assert translation.problems == ()
