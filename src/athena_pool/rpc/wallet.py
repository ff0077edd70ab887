"""Wallet clients: one face (`WalletClient`), one class per wallet RPC dialect, the same typed answers.

Dialects:
- `walletd`: TurtleCoin/Athena walletd ("turtle-service") JSON-RPC. The rpc password travels in the request
  body (`password`); `sendTransaction`, `getBalance`, `getStatus`, `getTransactions`,
  `getUnconfirmedTransactionHashes`, `getTransaction`, `getAddresses`.
- `monero`: monero-wallet-rpc: `transfer`, `get_balance`, `get_height`, `refresh`, `get_transfers`,
  `get_transfer_by_txid`. HTTP digest login when the wallet was started with `--rpc-login`.

The payment processor needs five things from a wallet: how much it may spend, a transfer, a way to recognise
its own transfers afterwards (destinations, amounts, payment id, height, and on walletd a marker we put in
the transaction's extra), whether a refusal proves that nothing was sent, and whether it refused a
transaction for being too large (the batch must then be split). Every call has a timeout;
`transfer` and `sync` get a longer one, since building a transaction (or catching up) takes a while.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from athena_pool.rpc.errors import RpcBadResponse, RpcError, RpcFailure
from athena_pool.rpc.fields import require_hash_hex, require_int, require_object, require_str
from athena_pool.rpc.jsonrpc import DEFAULT_TIMEOUT, JsonRpcClient, reads_answer_of
from athena_pool.rpc.timings import EndpointTimings

WALLET_DIALECTS = ("walletd", "monero")
DEFAULT_TRANSFER_TIMEOUT = 120.0
MARKER_BYTES = 16
# TX_EXTRA_NONCE (0x02), its length, then our tag byte and the marker. The tag is neither 0x00 (payment id)
# nor 0x01 (encrypted payment id), so no wallet reads the marker as a payment id.
_EXTRA_NONCE_TAG = "02"
_MARKER_TAG = "50"
_PAYMENT_ID_NONCE = "2100"  # 33 bytes: TX_EXTRA_NONCE_PAYMENT_ID (00), then the 32-byte id
_WALLETD_PAGE_BLOCKS = 10_000
_WALLETD_UNCONFIRMED = 2**32 - 1  # blockIndex of a transaction not in a block yet
_WALLETD_FAILED_STATES = frozenset({1, 2, 4})  # failed, cancelled, deleted
_MONERO_NO_PAYMENT_ID = frozenset({"", "0" * 16, "0" * 64})


@dataclass(frozen=True)
class WalletBalance:
    unlocked: int  # spendable now
    locked: int  # received, not spendable yet (young coinbase, change)


@dataclass(frozen=True)
class Destination:
    address: str
    amount: int


@dataclass(frozen=True)
class TransferResult:
    tx_hash: str
    fee: int  # the fee the transaction really pays, as far as the wallet tells


@dataclass(frozen=True)
class WalletSync:
    height: int  # blocks the wallet has processed (a count, like the daemons' height)
    synced: bool  # the wallet has caught up with its daemon


@dataclass(frozen=True)
class OutgoingTransfer:
    tx_hash: str
    destinations: tuple[Destination, ...]  # empty when the wallet does not know them
    fee: int
    payment_id: str | None
    height: int | None  # block height, None while unconfirmed
    extra_hex: str | None  # None when the dialect does not report the extra
    failed: bool = False  # the wallet gave up on it (failed, cancelled, double spend)
    # False when the wallet saw the coins leave but does not know where to: a wallet restored from its keys
    # (monero after its cache was lost, walletd reset or rebuilt) sees the spent inputs and its change,
    # never the payees. Such a transfer could be anyone's payment, unless its extra says otherwise.
    destinations_known: bool = True


class WalletRpcError(RpcError):
    """A wallet refusal; walletd adds an application code (its WalletErrorCategory value)."""

    def __init__(self, code: int, message: str, application_code: int | None = None) -> None:
        super().__init__(code, message)
        self.application_code = application_code


class WalletClient(Protocol):
    """What the payment processor needs from a wallet. Every method raises only `RpcFailure` subclasses."""

    dialect: str
    supports_marker: bool  # transfer(marker=...) is recorded in the transaction and reported back
    supports_payment_id: bool  # a standalone payment id can be attached to a transfer

    async def get_balance(self) -> WalletBalance: ...

    async def get_height(self) -> int: ...

    async def sync(self) -> WalletSync:
        """Brings the wallet up to date where the dialect allows it, then reports its height."""
        ...

    async def transfer(
        self,
        destinations: Sequence[Destination],
        *,
        fee: int,
        payment_id: str | None = None,
        mixin: int | None = None,
        unlock_time: int = 0,
        marker: str | None = None,
    ) -> TransferResult: ...

    async def get_outgoing_transfers(self, since_height: int = 0) -> list[OutgoingTransfer]:
        """Outgoing transfers confirmed at or above `since_height`, plus every unconfirmed one."""
        ...

    async def get_transfer(self, tx_hash: str) -> OutgoingTransfer | None:
        """One outgoing transfer by hash; None when the wallet does not know it (or it is incoming)."""
        ...

    def proves_not_sent(self, error: RpcFailure) -> bool:
        """True only for a refusal the wallet gives before anything reaches the network."""
        ...

    def too_large(self, error: RpcFailure) -> bool:
        """True for the refusal of a transaction too large to build (too many outputs or inputs); it also
        proves nothing was sent. Fewer payees per transaction may fit."""
        ...

    async def close(self) -> None: ...


def marker_extra(marker: str) -> str:
    """The transaction extra (hex) that carries `marker` (32 hex characters) as an extra nonce."""
    _check_marker(marker)
    payload = _MARKER_TAG + marker.lower()
    return _EXTRA_NONCE_TAG + f"{len(payload) // 2:02x}" + payload


def extra_has_marker(extra_hex: str, marker: str) -> bool:
    return marker_extra(marker)[2:] in extra_hex.lower()


def extra_has_payment_id(extra_hex: str, payment_id: str) -> bool:
    """The extra carries `payment_id` (64 hex) as TX_EXTRA_NONCE_PAYMENT_ID: 02 21 00 <id>."""
    return _EXTRA_NONCE_TAG + _PAYMENT_ID_NONCE + payment_id.lower() in extra_hex.lower()


def _check_marker(marker: str) -> None:
    if len(marker) != 2 * MARKER_BYTES or any(c not in "0123456789abcdefABCDEF" for c in marker):
        raise ValueError(f"a marker is {MARKER_BYTES} bytes as hex, got {marker!r:.60}")


def _check_destinations(destinations: Sequence[Destination]) -> None:
    if not destinations:
        raise ValueError("a transfer needs at least one destination")
    for destination in destinations:
        if destination.amount <= 0:
            raise ValueError(f"amount to {destination.address} must be positive, got {destination.amount}")


# -- walletd ---------------------------------------------------------------------------------------------

# Refusals walletd gives while checking a request, before a transaction exists: the envelope errors, and
# WalletErrorCategory codes raised by validation (bad address, amounts, fee, mixin, payment id, not enough
# money). INTERNAL_WALLET_ERROR, TX_TRANSFER_IMPOSSIBLE and anything unknown may come after the relay.
_WALLETD_ENVELOPE_REFUSALS = frozenset({-32604, -32600, -32601, -3600})
_WALLETD_WALLET_ERROR = -32700
_WALLETD_VALIDATION_CODES = frozenset({1, 2, 3, 6, 7, 8, 9, 10, 11, 17, 22, 29, 30, 31, 32, 33})
_WALLETD_TRANSACTION_SIZE_TOO_BIG = 8


class WalletdClient:
    """TurtleCoin/Athena walletd ("services") JSON-RPC, rpc password in the body."""

    dialect = "walletd"
    supports_marker = True
    supports_payment_id = True

    def __init__(
        self,
        rpc: JsonRpcClient,
        *,
        rpc_password: str | None,
        transfer_timeout: float = DEFAULT_TRANSFER_TIMEOUT,
    ) -> None:
        self.rpc = rpc
        self._password = rpc_password
        self._transfer_timeout = transfer_timeout
        self._ids = itertools.count(1)
        self._own_addresses: frozenset[str] | None = None

    async def close(self) -> None:
        await self.rpc.close()

    @reads_answer_of("getBalance")
    async def get_balance(self) -> WalletBalance:
        what = "getBalance"
        answer = require_object(await self._call(what, {}), what)
        return WalletBalance(
            unlocked=require_int(answer, "availableBalance", what),
            locked=require_int(answer, "lockedAmount", what),
        )

    async def get_height(self) -> int:
        return (await self.sync()).height

    @reads_answer_of("getStatus")
    async def sync(self) -> WalletSync:
        what = "getStatus"
        answer = require_object(await self._call(what, {}), what)
        count = require_int(answer, "blockCount", what)
        known = require_int(answer, "knownBlockCount", what)
        # walletd processes blocks as its daemon hands them over; one block behind is normal mid-update.
        return WalletSync(height=count, synced=known - count <= 1)

    @reads_answer_of("sendTransaction")
    async def transfer(
        self,
        destinations: Sequence[Destination],
        *,
        fee: int,
        payment_id: str | None = None,
        mixin: int | None = None,
        unlock_time: int = 0,
        marker: str | None = None,
    ) -> TransferResult:
        _check_destinations(destinations)
        if payment_id and marker:
            raise ValueError("walletd takes either a payment id or an extra (the marker), not both")
        params: dict[str, Any] = {
            "transfers": [{"address": d.address, "amount": d.amount} for d in destinations],
            "fee": fee,
            "unlockTime": unlock_time,
        }
        if mixin is not None:
            params["anonymity"] = mixin
        if payment_id:
            params["paymentId"] = payment_id
        if marker:
            params["extra"] = marker_extra(marker)
        what = "sendTransaction"
        answer = require_object(await self._call(what, params, timeout=self._transfer_timeout), what)
        # Some walletd builds wrap the hash in angle brackets.
        bare = {"transactionHash": require_str(answer, "transactionHash", what).strip("<>")}
        return TransferResult(tx_hash=require_hash_hex(bare, "transactionHash", what), fee=fee)

    async def get_outgoing_transfers(self, since_height: int = 0) -> list[OutgoingTransfer]:
        own = await self._addresses()
        count = (await self.sync()).height
        transfers: list[OutgoingTransfer] = []
        for first in range(max(0, since_height), count, _WALLETD_PAGE_BLOCKS):
            block_count = min(_WALLETD_PAGE_BLOCKS, count - first)
            transfers.extend(await self._confirmed_page(first, block_count, own))
        seen = {t.tx_hash for t in transfers}
        for tx_hash in await self._unconfirmed_hashes():
            if tx_hash not in seen:
                transfer = await self.get_transfer(tx_hash)
                if transfer is not None:
                    transfers.append(transfer)
        return transfers

    @reads_answer_of("getTransaction")
    async def get_transfer(self, tx_hash: str) -> OutgoingTransfer | None:
        what = "getTransaction"
        try:
            answer = require_object(await self._call(what, {"transactionHash": tx_hash}), what)
        except WalletRpcError as error:
            if error.code == _WALLETD_WALLET_ERROR and error.application_code in (4, 23):
                return None  # Requested object not found / Object not found
            raise
        info = require_object(answer.get("transaction"), f"{what}.transaction")
        return _walletd_outgoing(info, await self._addresses(), what)

    def proves_not_sent(self, error: RpcFailure) -> bool:
        if not isinstance(error, RpcError):
            return False
        if error.code in _WALLETD_ENVELOPE_REFUSALS:
            return True
        return error.code == _WALLETD_WALLET_ERROR and _application_code(error) in _WALLETD_VALIDATION_CODES

    def too_large(self, error: RpcFailure) -> bool:
        return (
            isinstance(error, WalletRpcError)
            and error.code == _WALLETD_WALLET_ERROR
            and error.application_code == _WALLETD_TRANSACTION_SIZE_TOO_BIG
        )

    @reads_answer_of("getTransactions")
    async def _confirmed_page(self, first: int, count: int, own: frozenset[str]) -> list[OutgoingTransfer]:
        what = "getTransactions"
        params = {"firstBlockIndex": first, "blockCount": count}
        answer = require_object(await self._call(what, params), what)
        items = answer.get("items")
        if not isinstance(items, list):
            raise RpcBadResponse(f"{what}: items is not a list")
        transfers = []
        for item in items:
            infos = require_object(item, f"{what}.items").get("transactions")
            if not isinstance(infos, list):
                raise RpcBadResponse(f"{what}: an item's transactions is not a list")
            for info in infos:
                transfer = _walletd_outgoing(require_object(info, what), own, what)
                if transfer is not None:
                    transfers.append(transfer)
        return transfers

    @reads_answer_of("getUnconfirmedTransactionHashes")
    async def _unconfirmed_hashes(self) -> list[str]:
        what = "getUnconfirmedTransactionHashes"
        answer = require_object(await self._call(what, {}), what)
        hashes = answer.get("transactionHashes")
        if not isinstance(hashes, list):
            raise RpcBadResponse(f"{what}: transactionHashes is not a list")
        return [require_hash_hex({"transactionHash": h}, "transactionHash", what) for h in hashes]

    @reads_answer_of("getAddresses")
    async def _addresses(self) -> frozenset[str]:
        if self._own_addresses is None:
            what = "getAddresses"
            answer = require_object(await self._call(what, {}), what)
            addresses = answer.get("addresses")
            if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
                raise RpcBadResponse(f"{what}: addresses is not a list of strings")
            self._own_addresses = frozenset(addresses)
        return self._own_addresses

    async def _call(self, method: str, params: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        request_id = next(self._ids)
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        if self._password is not None:
            body["password"] = self._password
        reply = await self.rpc.post_json(self.rpc.rpc_path, body, timeout=timeout, label=method)
        return _walletd_result(reply, request_id, method)


def _walletd_result(reply: dict[str, Any], request_id: int, method: str) -> Any:
    error = reply.get("error")
    if error is not None:
        raise _walletd_error(error, method)
    if "result" not in reply:
        raise RpcBadResponse(f"{method}: reply has neither result nor error")
    if "id" in reply and str(reply["id"]) != str(request_id):
        raise RpcBadResponse(f"{method}: reply id {reply['id']!r} does not match request id {request_id}")
    return reply["result"]


def _walletd_error(error: Any, method: str) -> RpcFailure:
    if not isinstance(error, dict):
        return RpcBadResponse(f"{method}: error member is not an object: {error!r:.80}")
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(message, str):
        return RpcBadResponse(f"{method}: malformed error object: {error!r:.120}")
    data = error.get("data")
    application_code = data.get("application_code") if isinstance(data, dict) else None
    if not isinstance(application_code, int) or isinstance(application_code, bool):
        application_code = None
    return WalletRpcError(code, message, application_code)


def _application_code(error: RpcError) -> int | None:
    return error.application_code if isinstance(error, WalletRpcError) else None


def _walletd_outgoing(info: dict[str, Any], own: frozenset[str], what: str) -> OutgoingTransfer | None:
    """A walletd transaction info as an outgoing transfer; None for coinbase and incoming transactions.

    A walletd rebuilt from its keys (reset, or a lost wallet file) lists an outgoing transaction with only
    its own address (the debit and the change): no foreign destination, so they count as unknown. Its
    extra (with our marker) and payment id come from the chain and survive the rebuild."""
    amount = info.get("amount")
    if info.get("isBase") is True or not isinstance(amount, int) or amount >= 0:
        return None
    destinations = []
    for raw in info.get("transfers") or []:
        entry = require_object(raw, f"{what}.transfers")
        address = require_str(entry, "address", what)
        value = entry.get("amount")
        # walletd lists our own address too (the total debit, negative, and change): not a destination.
        if isinstance(value, int) and not isinstance(value, bool) and value > 0 and address not in own:
            destinations.append(Destination(address, value))
    block_index = require_int(info, "blockIndex", what)
    payment_id = info.get("paymentId")
    state = info.get("state", 0)
    return OutgoingTransfer(
        tx_hash=require_hash_hex(info, "transactionHash", what),
        destinations=tuple(destinations),
        fee=require_int(info, "fee", what),
        payment_id=payment_id.lower() if isinstance(payment_id, str) and payment_id else None,
        height=None if block_index == _WALLETD_UNCONFIRMED else block_index,
        extra_hex=info["extra"] if isinstance(info.get("extra"), str) else None,
        failed=state in _WALLETD_FAILED_STATES,
        destinations_known=bool(destinations),
    )


# -- monero-wallet-rpc -----------------------------------------------------------------------------------

# wallet_rpc_server_error_codes.h: refusals raised while building the transaction, before any relay.
# GENERIC_TRANSFER_ERROR (-4), UNKNOWN_ERROR (-1), DAEMON_IS_BUSY (-3) and NO_DAEMON_CONNECTION (-38) can come
# from the relay itself, after the daemon may have taken the transaction: not proof of anything.
_MONERO_PRE_SEND_CODES = frozenset(
    {
        -2,  # WRONG_ADDRESS
        -5,  # WRONG_PAYMENT_ID
        -13,  # NOT_OPEN
        -16,  # TX_NOT_POSSIBLE
        -17,  # NOT_ENOUGH_MONEY
        -18,  # TX_TOO_LARGE
        -19,  # NOT_ENOUGH_OUTS_TO_MIX
        -20,  # ZERO_DESTINATION
        -29,  # WATCH_ONLY
        -37,  # NOT_ENOUGH_UNLOCKED_MONEY
        -32600,  # invalid request
        -32601,  # method not found
        -32602,  # invalid params
        -32700,  # parse error
    }
)
_MONERO_WRONG_TXID = -8
_MONERO_TX_TOO_LARGE = -18


class MoneroWalletClient:
    """monero-wallet-rpc. One batch is one `transfer` (one transaction), so it can be recognised later."""

    dialect = "monero"
    supports_marker = False
    supports_payment_id = False  # standalone payment ids are gone; integrated addresses still work

    def __init__(
        self,
        rpc: JsonRpcClient,
        *,
        transfer_timeout: float = DEFAULT_TRANSFER_TIMEOUT,
        owned_session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.rpc = rpc
        self._transfer_timeout = transfer_timeout
        self._owned_session = owned_session

    async def close(self) -> None:
        await self.rpc.close()
        if self._owned_session is not None and not self._owned_session.closed:
            await self._owned_session.close()

    @reads_answer_of("get_balance")
    async def get_balance(self) -> WalletBalance:
        what = "get_balance"
        answer = require_object(await self.rpc.call(what, {"account_index": 0}), what)
        total = require_int(answer, "balance", what)
        unlocked = require_int(answer, "unlocked_balance", what)
        return WalletBalance(unlocked=unlocked, locked=max(0, total - unlocked))

    @reads_answer_of("get_height")
    async def get_height(self) -> int:
        what = "get_height"
        return require_int(require_object(await self.rpc.call(what), what), "height", what)

    @reads_answer_of("refresh")
    async def sync(self) -> WalletSync:
        what = "refresh"
        require_object(await self.rpc.call(what, {}, timeout=self._transfer_timeout), what)
        # A refresh that returned has scanned up to the daemon's height of that moment.
        return WalletSync(height=await self.get_height(), synced=True)

    @reads_answer_of("transfer")
    async def transfer(
        self,
        destinations: Sequence[Destination],
        *,
        fee: int,
        payment_id: str | None = None,
        mixin: int | None = None,
        unlock_time: int = 0,
        marker: str | None = None,
    ) -> TransferResult:
        """`fee` is not sent: monero-wallet-rpc picks the fee from its priority (0 = the wallet default).
        `mixin` is not sent either: the ring size is fixed by consensus."""
        _check_destinations(destinations)
        if payment_id or marker:
            raise ValueError("monero-wallet-rpc takes neither a standalone payment id nor a marker")
        params: dict[str, Any] = {
            "destinations": [{"address": d.address, "amount": d.amount} for d in destinations],
            "priority": 0,
            "unlock_time": unlock_time,
            "get_tx_key": False,
        }
        what = "transfer"
        answer = require_object(await self.rpc.call(what, params, timeout=self._transfer_timeout), what)
        return TransferResult(
            tx_hash=require_hash_hex(answer, "tx_hash", what), fee=require_int(answer, "fee", what)
        )

    @reads_answer_of("get_transfers")
    async def get_outgoing_transfers(self, since_height: int = 0) -> list[OutgoingTransfer]:
        what = "get_transfers"
        params: dict[str, Any] = {"out": True, "pending": True, "pool": True, "failed": True}
        if since_height > 0:
            # min_height is exclusive in wallet2::get_payments_out.
            params.update(filter_by_height=True, min_height=since_height - 1)
        answer = require_object(await self.rpc.call(what, params), what)
        transfers: list[OutgoingTransfer] = []
        for category in ("out", "pending", "pool", "failed"):
            entries = answer.get(category, [])
            if not isinstance(entries, list):
                raise RpcBadResponse(f"{what}: {category} is not a list")
            transfers.extend(_monero_outgoing(require_object(e, what), what) for e in entries)
        return [t for t in transfers if t.height is None or t.height >= since_height]

    @reads_answer_of("get_transfer_by_txid")
    async def get_transfer(self, tx_hash: str) -> OutgoingTransfer | None:
        what = "get_transfer_by_txid"
        try:
            answer = require_object(await self.rpc.call(what, {"txid": tx_hash}), what)
        except RpcError as error:
            if error.code == _MONERO_WRONG_TXID:
                return None
            raise
        entry = require_object(answer.get("transfer"), f"{what}.transfer")
        if entry.get("type") not in ("out", "pending", "pool", "failed"):
            return None
        return _monero_outgoing(entry, what)

    def proves_not_sent(self, error: RpcFailure) -> bool:
        return isinstance(error, RpcError) and error.code in _MONERO_PRE_SEND_CODES

    def too_large(self, error: RpcFailure) -> bool:
        return isinstance(error, RpcError) and error.code == _MONERO_TX_TOO_LARGE


def _monero_outgoing(entry: dict[str, Any], what: str) -> OutgoingTransfer:
    destinations = tuple(
        Destination(require_str(d, "address", what), require_int(d, "amount", what))
        for d in (require_object(raw, f"{what}.destinations") for raw in entry.get("destinations") or [])
    )
    payment_id = entry.get("payment_id")
    kind = entry.get("type")
    height = require_int(entry, "height", what)
    return OutgoingTransfer(
        tx_hash=require_hash_hex(entry, "txid", what),
        destinations=destinations,
        fee=require_int(entry, "fee", what),
        payment_id=None
        if not isinstance(payment_id, str) or payment_id in _MONERO_NO_PAYMENT_ID
        else payment_id,
        # Pending and pool transfers report height 0: not in a block yet.
        height=height if kind == "out" and height > 0 else None,
        extra_hex=None,
        failed=kind == "failed" or entry.get("double_spend_seen") is True,
        destinations_known=bool(destinations),
    )


# -- construction ----------------------------------------------------------------------------------------


def create_wallet_client(
    dialect: str,
    url: str,
    *,
    rpc_password: str | None = None,
    rpc_login: tuple[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    transfer_timeout: float = DEFAULT_TRANSFER_TIMEOUT,
    timings: EndpointTimings | None = None,
) -> WalletClient:
    """A wallet client for `dialect` ("walletd" or "monero") at `url` (http://host:port).

    walletd takes `rpc_password` (sent in the body); monero-wallet-rpc takes `rpc_login` (user, password) for
    its HTTP digest authentication, or nothing when it runs with --disable-rpc-login. `timings` records
    every call (for the metrics).
    """
    if transfer_timeout <= 0:
        raise ValueError("transfer_timeout must be positive")
    if dialect == "walletd":
        if rpc_login is not None:
            raise ValueError("walletd authenticates with rpc_password, not rpc_login")
        rpc = JsonRpcClient(url, timeout=timeout, max_concurrency=1, timings=timings)
        return WalletdClient(rpc, rpc_password=rpc_password, transfer_timeout=transfer_timeout)
    if dialect == "monero":
        if rpc_password is not None:
            raise ValueError("monero-wallet-rpc authenticates with rpc_login, not rpc_password")
        session = None
        if rpc_login is not None:
            session = aiohttp.ClientSession(middlewares=(aiohttp.DigestAuthMiddleware(*rpc_login),))
        # One call at a time: the wallet serialises them anyway, and a queue of transfers is never wanted.
        rpc = JsonRpcClient(url, session=session, timeout=timeout, max_concurrency=1, timings=timings)
        return MoneroWalletClient(rpc, transfer_timeout=transfer_timeout, owned_session=session)
    raise ValueError(f"unknown wallet dialect {dialect!r}; known: {', '.join(WALLET_DIALECTS)}")
