"""The devnet wallet: TurtleCoin walletd's ("services") JSON-RPC over aiohttp, money from the devnet chain.

Envelope and errors as walletd's `JsonRpcServer.cpp` / `PaymentServiceJsonRpcServer.cpp` make them:
the rpc password travels in the request body's `password` field and a missing or wrong one is answered
`{"code": -32604, "message": "Invalid or no rpc password"}`; a request whose params do not parse gets
-32600 "Invalid Request"; a wallet error gets code -32700 with its message and `data.application_code`.

Methods: getStatus, getBalance, getAddresses, sendTransaction, getTransaction, getTransactions,
getTransactionHashes, getUnconfirmedTransactionHashes, save.

Operator/test endpoints (not part of walletd), under /devnet/:
    POST /devnet/faults {"lose_send_replies": N, "mode": "drop"|"delay", "delay_seconds": S}
        the next N successful sends are recorded but their reply is lost: the connection is cut
        ("drop") or the reply comes after S seconds ("delay"), to test a payer that must not pay twice.
    GET  /devnet/status
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aiohttp import web

from athena_pool.devnet.chain import ChainBlock
from athena_pool.devnet.jsonrpc import (
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    JsonObject,
    ParamError,
    RpcError,
    error_response,
    read_json_object,
    result_response,
    text,
    unsigned,
)
from athena_pool.devnet.wallet_ledger import (
    TRANSFER_TYPE_USUAL,
    TX_STATE_SUCCEEDED,
    UNCONFIRMED_BLOCK_INDEX,
    SendRequest,
    SentTransaction,
    Transfer,
    WalletError,
    WalletErrorCode,
    WalletLedger,
)

log = logging.getLogger(__name__)

INVALID_PASSWORD = -32604
INVALID_REQUEST = -32600
MISSING_METHOD = -3600  # walletd's own code for a request without a string "method"
MAX_REQUEST_BYTES = 1024 * 1024
MAX_BLOCK_COUNT = 100_000
MAX_ADDRESS_CHARS = 256


class ReplyLoss(Enum):
    DROP = "drop"
    DELAY = "delay"


@dataclass
class WalletFaults:
    """Test switches; see the module docstring."""

    lose_send_replies: int = 0
    mode: ReplyLoss = ReplyLoss.DROP
    delay_seconds: float = 30.0
    lost_replies: int = 0  # how many replies were lost so far

    def take_loss(self) -> ReplyLoss | None:
        if self.lose_send_replies <= 0:
            return None
        self.lose_send_replies -= 1
        self.lost_replies += 1
        return self.mode


class DevnetWallet:
    def __init__(
        self, ledger: WalletLedger, *, rpc_password: str | None, faults: WalletFaults | None = None
    ) -> None:
        self.ledger = ledger
        self.faults = faults or WalletFaults()
        self._password = rpc_password
        self._methods: dict[str, Callable[[Mapping[str, Any]], JsonObject]] = {
            "getStatus": self._get_status,
            "getBalance": self._get_balance,
            "getAddresses": self._get_addresses,
            "sendTransaction": self._send_transaction,
            "getTransaction": self._get_transaction,
            "getTransactions": self._get_transactions,
            "getTransactionHashes": self._get_transaction_hashes,
            "getUnconfirmedTransactionHashes": self._get_unconfirmed_hashes,
            "save": lambda params: {},
        }

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post("/json_rpc", self._json_rpc)
        app.router.add_post("/devnet/faults", self._operator_faults)
        app.router.add_get("/devnet/status", self._operator_status)
        return app

    # -- envelope ----------------------------------------------------------------------------------

    async def _json_rpc(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await read_json_object(request)
        except RpcError as error:
            return error_response(None, error)
        try:
            self._check_password(body)
            method = self._method(body)
            params = body.get("params", {})
            if not isinstance(params, Mapping):
                raise RpcError(INVALID_REQUEST, "Invalid Request")
            result = self._call(method, params)
        except RpcError as error:
            return error_response(body, error)
        response = result_response(body, result)
        if method == "sendTransaction":
            return await self._maybe_lose_reply(request, response)
        return response

    def _check_password(self, body: Mapping[str, Any]) -> None:
        if self._password is None:
            return  # walletd --rpc-legacy-security
        given = body.get("password")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), self._password.encode()):
            raise RpcError(INVALID_PASSWORD, "Invalid or no rpc password")

    def _method(self, body: Mapping[str, Any]) -> str:
        method = body.get("method")
        if not isinstance(method, str):
            raise RpcError(MISSING_METHOD, "Invalid Request")
        if method not in self._methods:
            raise RpcError(METHOD_NOT_FOUND, "Method not found")
        return method

    def _call(self, method: str, params: Mapping[str, Any]) -> JsonObject:
        try:
            return self._methods[method](params)
        except ParamError:
            raise RpcError(INVALID_REQUEST, "Invalid Request") from None
        except WalletError as error:
            code = error.code
            raise RpcError(PARSE_ERROR, code.message, {"application_code": code.application_code}) from None

    async def _maybe_lose_reply(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        loss = self.faults.take_loss()
        if loss is ReplyLoss.DELAY:
            await asyncio.sleep(self.faults.delay_seconds)
            return response
        if loss is ReplyLoss.DROP:
            log.info("test fault: dropping the reply to a recorded sendTransaction")
            if request.transport is not None:
                request.transport.abort()
            return response
        return response

    # -- methods -----------------------------------------------------------------------------------

    def _get_status(self, params: Mapping[str, Any]) -> JsonObject:
        chain = self.ledger.chain
        count = chain.height + 1
        return {
            "blockCount": count,
            "knownBlockCount": count,
            "localDaemonBlockCount": count,
            "lastBlockHash": chain.tip.block_id.hex(),
            "peerCount": 0,
        }

    def _get_balance(self, params: Mapping[str, Any]) -> JsonObject:
        address = text(params, "address", default="", max_length=MAX_ADDRESS_CHARS)
        if address and address != self.ledger.address:
            raise WalletError(WalletErrorCode.OBJECT_NOT_FOUND)
        balance = self.ledger.balance()
        return {"availableBalance": balance.available, "lockedAmount": balance.locked}

    def _get_addresses(self, params: Mapping[str, Any]) -> JsonObject:
        return {"addresses": [self.ledger.address]}

    def _send_transaction(self, params: Mapping[str, Any]) -> JsonObject:
        request = _parse_send(params, self.ledger.params.default_mixin)
        for source in _string_list(params, "addresses"):
            if source != self.ledger.address:
                raise WalletError(WalletErrorCode.BAD_ADDRESS)
        sent = self.ledger.send(request)
        log.info(
            "sent %s: %d atomic units + fee %d", sent.transaction_hash, sent.total_debit - sent.fee, sent.fee
        )
        return {"transactionHash": sent.transaction_hash}

    def _get_transaction(self, params: Mapping[str, Any]) -> JsonObject:
        transaction_hash = text(params, "transactionHash", max_length=MAX_ADDRESS_CHARS)
        if not _is_hash(transaction_hash):
            raise WalletError(WalletErrorCode.SERVICE_WRONG_HASH_FORMAT)
        sent = self.ledger.find_sent(transaction_hash)
        if sent is not None:
            return {"transaction": self._sent_info(sent)}
        receipt = self.ledger.receipt_by_coinbase_hash(transaction_hash)
        if receipt is not None:
            return {"transaction": self._receipt_info(receipt)}
        raise WalletError(WalletErrorCode.SERVICE_OBJECT_NOT_FOUND)

    def _get_transactions(self, params: Mapping[str, Any]) -> JsonObject:
        items = [
            {"blockHash": block.block_id.hex(), "transactions": infos}
            for block, infos in self._transactions_by_block(params)
        ]
        return {"items": items}

    def _get_transaction_hashes(self, params: Mapping[str, Any]) -> JsonObject:
        items = [
            {"blockHash": block.block_id.hex(), "transactionHashes": [i["transactionHash"] for i in infos]}
            for block, infos in self._transactions_by_block(params)
        ]
        return {"items": items}

    def _get_unconfirmed_hashes(self, params: Mapping[str, Any]) -> JsonObject:
        sent = self.ledger.sent
        unconfirmed = [s.transaction_hash for s in sent if self.ledger.confirmation_block(s) is None]
        return {"transactionHashes": unconfirmed}

    # -- history views -----------------------------------------------------------------------------

    def _transactions_by_block(self, params: Mapping[str, Any]) -> list[tuple[ChainBlock, list[JsonObject]]]:
        first, count = self._block_range(params)
        addresses = set(_string_list(params, "addresses"))
        payment_id = text(params, "paymentId", default="", max_length=64).lower()
        sends_by_height: dict[int, list[SentTransaction]] = {}
        for sent in self.ledger.sent:
            sends_by_height.setdefault(sent.top_height + 1, []).append(sent)
        result = []
        for block in self.ledger.chain.main_blocks(first, count):
            infos = self._infos_in_block(block, sends_by_height.get(block.height, []))
            matching = [info for info in infos if _matches(info, addresses, payment_id)]
            if matching:
                result.append((block, matching))
        return result

    def _block_range(self, params: Mapping[str, Any]) -> tuple[int, int]:
        # Exactly one of blockHash / firstBlockIndex, and a blockCount (PaymentServiceJsonRpcMessages.cpp).
        if ("blockHash" in params) == ("firstBlockIndex" in params):
            raise ParamError("give exactly one of blockHash and firstBlockIndex")
        count = unsigned(params, "blockCount", maximum=MAX_BLOCK_COUNT)
        if "firstBlockIndex" in params:
            return unsigned(params, "firstBlockIndex", maximum=2**32 - 1), count
        block_hash = text(params, "blockHash", max_length=64)
        if not _is_hash(block_hash):
            raise WalletError(WalletErrorCode.SERVICE_WRONG_HASH_FORMAT)
        block = self.ledger.chain.block_by_id(bytes.fromhex(block_hash))
        if block is None or not self.ledger.chain.is_main(block):
            raise WalletError(WalletErrorCode.SERVICE_OBJECT_NOT_FOUND)
        return block.height, count

    def _infos_in_block(self, block: ChainBlock, sends: list[SentTransaction]) -> list[JsonObject]:
        infos = [self._receipt_info(block)] if block.miner_address == self.ledger.address else []
        return infos + [self._sent_info(sent) for sent in sends]

    def _receipt_info(self, block: ChainBlock) -> JsonObject:
        return {
            "state": TX_STATE_SUCCEEDED,
            "transactionHash": block.coinbase_hash.hex(),
            "blockIndex": block.height,
            "timestamp": block.timestamp,
            "isBase": True,
            "unlockTime": block.height + self.ledger.chain.params.unlock_window,
            "amount": block.reward,
            "fee": 0,
            "transfers": [_transfer_info(self.ledger.address, block.reward)],
            "extra": "",
            "paymentId": "",
        }

    def _sent_info(self, sent: SentTransaction) -> JsonObject:
        block = self.ledger.confirmation_block(sent)
        transfers = [_transfer_info(transfer.address, transfer.amount) for transfer in sent.transfers]
        transfers.append(_transfer_info(self.ledger.address, -sent.total_debit))
        return {
            "state": TX_STATE_SUCCEEDED,
            "transactionHash": sent.transaction_hash,
            "blockIndex": UNCONFIRMED_BLOCK_INDEX if block is None else block.height,
            "timestamp": 0 if block is None else block.timestamp,
            "isBase": False,
            "unlockTime": sent.unlock_time,
            "amount": -sent.total_debit,
            "fee": sent.fee,
            "transfers": transfers,
            "extra": sent.extra_hex,
            "paymentId": sent.payment_id,
        }

    # -- operator ----------------------------------------------------------------------------------

    async def _operator_faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be an object")
            self.faults.lose_send_replies = unsigned(body, "lose_send_replies", default=0, maximum=1000)
            self.faults.mode = ReplyLoss(body.get("mode", self.faults.mode.value))
            delay = body.get("delay_seconds", self.faults.delay_seconds)
            if not isinstance(delay, int | float) or not 0 <= delay <= 3600:
                raise ValueError("delay_seconds must be 0..3600")
            self.faults.delay_seconds = float(delay)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(_faults_json(self.faults))

    async def _operator_status(self, request: web.Request) -> web.Response:
        balance = self.ledger.balance()
        return web.json_response(
            {
                "address": self.ledger.address,
                "availableBalance": balance.available,
                "lockedAmount": balance.locked,
                "sent": len(self.ledger.sent),
                "faults": _faults_json(self.faults),
            }
        )


def _faults_json(faults: WalletFaults) -> JsonObject:
    return {
        "lose_send_replies": faults.lose_send_replies,
        "mode": faults.mode.value,
        "delay_seconds": faults.delay_seconds,
        "lost_replies": faults.lost_replies,
    }


def _parse_send(params: Mapping[str, Any], default_mixin: int) -> SendRequest:
    raw_transfers = params.get("transfers")
    if not isinstance(raw_transfers, list):
        raise ParamError("transfers must be a list")
    transfers = tuple(_parse_transfer(item) for item in raw_transfers)
    if "extra" in params and "paymentId" in params:
        raise ParamError("extra and paymentId are exclusive")
    return SendRequest(
        transfers=transfers,
        fee=unsigned(params, "fee"),
        anonymity=unsigned(params, "anonymity", default=default_mixin),
        unlock_time=unsigned(params, "unlockTime", default=0),
        payment_id=text(params, "paymentId", default="", max_length=256),
        extra_hex=text(params, "extra", default="", max_length=4096),
    )


def _parse_transfer(item: object) -> Transfer:
    if not isinstance(item, Mapping):
        raise ParamError("each transfer must be an object")
    return Transfer(
        address=text(item, "address", max_length=MAX_ADDRESS_CHARS),
        amount=unsigned(item, "amount"),
    )


def _string_list(params: Mapping[str, Any], name: str) -> list[str]:
    value = params.get(name, [])
    if not isinstance(value, list) or not all(_is_short_text(v) for v in value):
        raise ParamError(f"{name} must be a list of strings")
    return list(value)


def _is_short_text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ADDRESS_CHARS


def _transfer_info(address: str, amount: int) -> JsonObject:
    return {"type": TRANSFER_TYPE_USUAL, "address": address, "amount": amount}


def _is_hash(text_value: str) -> bool:
    return len(text_value) == 64 and all(c in "0123456789abcdefABCDEF" for c in text_value)


def _matches(info: JsonObject, addresses: set[str], payment_id: str) -> bool:
    if payment_id and info["paymentId"] != payment_id:
        return False
    return not addresses or any(transfer["address"] in addresses for transfer in info["transfers"])
