"""Talking to coin daemons: a JSON-RPC transport and one client per daemon dialect."""

from athena_pool.rpc.daemon import (
    DAEMON_DIALECTS,
    BlockHeader,
    BlockTemplate,
    DaemonClient,
    DaemonInfo,
    MoneroDaemonClient,
    TurtleDaemonClient,
    create_daemon_client,
)
from athena_pool.rpc.errors import RpcBadResponse, RpcError, RpcFailure, RpcUnavailable
from athena_pool.rpc.jsonrpc import JsonRpcClient

__all__ = [
    "DAEMON_DIALECTS",
    "BlockHeader",
    "BlockTemplate",
    "DaemonClient",
    "DaemonInfo",
    "JsonRpcClient",
    "MoneroDaemonClient",
    "RpcBadResponse",
    "RpcError",
    "RpcFailure",
    "RpcUnavailable",
    "TurtleDaemonClient",
    "create_daemon_client",
]
