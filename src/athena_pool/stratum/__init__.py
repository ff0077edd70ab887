"""Stratum for xmrig-family miners: listeners, sessions, message validation, login grammar, vardiff.

Consumes `athena_pool.jobs.contracts` (JobSource, ShareJudge) and hands every judged share to a
`ShareSink` (the storage `ShareRecorder` fits); holds no coin knowledge (addresses are checked by a
callable handed in).
"""

from athena_pool.stratum.config import PortConfig, StratumConfig, StratumLimits
from athena_pool.stratum.listeners import ListeningPort
from athena_pool.stratum.registry import StratumStats
from athena_pool.stratum.server import StratumServer
from athena_pool.stratum.settings import (
    BanRules,
    ConnectionCaps,
    ProtectionSettings,
    ProxyMode,
    ProxySettings,
    Rate,
    RateLimits,
    ShareWeights,
    ShutdownSettings,
    TlsSettings,
    TrustSettings,
)
from athena_pool.stratum.shares import ShareSink
from athena_pool.stratum.vardiff import VardiffConfig

__all__ = [
    "BanRules",
    "ConnectionCaps",
    "ListeningPort",
    "PortConfig",
    "ProtectionSettings",
    "ProxyMode",
    "ProxySettings",
    "Rate",
    "RateLimits",
    "ShareSink",
    "ShareWeights",
    "ShutdownSettings",
    "StratumConfig",
    "StratumLimits",
    "StratumServer",
    "StratumStats",
    "TlsSettings",
    "TrustSettings",
    "VardiffConfig",
]
