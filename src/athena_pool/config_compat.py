"""A cryptonote-nodejs-pool `config.json`, accepted as it is: translated into athena-pool's own format.

Operators migrating from the reference pool keep the file they know. `translate_reference` maps every key
athena-pool has an equivalent for, exactly (units included), and writes one warning line for each key it
ignores or reads differently, naming the key as the reference file spells it. Keys whose value switches
nothing on (null, false, an empty list, a section with `"enabled": false`) are ignored without a word:
ignoring them changes nothing.

Units: amounts are atomic units in both (the reference's `coinUnits` must match the coin profile, else
every amount would mean something else); fees are percentages in both; `blockRefreshInterval` is in
milliseconds, every other interval and timeout in seconds, as in athena-pool.

What athena-pool does differently, each said in its warning: payment ids are `ADDRESS.PAYMENTID` and fixed
difficulty `ADDRESS+DIFF` (the reference's default separators are the other way round); bans compare
invalid shares with all shares (the reference: with valid ones), converted exactly; share trust always
hashes block candidates; the pool fee stays in the wallet and the reference's hard-wired developer
donation is not paid; the reward scheme stays PROP, the reference's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from athena_pool.api.settings import MIN_SECRET_CHARS
from athena_pool.coins.profiles import COIN_NAMES, Coin, UnknownCoinError, get_coin
from athena_pool.payments.settings import MONERO_MAX_DESTINATIONS
from athena_pool.stratum.login import DIFFICULTY_SEPARATOR, PAYMENT_ID_SEPARATOR
from athena_pool.stratum.settings import MIN_VERIFIED_PERCENT_FLOOR

LOOPBACK_PROXIES = ["127.0.0.1/32", "::1/128"]
_COIN_FROM_PROFILE = (
    "daemonType",
    "cnAlgorithm",
    "cnVariant",
    "cnBlobType",
    "isRandomX",
    "includeHeight",
    "includeAlgo",
    "hashingUtil",
    "offset",
    "previousOffset",
)
_IGNORED_SECTIONS = {
    "notifications": "athena-pool sends no e-mail or Telegram notifications",
    "email": "athena-pool sends no e-mail",
    "telegram": "athena-pool has no Telegram bot",
    "monitoring": "the API probes the daemon and the wallet itself (api.health_interval_s)",
    "prices": "athena-pool fetches no exchange prices",
    "childPools": "merged mining is not supported",
}


# Where a whole section of athena-pool's format comes from (for problems about a section as a whole).
_SECTION_ORIGINS = {
    "jobs": "poolServer",
    "stratum": "poolServer",
    "stratum.limits": "poolServer.minerTimeout",
    "stratum.tls": "poolServer",
    "stratum.trust": "poolServer.shareTrust",
    "stratum.protection": "poolServer.banning",
    "stratum.protection.bans": "poolServer.banning",
    "unlocker": "blockUnlocker",
    "payments": "payments",
    "payments.wallet": "wallet",
    "daemon": "daemon",
    "redis": "redis",
    "api": "api",
    "api.charts": "charts",
    "api.pool": "poolHost",
    "logging": "logging",
}


@dataclass(frozen=True)
class Translation:
    data: dict[str, Any]  # athena-pool's format
    warnings: tuple[str, ...] = ()
    origins: Mapping[str, str] = field(default_factory=dict)  # athena key path -> reference key path
    problems: tuple[str, ...] = ()


def is_reference_format(data: Mapping[str, Any]) -> bool:
    return "poolServer" in data or "blockUnlocker" in data


def translate_reference(reference: Mapping[str, Any]) -> Translation:
    return _Translator(reference).run()


def _switches_nothing(value: Any) -> bool:
    if value is None or value is False or value == [] or value == {}:
        return True
    return isinstance(value, Mapping) and value.get("enabled") is False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _exact(value: Any) -> Any:
    """A JSON number for a Decimal setting: its shortest text, so 0.8 stays exactly 0.8."""
    return str(value) if _is_number(value) else value


class _Translator:
    def __init__(self, reference: Mapping[str, Any]) -> None:
        self.ref = reference
        self.out: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.problems: list[str] = []
        self.origins: dict[str, str] = {}
        self.coin: Coin | None = None

    def run(self) -> Translation:
        self.coin = self._coin()
        sections: dict[str, Callable[[Mapping[str, Any]], None]] = {
            "logging": self._logging,
            "poolServer": self._pool_server,
            "payments": self._payments,
            "blockUnlocker": self._block_unlocker,
            "api": self._api,
            "daemon": self._daemon,
            "wallet": self._wallet,
            "redis": self._redis,
            "charts": self._charts,
        }
        for key, value in self.ref.items():
            if key in sections:
                if isinstance(value, Mapping):
                    sections[key](value)
                elif value is not None:
                    self.problems.append(f"{key}: expected a section (an object), got {value!r:.40}")
            else:
                self._top_level(key, value)
        self.set("unlocker.scheme", "prop", "blockUnlocker")  # the reference's only shared scheme
        for path, origin in _SECTION_ORIGINS.items():
            if self._has(path):
                self.origins.setdefault(path, origin)
        return Translation(self.out, tuple(self.warnings), self.origins, tuple(self.problems))

    def _has(self, path: str) -> bool:
        node: Any = self.out
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    # --- helpers ------------------------------------------------------------------------------------------

    def set(self, path: str, value: Any, origin: str) -> None:
        node = self.out
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
        self.origins.setdefault(path, origin)

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(f"{key}: {message}")

    def ignore(self, key: str, value: Any, why: str) -> None:
        if not _switches_nothing(value):
            self.warn(key, f"ignored; {why}")

    def unknown(self, key: str, value: Any) -> None:
        self.ignore(key, value, "not a key of the reference pool's config.json either")

    def seconds(self, value: Any, key: str, *, per: float = 1.0) -> Any:
        if not _is_number(value):
            self.problems.append(f"{key}: expected a number, got {value!r:.40}")
            return None
        return value / per if per != 1.0 else value

    # --- top level ----------------------------------------------------------------------------------------

    def _coin(self) -> Coin | None:
        names = [self.ref.get(key) for key in ("coin", "symbol")]
        coin = None
        for name in names:
            if isinstance(name, str):
                try:
                    coin = get_coin(name)
                    break
                except UnknownCoinError:
                    continue
        if coin is None:
            self.problems.append(
                f"coin: {names[0]!r} (symbol {names[1]!r}) is not a coin athena-pool supports "
                f"({', '.join(COIN_NAMES)})"
            )
            return None
        symbol = self.ref.get("symbol")
        if isinstance(symbol, str) and symbol.upper() != coin.symbol:
            self.problems.append(f"symbol: {symbol!r} is not {coin.name}'s symbol ({coin.symbol})")
        units = self.ref.get("coinUnits")
        if units is not None and units != coin.atomic_units_per_coin:
            self.problems.append(
                f"coinUnits: {units!r}, but {coin.name} has {coin.atomic_units_per_coin} atomic units "
                "per coin (every amount in this file would mean something else)"
            )
        self.set("coin", coin.name, "coin")
        return coin

    def _top_level(self, key: str, value: Any) -> None:
        coin = self.coin
        if key == "coin" and coin is not None:
            self.warn(
                key,
                f"{value!r} selects the coin profile {coin.name!r}; Redis keys follow athena-pool's own "
                f"schema under the prefix {coin.name!r} (the reference pool's Redis data is not read)",
            )
        elif key in ("symbol", "coinUnits"):
            pass  # checked against the coin profile
        elif key == "poolHost":
            self.set("api.pool.pool_host", value, key)
        elif key == "blockchainExplorer":
            self.set("api.pool.blockchain_explorer", value, key)
        elif key == "transactionExplorer":
            self.set("api.pool.transaction_explorer", value, key)
        elif key == "coinDecimalPlaces":
            places = coin.decimal_places if coin else "its"
            self.ignore(key, value, f"amounts are shown with the coin's {places} decimal places")
        elif key == "coinDifficultyTarget":
            target = f"{coin.target_block_seconds} s" if coin else "the coin profile's"
            self.ignore(key, value, f"the block time is the coin profile's ({target})")
        elif key in _COIN_FROM_PROFILE:
            what = f"{coin.pow_algorithm}, {coin.rpc_dialect.value} RPC" if coin else "the coin profile"
            self.ignore(
                key, value, f"the proof of work, blob format and RPC dialect come from the coin ({what})"
            )
        elif key in _IGNORED_SECTIONS:
            self.ignore(key, value, _IGNORED_SECTIONS[key])
        else:
            self.unknown(key, value)

    # --- sections -----------------------------------------------------------------------------------------

    def _logging(self, section: Mapping[str, Any]) -> None:
        for sink, settings in section.items():
            key = f"logging.{sink}"
            if sink not in ("files", "console") or not isinstance(settings, Mapping):
                self.unknown(key, settings)
                continue
            for name, value in settings.items():
                if name == "level":
                    self.set(f"logging.{sink}.level", value, f"{key}.level")
                elif sink == "files" and name == "directory":
                    self.set("logging.files.directory", value, f"{key}.directory")
                elif sink == "files" and name == "flushInterval":
                    self.set(
                        "logging.files.flush_interval",
                        self.seconds(value, f"{key}.flushInterval"),
                        f"{key}.flushInterval",
                    )
                elif sink == "console" and name == "colors":
                    self.set("logging.console.colors", value, f"{key}.colors")
                else:
                    self.unknown(f"{key}.{name}", value)
        if isinstance(section.get("files"), Mapping) and section["files"].get("directory"):
            self.warn(
                "logging.files",
                "one file per role (pool.log, api.log, unlocker.log, payments.log, charts.log) holding every "
                "level from `level` up, instead of one file per module and severity",
            )

    def _pool_server(self, section: Mapping[str, Any]) -> None:
        ssl_ports = self._ports(section)
        for key, value in section.items():
            where = f"poolServer.{key}"
            if key in ("ports", "varDiff"):
                continue
            if key == "poolAddress":
                self.set("pool_address", value, where)
            elif key == "blockRefreshInterval":  # milliseconds
                self.set("jobs.refresh_interval", self.seconds(value, where, per=1000.0), where)
            elif key == "minerTimeout":
                self.set("stratum.limits.idle_timeout", self.seconds(value, where), where)
            elif key in ("sslCert", "sslKey"):
                if ssl_ports:
                    self.set(f"stratum.tls.{'cert_file' if key == 'sslCert' else 'key_file'}", value, where)
            elif key == "sslCA":
                if ssl_ports:
                    self.ignore(
                        where, value, "append the CA chain to the sslCert file (PEM: certificate first)"
                    )
            elif key == "enabled":
                if value is False:
                    self.warn(where, "athena-pool runs the stratum server where `--roles` includes pool")
            elif key == "clusterForks":
                self._cluster_forks(value, where)
            elif key in ("pubAddressPrefix", "intAddressPrefix", "subAddressPrefix", "intChildAddressPrefix"):
                self.ignore(where, value, "address prefixes come from the coin profile")
            elif key in ("mergedMining", "fallBackCoin"):
                self.ignore(where, value, "merged mining is not supported")
            elif key == "fixedDiff" and isinstance(value, Mapping):
                self._fixed_diff(value)
            elif key == "paymentId" and isinstance(value, Mapping):
                self._payment_id(value)
            elif key == "shareTrust" and isinstance(value, Mapping):
                self._share_trust(value)
            elif key == "banning" and isinstance(value, Mapping):
                self._banning(value)
            elif key == "slushMining":
                self.ignore(
                    where,
                    value,
                    "slush mining credits nothing in the reference; unlocker.scheme offers PPLNS",
                )
            else:
                self.unknown(where, value)

    def _cluster_forks(self, value: Any, where: str) -> None:
        """A number or "auto", as `stratum.cluster_workers`; the reference runs one process for 0 or null."""
        if _switches_nothing(value) or value == 0 or value == 1:
            return
        self.set("stratum.cluster_workers", value, where)
        self.warn(
            where,
            "read as stratum.cluster_workers; more than one worker needs `athena-pool run --roles pool` "
            "(the API, unlocker and payments in another process) and redis.url; bans are shared by the "
            "workers, connection caps and rate limits are per worker",
        )

    def _ports(self, section: Mapping[str, Any]) -> bool:
        ports = section.get("ports")
        if ports is None:
            return False
        if not isinstance(ports, list):
            self.problems.append(f"poolServer.ports: expected a list of ports, got {ports!r:.40}")
            return False
        vardiff = self._vardiff(section.get("varDiff"))
        translated: list[dict[str, Any]] = []
        ssl = False
        names = {
            "port": "port",
            "difficulty": "difficulty",
            "desc": "description",
            "hidden": "hidden",
            "ssl": "tls",
        }
        for index, entry in enumerate(ports):
            where = f"poolServer.ports[{index}]"
            if not isinstance(entry, Mapping):
                self.problems.append(
                    f"{where}: expected an object with port and difficulty, got {entry!r:.40}"
                )
                continue
            port: dict[str, Any] = {"vardiff": dict(vardiff)} if vardiff else {}
            for key, value in entry.items():
                if key in names:
                    port[names[key]] = value
                else:
                    self.unknown(f"{where}.{key}", value)
            ssl = ssl or entry.get("ssl") is True
            self.origins.setdefault(f"stratum.ports[{index}]", where)
            translated.append(port)
        self.set("stratum.ports", translated, "poolServer.ports")
        return ssl

    def _vardiff(self, section: Any) -> dict[str, Any]:
        if not isinstance(section, Mapping):
            return {}
        names = {
            "minDiff": "min_difficulty",
            "maxDiff": "max_difficulty",
            "targetTime": "target_time",
            "retargetTime": "retarget_time",
            "variancePercent": "variance_percent",
            "maxJump": "max_jump_percent",
        }
        vardiff = {}
        for key, value in section.items():
            if key in names:
                vardiff[names[key]] = value
            else:
                self.unknown(f"poolServer.varDiff.{key}", value)
        self.warn(
            "poolServer.varDiff",
            "applied to every port; athena-pool counts the wait since a miner's last share in its share-rate "
            "estimate, so it retargets more steadily than the reference",
        )
        return vardiff

    def _fixed_diff(self, section: Mapping[str, Any]) -> None:
        for key, value in section.items():
            where = f"poolServer.fixedDiff.{key}"
            if key == "enabled":
                if value is False:
                    self.warn(
                        where,
                        "ignored; a miner may always ask for a difficulty with "
                        f"ADDRESS{DIFFICULTY_SEPARATOR}DIFF",
                    )
            elif key == "addressSeparator":
                if value != DIFFICULTY_SEPARATOR:
                    self.warn(
                        where,
                        f"{value!r} is not used: a fixed difficulty is ADDRESS{DIFFICULTY_SEPARATOR}DIFF "
                        "in athena-pool (miners must change their login)",
                    )
            else:
                self.unknown(where, value)

    def _payment_id(self, section: Mapping[str, Any]) -> None:
        allowed = self.coin is None or self.coin.supports_payment_ids
        for key, value in section.items():
            where = f"poolServer.paymentId.{key}"
            if key == "addressSeparator":
                if not allowed:
                    self.warn(
                        where,
                        f"ignored; {self.coin.name if self.coin else 'this coin'} takes no payment ids "
                        "(integrated addresses work)",
                    )
                elif value != PAYMENT_ID_SEPARATOR:
                    self.warn(
                        where,
                        f"{value!r} is not used: a payment id is ADDRESS{PAYMENT_ID_SEPARATOR}PAYMENTID "
                        "(64 hex) in athena-pool (miners must change their login)",
                    )
            elif key in ("validation", "validations", "ban"):
                self.ignore(
                    where,
                    value,
                    "a payment id must be 64 hex characters; any other login is refused (no ban)",
                )
            else:
                self.unknown(where, value)

    def _share_trust(self, section: Mapping[str, Any]) -> None:
        names = {"enabled": "enabled", "stepDown": "step_percent", "penalty": "penalty_shares"}
        for key, value in section.items():
            where = f"poolServer.shareTrust.{key}"
            if key in names:
                self.set(f"stratum.trust.{names[key]}", value, where)
            elif key == "min":
                if _is_number(value) and value < MIN_VERIFIED_PERCENT_FLOOR:
                    self.warn(
                        where,
                        f"raised to {MIN_VERIFIED_PERCENT_FLOOR} % "
                        "(20 of every 256 shares are always hashed)",
                    )
                    value = MIN_VERIFIED_PERCENT_FLOOR
                self.set("stratum.trust.min_verified_percent", value, where)
            elif key == "threshold":
                self.set("stratum.trust.trusted_after", max(1, value) if _is_number(value) else value, where)
            else:
                self.unknown(where, value)
        if section.get("enabled") is True:
            self.warn(
                "poolServer.shareTrust",
                "block candidates and shares above stratum.trust.max_difficulty are always hashed, and a bad "
                "share costs the miner its trust (the reference trusted blocks too)",
            )

    def _banning(self, section: Mapping[str, Any]) -> None:
        for key, value in section.items():
            where = f"poolServer.banning.{key}"
            if key == "enabled":
                self.set("stratum.protection.bans.enabled", value, where)
            elif key == "time":
                self.set("stratum.protection.bans.ban_time", self.seconds(value, where), where)
            elif key == "checkThreshold":
                self.set("stratum.protection.bans.check_threshold", value, where)
            elif key == "invalidPercent":
                self._invalid_percent(value, where)
            else:
                self.unknown(where, value)
        if section.get("enabled") is True:
            self.warn(
                "poolServer.banning",
                "a ban is per IP and wallet (the reference: the whole IP), weighs duplicate and stale shares "
                "less, and counts shares over the last stratum.protection.bans.window seconds",
            )

    def _invalid_percent(self, value: Any, where: str) -> None:
        if not _is_number(value) or value <= 0:
            self.problems.append(f"{where}: expected a positive number, got {value!r:.40}")
            return
        # The reference bans at invalid/valid >= p; that is invalid/(invalid+valid) >= p/(100+p).
        converted = 100 * value / (100 + value)
        self.set("stratum.protection.bans.invalid_percent", converted, where)
        self.warn(
            where,
            f"{value} % of valid shares (the reference's ratio) is {converted:.4g} % of all shares, "
            "athena-pool's ratio: the same threshold",
        )

    def _payments(self, section: Mapping[str, Any]) -> None:
        monero = self.coin is not None and self.coin.name == "monero"
        names = {
            "enabled": "enabled",
            "transferFee": "fee",
            "dynamicTransferFee": "fee_per_destination",
            "minPayment": "min_payout",
            "maxPayment": "max_threshold",
            "maxTransactionAmount": "max_transaction_amount",
            "denomination": "denomination",
        }
        for key, value in section.items():
            where = f"payments.{key}"
            if key in names:
                self.set(f"payments.{names[key]}", value, where)
            elif key == "interval":
                self.set("payments.interval", self.seconds(value, where), where)
            elif key == "maxAddresses":
                if monero and _is_number(value) and value > MONERO_MAX_DESTINATIONS:
                    self.warn(
                        where, f"lowered to {MONERO_MAX_DESTINATIONS} (Monero's most payees per transaction)"
                    )
                    value = MONERO_MAX_DESTINATIONS
                self.set("payments.max_addresses", value, where)
            elif key in ("mixin", "ringSize"):
                if monero:
                    self.ignore(where, value, "Monero fixes the ring size")
                elif key == "ringSize" and _is_number(value):
                    self.set("payments.mixin", value - 1, where)  # a ring holds the real input and the mixins
                else:
                    self.set("payments.mixin", value, where)
            elif key == "minerPayFee":
                self._miner_pays_fee(value, section.get("dynamicTransferFee"), where)
            elif key == "priority":
                self.ignore(where, value if value != 0 else None, "the wallet's default priority is used")
            else:
                self.unknown(where, value)

    def _miner_pays_fee(self, value: Any, dynamic: Any, where: str) -> None:
        # The reference deducts the fee from a payout only with dynamicTransferFee as well.
        if value is True and dynamic is not True:
            self.warn(where, "ignored without dynamicTransferFee, as in the reference: the pool pays the fee")
            value = False
        self.set("payments.miner_pays_fee", value, where)

    def _block_unlocker(self, section: Mapping[str, Any]) -> None:
        for key, value in section.items():
            where = f"blockUnlocker.{key}"
            if key == "enabled":
                self.set("unlocker.enabled", value, where)
            elif key == "interval":
                self.set("unlocker.interval", self.seconds(value, where), where)
            elif key == "depth":
                self.set("unlocker.unlock_depth", value, where)
            elif key == "poolFee":
                self.set("unlocker.pool_fee_percent", _exact(value), where)
            elif key == "soloFee":
                # The reference uses it only when it is 0 or more; otherwise the pool fee applies.
                solo = _exact(value) if _is_number(value) and value >= 0 else None
                self.set("unlocker.solo_fee_percent", solo, where)
            elif key == "finderReward":
                self.set("unlocker.finder_reward_percent", _exact(value), where)
            elif key == "devDonation":
                self.ignore(
                    where,
                    value or None,
                    "the reference paid it to its author's XMR address; to donate, set "
                    "unlocker.donation_address and unlocker.donation_percent",
                )
            elif key == "networkFee":
                self.ignore(
                    where, value or None, "the block reward is credited in full (no network fee is taken)"
                )
            elif key in ("fixBlockHeightRPC", "useFirstVout"):
                self.ignore(where, value, "the unlocker reads the block header at the block's own height")
            else:
                self.unknown(where, value)

    def _api(self, section: Mapping[str, Any]) -> None:
        names = {
            "bindIp": "host",
            "port": "port",
            "updateInterval": "update_interval_s",
            "hashrateWindow": "hashrate_window_s",
        }
        ssl = section.get("ssl") is True
        for key, value in section.items():
            where = f"api.{key}"
            if key in names:
                self.set(f"api.{names[key]}", value, where)
            elif key == "blocks":
                self.set("api.compat_list_size", value, where)
            elif key == "payments":
                if value != section.get("blocks", value):
                    self.warn(where, "ignored; as many payments as blocks (api.blocks) are listed per page")
                else:
                    self.set("api.compat_list_size", value, where)
            elif key == "password":
                self._admin_password(value, where)
            elif key == "enabled":
                if value is False:
                    self.warn(where, "athena-pool runs the API where `--roles` includes api")
            elif key == "ssl":
                self.ignore(where, value, "serve the API over TLS through nginx or traefik (deploy/)")
            elif key in ("sslPort", "sslCert", "sslKey", "sslCA"):
                if ssl:
                    self.ignore(where, value, "see api.ssl")
            elif key == "trustProxyIP":
                if value is True:
                    self.set("api.trusted_proxies", LOOPBACK_PROXIES, where)
                    self.warn(
                        where,
                        "X-Forwarded-For is believed from loopback only (api.trusted_proxies); the reference "
                        "believed anyone, which let any client pass for 127.0.0.1",
                    )
            else:
                self.unknown(where, value)

    def _admin_password(self, value: Any, where: str) -> None:
        if not isinstance(value, str) or not value:
            self.ignore(where, value, "not a password")
            return
        if len(value) < MIN_SECRET_CHARS:
            self.warn(
                where,
                f"ignored: shorter than {MIN_SECRET_CHARS} characters; the admin API stays off until "
                "ATHENA_POOL_ADMIN_SECRET(_FILE) names a longer secret",
            )
            return
        self.set("secrets.admin_secret", value, where)
        self.warn(
            where,
            "used as the admin secret (bearer token or login, never in a URL); "
            "prefer ATHENA_POOL_ADMIN_SECRET_FILE",
        )

    def _daemon(self, section: Mapping[str, Any]) -> None:
        self._endpoint(section, "daemon", "daemon.url")
        for key, value in section.items():
            if key == "alwaysPoll":
                self.ignore(
                    "daemon.alwaysPoll", value, "templates are refreshed every jobs.refresh_interval anyway"
                )
            elif key not in ("host", "port"):
                self.unknown(f"daemon.{key}", value)

    def _wallet(self, section: Mapping[str, Any]) -> None:
        self._endpoint(section, "wallet", "payments.wallet.url")
        monero = self.coin is not None and self.coin.name == "monero"
        for key, value in section.items():
            if key == "password":
                if monero:
                    self.ignore(
                        "wallet.password",
                        value,
                        "monero-wallet-rpc's login needs payments.wallet.rpc_user as well",
                    )
                else:
                    self.set("payments.wallet.rpc_password", value, "wallet.password")
            elif key not in ("host", "port"):
                self.unknown(f"wallet.{key}", value)

    def _endpoint(self, section: Mapping[str, Any], name: str, path: str) -> None:
        host, port = section.get("host"), section.get("port")
        if not isinstance(host, str) or not host or not _is_number(port) or isinstance(port, float):
            self.problems.append(f"{name}: expected a host name and a port number, got {dict(section)!r:.80}")
            return
        scheme = "https" if port == 443 else "http"  # the reference used HTTPS for port 443 only
        self.set(path, f"{scheme}://{_host(host)}:{port}", name)

    def _redis(self, section: Mapping[str, Any]) -> None:
        host, port = section.get("host", "127.0.0.1"), section.get("port", 6379)
        auth, db = section.get("auth"), section.get("db", 0)
        if not isinstance(host, str) or not _is_number(port) or not _is_number(db):
            self.problems.append(f"redis: expected host, port and db, got {dict(section)!r:.80}")
            return
        credentials = f":{quote(str(auth), safe='')}@" if auth else ""
        self.set("redis.url", f"redis://{credentials}{_host(host)}:{port}/{db}", "redis")
        for key, value in section.items():
            if key == "cleanupInterval":
                self.ignore(
                    "redis.cleanupInterval",
                    value,
                    "balances and payment history are kept (the reference deleted them that many days after "
                    "a miner's last share)",
                )
            elif key not in ("host", "port", "auth", "db"):
                self.unknown(f"redis.{key}", value)

    def _charts(self, section: Mapping[str, Any]) -> None:
        rest: list[str] = []
        pool = section.get("pool")
        for group, charts in section.items():
            if group == "blocks" and isinstance(charts, Mapping):
                if charts.get("enabled") is not False and "days" in charts:
                    self.set("api.charts.blocks_days", charts["days"], "charts.blocks.days")
            elif group == "pool" and isinstance(charts, Mapping):
                rest += [f"charts.pool.{name}" for name in charts if name != "hashrate"]
            elif not _switches_nothing(charts):
                rest.append(f"charts.{group}")
        hashrate = pool.get("hashrate") if isinstance(pool, Mapping) else None
        if isinstance(hashrate, Mapping):
            names = {
                "enabled": "enabled",
                "updateInterval": "interval_s",
                "stepInterval": "step_s",
                "maximumPeriod": "retention_s",
            }
            for key, value in hashrate.items():
                if key in names:
                    self.set(f"api.charts.{names[key]}", value, f"charts.pool.hashrate.{key}")
                else:
                    self.unknown(f"charts.pool.hashrate.{key}", value)
        if rest:
            self.warn(
                ", ".join(rest),
                "every chart uses charts.pool.hashrate's intervals (api.charts); these settings are ignored",
            )


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
