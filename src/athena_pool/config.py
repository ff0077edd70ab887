"""The pool's configuration: typed, validated at start-up, one clear line per problem.

Each part owns the dataclass of its own settings (`StratumConfig`, `PaymentSettings`, `ApiSettings`, ...);
this module composes them and loads a file into them:

- JSON, or TOML for a `.toml` file. A reference pool `config.json` (cryptonote-nodejs-pool, recognised by
  its `poolServer` section) is translated first (`config_compat`), with a warning per key athena-pool
  ignores or reads differently.
- Every key is checked: an unknown key is a problem, named with its path (`stratum.ports[1].dificulty:
  unknown key (did you mean 'difficulty'?)`). Keys starting with `_` are comments.
- Defaults that depend on the coin come from its profile: the daemon's RPC port, the payment threshold,
  fee and denomination, the wallet's RPC dialect and port (`coin_defaults`).
- Secrets come from the environment when set there, as the value or as a file holding it
  (`ATHENA_POOL_WALLET_RPC_PASSWORD[_FILE]`, `ATHENA_POOL_ADMIN_SECRET[_FILE]`; one trailing newline
  stripped), else from the file (`payments.wallet.rpc_password`, `api.admin.secret_file`,
  `secrets.admin_secret`). `secret_values` lists them for the log masker; `config show` masks them.

With no file at all, the embedded default runs the whole pool on one machine: a local Redis, the built-in
devnet and a demo miner.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import tomllib
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from athena_pool.api.settings import AdminSecret, AdminSecretError, ApiSettings
from athena_pool.coins.addresses import AddressError, decode_address
from athena_pool.coins.profiles import Coin, UnknownCoinError, get_coin
from athena_pool.config_compat import Translation, is_reference_format, translate_reference
from athena_pool.logs import LoggingSettings
from athena_pool.payments.settings import PaymentSettings, WalletSettings
from athena_pool.pow.base import PowSettings
from athena_pool.storage.limits import StoreLimits
from athena_pool.storage.recorder import RecorderSettings
from athena_pool.stratum.config import PortConfig, StratumConfig
from athena_pool.stratum.vardiff import VardiffConfig
from athena_pool.sync_wait import SyncWaitSettings
from athena_pool.unlocker import UnlockerSettings

WALLET_PASSWORD_ENV = "ATHENA_POOL_WALLET_RPC_PASSWORD"
FILE_SUFFIX = "_FILE"
MASK = "***"
COMMENT_PREFIX = "_"
KeyPath = tuple[str | int, ...]

# Addresses of the example configs: valid, but nobody holds their keys. `run` refuses them.
EXAMPLE_POOL_ADDRESSES = frozenset(
    {
        "athena25ZnM5tzCLZVLPrk6e8KgMC8fqJcJkymEi77pzPq7SbBWM3TBcthkEHMnyRKQDjG3Tr6mkn6z9XD5NHFjSKUeev3Jo6x94G",
        "TRTLuzgvaMv5bBhyZFBjhWdJ1qud7VWTCVtmcBPNes3S6omd2DUH9cnEXicHVH9sfN2HYWEDsAEJUS48MEzWoaVH8JU5Ghirb7S",
        "45TBLRFRxK71cvyuuowFs47CknTsMD6zLAVCUdjP2jXz7AieTXqPFBmduEchFQKmwFDgL1161epzLP5K6Mo5AgWENxbBFpw",
    }
)


class ConfigError(ValueError):
    """The configuration is not usable; `problems` has one line per bad key."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True)
class DaemonSettings:
    url: str = "http://127.0.0.1:12001"  # in a file, the coin profile's RPC port is the default
    timeout: float = 10.0


@dataclass(frozen=True)
class RedisSettings:
    """`url` None: start a local redis-server (appendonly) in `<data_dir>/redis` on `local_port`."""

    url: str | None = None
    local_port: int = 6390
    prefix: str | None = None  # key prefix; default: the coin's name
    # What storage keeps: limits.pplns_max_entries must hold factor x network difficulty / the smallest
    # share difficulty (plus the shares that arrive while a block waits to unlock); see StoreLimits.
    limits: StoreLimits = field(default_factory=StoreLimits)


@dataclass(frozen=True)
class JobSettings:
    refresh_interval: float = 1.0
    max_template_age: float = 30.0
    keep_templates: int = 4
    reserve_size: int = 16


@dataclass(frozen=True)
class DevnetSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    daemon_port: int = 12001
    wallet_port: int = 8070
    # About a minute per block for one demo miner thread (cn-lite/1, ~180 H/s): shares and blocks both occur.
    difficulty: int = 10_000
    block_time: float = 60.0
    rpc_password: str = "devnet"


@dataclass(frozen=True)
class DemoMinerSettings:
    """The built-in CPU miner, started against the pool's first port (for demos)."""

    enabled: bool = False
    threads: int = 1
    worker: str = "demo"


@dataclass(frozen=True)
class ConsoleSettings:
    interval: float = 10.0  # seconds between the live figures on the console; 0 = none


@dataclass(frozen=True)
class Secrets:
    """Secret values with no home in a part's settings. Prefer the environment (see the module doc)."""

    admin_secret: str | None = field(default=None, repr=False)  # the API's admin secret


@dataclass(frozen=True)
class PoolConfig:
    coin: str = "athena"
    pool_address: str | None = None  # where coinbase rewards go; the devnet makes one when unset
    data_dir: Path = Path("data")
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    stratum: StratumConfig = field(
        default_factory=lambda: StratumConfig(ports=(PortConfig(port=3335, difficulty=5000),))
    )
    recorder: RecorderSettings = field(default_factory=RecorderSettings)
    unlocker: UnlockerSettings = field(default_factory=UnlockerSettings)
    payments: PaymentSettings = field(default_factory=PaymentSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    hash_threads: int | None = None  # threads verifying shares; default: one per core
    # pow.randomx_full_dataset (default false): rx/0 with the 2 GiB dataset per seed; see PowSettings.
    pow: PowSettings = field(default_factory=PowSettings)
    devnet: DevnetSettings = field(default_factory=DevnetSettings)
    demo_miner: DemoMinerSettings = field(default_factory=DemoMinerSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    sync_wait: SyncWaitSettings = field(default_factory=SyncWaitSettings)
    secrets: Secrets = field(default_factory=Secrets)

    def __post_init__(self) -> None:
        if not self.devnet.enabled and not self.pool_address:
            raise ValueError("pool_address is required unless the devnet is enabled")


@dataclass(frozen=True)
class LoadedConfig:
    config: PoolConfig
    warnings: tuple[str, ...] = ()  # one line each, naming the key
    reference_format: bool = False  # translated from a cryptonote-nodejs-pool config.json
    secret_sources: Mapping[str, str] = field(default_factory=dict)  # key path -> where its value came from


@dataclass(frozen=True)
class CoinDefaults:
    """What a sensible pool of this coin uses where the file says nothing (amounts in atomic units)."""

    min_payout: int
    fee: int  # walletd: the transaction fee; monero-wallet-rpc picks its own, this is the estimate
    denomination: int
    wallet_dialect: Literal["walletd", "monero"]
    wallet_port: int


COIN_DEFAULTS: Mapping[str, CoinDefaults] = MappingProxyType(
    {
        # 2 decimals: from 1000.00 ATHX, Athena's minimum fee (MINIMUM_FEE 10000 atomic units, which its
        # walletd enforces), walletd ("services") on 8070.
        "athena": CoinDefaults(100_000, 10_000, 1, "walletd", 8070),
        # 2 decimals: from 100.00 TRTL, a 10.00 TRTL fee (covers the fee per byte of a batch).
        "turtlecoin": CoinDefaults(10_000, 1_000, 1, "walletd", 8070),
        # 12 decimals: from 0.1 XMR, amounts in steps of 0.0001 XMR, monero-wallet-rpc on 18082.
        "monero": CoinDefaults(100_000_000_000, 100_000_000, 100_000_000, "monero", 18082),
    }
)


def coin_defaults(coin: Coin) -> dict[str, Any]:
    """The coin-dependent defaults as a partial config, laid under what the file says."""
    payments = COIN_DEFAULTS.get(coin.name)
    layer: dict[str, Any] = {"daemon": {"url": f"http://127.0.0.1:{coin.default_daemon_rpc_port}"}}
    if payments is not None:
        layer["payments"] = {
            "min_payout": payments.min_payout,
            "fee": payments.fee,
            "denomination": payments.denomination,
            "wallet": {"dialect": payments.wallet_dialect, "url": f"http://127.0.0.1:{payments.wallet_port}"},
        }
    return layer


def embedded_default() -> PoolConfig:
    """Everything on one machine: local Redis, devnet daemon and wallet, the pool, a demo miner."""
    vardiff = VardiffConfig(min_difficulty=50, target_time=15.0, retarget_time=30.0)
    return PoolConfig(
        coin="athena",
        stratum=StratumConfig(
            ports=(
                PortConfig(port=3335, difficulty=100, description="Low end hardware", vardiff=vardiff),
                PortConfig(port=5557, difficulty=1000, description="Mid range hardware", vardiff=vardiff),
                PortConfig(port=7779, difficulty=10000, description="High end hardware", vardiff=vardiff),
            ),
        ),
        devnet=DevnetSettings(enabled=True),
        demo_miner=DemoMinerSettings(enabled=True),
        # Athena has 2 decimal places: pay from 1000.00 ATHX with its minimum fee (100.00 ATHX), every minute.
        payments=PaymentSettings(
            enabled=True,
            interval=60.0,
            min_payout=100_000,
            fee=10_000,
            wallet=WalletSettings(dialect="walletd"),
        ),
    )


# --- loading ----------------------------------------------------------------------------------------------


def load(path: Path, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read, translate if needed, check and resolve a config file; ConfigError lists every problem."""
    return parse(read_file(path), str(path), environ)


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> PoolConfig:
    return load(path, environ).config


def read_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), ["not UTF-8 text"]) from None
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ConfigError(str(path), [f"not valid JSON: {exc.msg} at {where}"]) from None


def parse_config(data: Any, source: str = "config", environ: Mapping[str, str] | None = None) -> PoolConfig:
    return parse(data, source, environ).config


def parse(data: Any, source: str = "config", environ: Mapping[str, str] | None = None) -> LoadedConfig:
    environ = _environ(environ)
    if not isinstance(data, dict):
        raise ConfigError(source, ["the file must hold one object (mapping) of settings"])
    reference = is_reference_format(data)
    translation = translate_reference(data) if reference else Translation(dict(data))
    if translation.problems:
        raise ConfigError(source, list(translation.problems))
    data = translation.data
    problems = list(unknown_keys(data, PoolConfig))
    coin = _coin(data, problems)
    layered = _merge(coin_defaults(coin), data) if coin is not None else data
    try:
        config: PoolConfig = TypeAdapter(PoolConfig).validate_python(layered)
    except ValidationError as exc:
        problems += describe_errors(exc, layered)
    if problems:
        raise ConfigError(source, _with_origins(problems, translation))
    warnings = list(translation.warnings)
    config, sources = _resolve_secrets(config, environ, problems, warnings, reference=reference)
    problems += _consistency_problems(config)
    if problems:
        raise ConfigError(source, _with_origins(problems, translation))
    return LoadedConfig(config, tuple(warnings), reference, sources)


def placeholder_problems(config: PoolConfig) -> list[str]:
    """What `run` refuses and `config check` only warns about: the example configs' addresses."""
    if config.pool_address in EXAMPLE_POOL_ADDRESSES:
        return [
            "pool_address: still the example's address (nobody holds its keys); "
            "put your pool wallet's address there"
        ]
    return []


def secret_values(config: PoolConfig) -> list[str]:
    """Every secret in the config, for the log masker."""
    values = [config.payments.wallet.rpc_password, config.secrets.admin_secret]
    if config.devnet.enabled:
        values.append(config.devnet.rpc_password)
    for url in (config.redis.url, config.daemon.url, config.payments.wallet.url):
        if url:
            values.append(urlsplit(url).password)
    # The devnet's default password is printed in its docs and compose files: not a secret, and masking
    # it would blank the word "devnet" (a host name in the devnet stack) out of every line.
    return [value for value in values if value and value != DevnetSettings.rpc_password]


def masked_dump(config: PoolConfig) -> dict[str, Any]:
    """The effective config as JSON-ready data, secrets replaced by `***`."""
    data: dict[str, Any] = TypeAdapter(PoolConfig).dump_python(config, mode="json")
    wallet = data["payments"]["wallet"]
    wallet["rpc_password"] = _mask(wallet["rpc_password"])
    data["secrets"]["admin_secret"] = _mask(data["secrets"]["admin_secret"])
    data["devnet"]["rpc_password"] = _mask(data["devnet"]["rpc_password"])
    for section in (data["redis"], data["daemon"], wallet):
        if section["url"]:
            section["url"] = _mask_url(section["url"])
    return data


def _mask(value: Any) -> Any:
    return None if value is None else MASK


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", f":{MASK}@", 1)


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _coin(data: dict[str, Any], problems: list[str]) -> Coin | None:
    name = data.get("coin", PoolConfig.coin)
    if not isinstance(name, str):
        problems.append(f"coin: expected a coin's name, got {name!r}")
        return None
    try:
        coin = get_coin(name)
    except UnknownCoinError as exc:
        problems.append(f"coin: {exc}")
        return None
    data["coin"] = coin.name
    return coin


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# --- checks -----------------------------------------------------------------------------------------------


def unknown_keys(data: Any, tp: Any, path: KeyPath = ()) -> Iterator[str]:
    """A problem line for every key that no settings class knows (comments, `_...`, excepted)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        for member in get_args(tp):
            if dataclasses.is_dataclass(member) and isinstance(data, dict):
                yield from unknown_keys(data, member, path)
                return
        return
    if origin in (tuple, list) and isinstance(data, list):
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            for index, item in enumerate(data):
                yield from unknown_keys(item, args[0], (*path, index))
        return
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and isinstance(data, dict):
        hints = get_type_hints(tp)
        names = [f.name for f in dataclasses.fields(tp) if f.init]
        for key, value in data.items():
            if isinstance(key, str) and key.startswith(COMMENT_PREFIX):
                continue
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(names)})"
                yield f"{key_path((*path, key))}: unknown key{hint}"
            else:
                yield from unknown_keys(value, hints[key], (*path, key))


def key_path(parts: KeyPath) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_SECRET_KEYS = frozenset({"rpc_password", "admin_secret", "url"})


def describe_errors(exc: ValidationError, data: Any) -> list[str]:
    """One line per key: pydantic's union branches merged, the offending value shown unless secret."""
    messages: dict[KeyPath, list[str]] = {}
    shown: dict[KeyPath, str] = {}
    for error in exc.errors():
        parts = _data_path(error["loc"], data, error["type"])
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Input ")
        message = "required, missing" if error["type"] == "missing" else message
        found = messages.setdefault(parts, [])
        if message not in found:
            found.append(message)
        value = error.get("input")
        secret = bool(parts) and parts[-1] in _SECRET_KEYS
        plain = isinstance(value, str | int | float | bool) or value is None
        if error["type"] not in ("missing", "value_error") and plain and not secret:
            shown[parts] = f" (got {json.dumps(value)[:60]})"
    lines = []
    for parts, found in messages.items():
        text = " or ".join(found) + shown.get(parts, "")
        lines.append(f"{key_path(parts)}: {text}" if parts else text)
    return lines


def _data_path(loc: tuple[int | str, ...], data: Any, kind: str) -> KeyPath:
    """pydantic's location without its union-branch labels ("int", "literal['auto']", class names)."""
    parts: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            parts.append(part)
            node = node[part]
        elif last and kind == "missing":
            parts.append(part)
    return tuple(parts)


def _with_origins(problems: list[str], translation: Translation) -> list[str]:
    if not translation.origins:
        return problems
    return [_with_origin(line, translation.origins) for line in problems]


def _with_origin(line: str, origins: Mapping[str, str]) -> str:
    where, sep, rest = line.partition(": ")
    if not sep:
        return line
    best = max(
        (key for key in origins if where == key or where.startswith((key + ".", key + "["))),
        key=len,
        default=None,
    )
    if best is None or origins[best] + where[len(best) :] == where:
        return line
    return f"{where} (from {origins[best]}{where[len(best) :]}): {rest}"


def _consistency_problems(config: PoolConfig) -> list[str]:
    problems: list[str] = []
    coin = get_coin(config.coin)
    for name, address in (
        ("pool_address", config.pool_address),
        ("unlocker.donation_address", config.unlocker.donation_address),
    ):
        if address:
            try:
                decode_address(address, coin.address_network)
            except AddressError as exc:
                problems.append(f"{name}: not a valid {coin.name} address: {exc}")
    seen: dict[int, int] = {}
    for index, port in enumerate(config.stratum.ports):
        if port.port and port.port in seen:
            problems.append(
                f"stratum.ports[{index}].port: {port.port} is also stratum.ports[{seen[port.port]}]"
            )
        seen.setdefault(port.port, index)
    if config.api.port and config.api.port in seen:
        problems.append(f"api.port: {config.api.port} is also a stratum port")
    if config.payments.wallet.dialect == "monero" and coin.name != "monero":
        problems.append(f"payments.wallet.dialect: 'monero' is monero-wallet-rpc; {coin.name} uses walletd")
    return problems


# --- secrets ----------------------------------------------------------------------------------------------


def _resolve_secrets(
    config: PoolConfig,
    environ: Mapping[str, str],
    problems: list[str],
    warnings: list[str],
    *,
    reference: bool,
) -> tuple[PoolConfig, dict[str, str]]:
    sources: dict[str, str] = {}
    wallet = config.payments.wallet
    password, where = _from_environment(WALLET_PASSWORD_ENV, environ, problems)
    if password is not None:
        config = replace(
            config, payments=replace(config.payments, wallet=replace(wallet, rpc_password=password))
        )
        sources["payments.wallet.rpc_password"] = where
    elif wallet.rpc_password:
        sources["payments.wallet.rpc_password"] = "the config file"
        if not reference:
            warnings.append(
                "payments.wallet.rpc_password: written in the config file; "
                f"prefer {WALLET_PASSWORD_ENV}{FILE_SUFFIX}"
            )
    admin, where = _admin_secret(config, environ, problems)
    if admin is not None:
        try:
            AdminSecret(admin)
        except AdminSecretError as exc:
            problems.append(f"admin secret (from {where}): {exc}")
        else:
            config = replace(config, secrets=replace(config.secrets, admin_secret=admin))
            sources["secrets.admin_secret"] = where
    return config, sources


def _admin_secret(
    config: PoolConfig, environ: Mapping[str, str], problems: list[str]
) -> tuple[str | None, str]:
    value, where = _from_environment(config.api.admin.secret_env, environ, problems)
    if value is not None:
        return value, where
    if config.api.admin.secret_file is not None:
        return _read_secret_file(config.api.admin.secret_file, "api.admin.secret_file", problems)
    if config.secrets.admin_secret:
        return config.secrets.admin_secret, "the config file"
    return None, ""


def _from_environment(name: str, environ: Mapping[str, str], problems: list[str]) -> tuple[str | None, str]:
    """`NAME` holds the secret, or `NAME_FILE` names a file holding it (one trailing newline stripped)."""
    value = environ.get(name) or None
    file_name = environ.get(name + FILE_SUFFIX) or None
    if value is not None and file_name is not None:
        problems.append(f"{name} and {name}{FILE_SUFFIX} are both set: set only one")
        return None, ""
    if file_name is not None:
        return _read_secret_file(Path(file_name), f"{name}{FILE_SUFFIX}", problems)
    return value, name


def _read_secret_file(path: Path, what: str, problems: list[str]) -> tuple[str | None, str]:
    where = f"{what} ({path})"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{what}: cannot read {path}: {exc.strerror}")
        return None, where
    except UnicodeDecodeError:
        problems.append(f"{what}: {path} is not UTF-8 text")
        return None, where
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        problems.append(f"{what}: {path} is empty")
        return None, where
    return text, where
