"""The HTTP API: the reference pool's endpoints, `/api/v1` with its OpenAPI description, admin, miner
self-service with proof of ownership, charts, `/metrics` and `/health`.

The composition root uses `serve_api` (the server), `LiveStatsPublisher` (each process's live figures:
stratum, job broadcasts, RPC timings, written to Redis for the API) and `RingLogHandler` (recent log lines
for the admin page).
"""

from athena_pool.api.context import PublicPort, public_ports
from athena_pool.api.health import ServiceMonitor, daemon_probe, wallet_probe
from athena_pool.api.live import LiveSources, LiveStatsPublisher
from athena_pool.api.logring import RingLogHandler
from athena_pool.api.server import run_api, serve_api
from athena_pool.api.settings import AdminSecret, ApiSettings, load_admin_secret

__all__ = [
    "AdminSecret",
    "ApiSettings",
    "LiveSources",
    "LiveStatsPublisher",
    "PublicPort",
    "RingLogHandler",
    "ServiceMonitor",
    "daemon_probe",
    "load_admin_secret",
    "public_ports",
    "run_api",
    "serve_api",
    "wallet_probe",
]
