"""What can go wrong talking to a daemon, as three kinds a caller can act on.

- `RpcError`: the daemon answered and refused (a JSON-RPC error object). Its message is the daemon's own.
- `RpcUnavailable`: no answer worth reading (connection refused, timeout, HTTP error status). Retry later.
- `RpcBadResponse`: an answer that is not what the protocol promises (not JSON, missing or mistyped fields).

All three derive from `RpcFailure`, so `except RpcFailure` catches any daemon trouble and nothing else.
"""

from __future__ import annotations


class RpcFailure(Exception):  # noqa: N818 - named for what it catches: any failure, not one error
    """Base of every error raised by the RPC clients."""

    counted = False  # set once the RPC timings have counted it (each failure counts once)


class RpcError(RpcFailure):
    """The daemon returned a JSON-RPC error object."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"daemon error {code}: {message}")
        self.code = code
        self.message = message


class RpcUnavailable(RpcFailure):
    """The daemon could not be reached or did not answer in time."""


class RpcBadResponse(RpcFailure):
    """The daemon answered with something malformed."""
