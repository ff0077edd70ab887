"""The devnet wallet's money: coinbase receipts read from the chain, sends kept in a durable journal.

Receipts are the main-chain blocks whose coinbase pays the wallet address; a block's coins unlock once it
has `unlock_window` blocks on top (4 for Athena) and vanish if the block is orphaned, exactly what the pool's
payment side must cope with. Sends are appended to the journal (fsynced) before `send` returns, so a crash
or a lost reply never loses or duplicates one. Simplifications: no change outputs (sending debits amount +
fee from the available balance at once), and a send counts as confirmed in the first block after it.

Rules and error codes follow TurtleCoin walletd (`WalletService.cpp`, `WalletErrors.h`,
`WalletServiceErrorCategory.h`) with Athena's parameters: minimum fee 10000 atomic units, mixin exactly 3.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Any

from athena_pool.coins.addresses import AddressError, AddressKind, decode_address
from athena_pool.coins.hashing import cn_fast_hash
from athena_pool.devnet.chain import Chain, ChainBlock
from athena_pool.devnet.journal import Journal

UNCONFIRMED_BLOCK_INDEX = 2**32 - 1  # WALLET_UNCONFIRMED_TRANSACTION_HEIGHT
MAX_AMOUNT = 2**64 - 1
PAYMENT_ID_CHARS = 64
TX_STATE_SUCCEEDED = 0
TRANSFER_TYPE_USUAL = 0
RECORD_TYPE_SEND = "send"


class WalletErrorCode(Enum):
    """(application_code, message): WalletErrorCategory (1..) and WalletServiceErrorCategory (1..6)."""

    BAD_ADDRESS = (7, "Bad address")
    WRONG_AMOUNT = (9, "Wrong amount")
    SUM_OVERFLOW = (10, "Sum overflow")
    ZERO_DESTINATION = (11, "The destination is empty")
    FEE_TOO_SMALL = (17, "Transaction fee is too small")
    WRONG_PARAMETERS = (22, "Wrong parameters passed")
    OBJECT_NOT_FOUND = (23, "Object not found")
    MIXIN_BELOW_THRESHOLD = (31, "Mixin below minimum allowed threshold")
    MIXIN_ABOVE_THRESHOLD = (32, "Mixin above maximum allowed threshold")
    CONFLICTING_PAYMENT_IDS = (
        33,
        "Multiple conflicting payment ID's were specified via the use of integrated addresses",
    )
    SERVICE_WRONG_PAYMENT_ID_FORMAT = (2, "Wrong payment id format")
    SERVICE_WRONG_HASH_FORMAT = (3, "Wrong block id format")
    SERVICE_OBJECT_NOT_FOUND = (4, "Requested object not found")

    @property
    def application_code(self) -> int:
        return self.value[0]

    @property
    def message(self) -> str:
        return self.value[1]


class WalletError(Exception):
    def __init__(self, code: WalletErrorCode) -> None:
        super().__init__(code.message)
        self.code = code


@dataclass(frozen=True)
class WalletParams:
    minimum_fee: int = 10_000  # Athena MINIMUM_FEE
    minimum_mixin: int = 3  # MINIMUM_MIXIN_V2
    maximum_mixin: int = 3  # MAXIMUM_MIXIN_V2
    default_mixin: int = 3  # DEFAULT_MIXIN: used when a request has no `anonymity`
    max_transfers: int = 1000


@dataclass(frozen=True)
class Balance:
    available: int
    locked: int


@dataclass(frozen=True)
class Transfer:
    address: str
    amount: int


@dataclass(frozen=True)
class SendRequest:
    transfers: tuple[Transfer, ...]
    fee: int
    anonymity: int
    unlock_time: int = 0
    payment_id: str = ""
    extra_hex: str = ""


@dataclass(frozen=True)
class SentTransaction:
    transaction_hash: str
    sequence: int
    transfers: tuple[Transfer, ...]
    fee: int
    anonymity: int
    unlock_time: int
    payment_id: str
    extra_hex: str
    timestamp: int
    top_height: int  # chain height when sent: it counts as confirmed in the next block
    nonce: str  # random, so two identical sends get different hashes

    @property
    def total_debit(self) -> int:
        return sum(transfer.amount for transfer in self.transfers) + self.fee

    def record(self) -> dict[str, Any]:
        return {"type": RECORD_TYPE_SEND, **asdict(self)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SentTransaction:
        fields = {key: value for key, value in record.items() if key != "type"}
        fields["transfers"] = tuple(Transfer(**transfer) for transfer in fields["transfers"])
        sent = cls(**fields)
        if sent.transaction_hash != transaction_hash_of(sent):
            raise ValueError(f"journal record {sent.sequence} does not match its transaction hash")
        return sent


def transaction_hash_of(sent: SentTransaction) -> str:
    """Keccak-256 of the canonical JSON of everything but the hash itself."""
    body = {key: value for key, value in asdict(sent).items() if key != "transaction_hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return cn_fast_hash(canonical).hex()


class WalletLedger:
    def __init__(
        self,
        chain: Chain,
        address: str,
        journal: Journal,
        *,
        params: WalletParams,
        clock: Callable[[], float],
        rng: random.Random,
        address_network: str = "athena",
    ) -> None:
        self.chain = chain
        self.address = address
        self.params = params
        self._journal = journal
        self._clock = clock
        self._rng = rng
        self._network = address_network
        self._sent: list[SentTransaction] = [
            SentTransaction.from_record(record)
            for record in journal.load()
            if record.get("type") == RECORD_TYPE_SEND
        ]
        self._by_hash = {sent.transaction_hash: sent for sent in self._sent}

    # -- balance -----------------------------------------------------------------------------------

    def receipts(self) -> list[ChainBlock]:
        return [block for block in self.chain.main_blocks() if block.miner_address == self.address]

    def is_unlocked(self, block: ChainBlock) -> bool:
        return self.chain.height - block.height >= self.chain.params.unlock_window

    def balance(self) -> Balance:
        unlocked = locked = 0
        for block in self.receipts():
            if self.is_unlocked(block):
                unlocked += block.reward
            else:
                locked += block.reward
        spent = sum(sent.total_debit for sent in self._sent)
        # An orphaned coinbase can take back coins already spent; the balance floors at zero.
        return Balance(available=max(0, unlocked - spent), locked=locked)

    # -- sending -----------------------------------------------------------------------------------

    def send(self, request: SendRequest) -> SentTransaction:
        payment_id = self._check_request(request)
        debit = sum(transfer.amount for transfer in request.transfers) + request.fee
        if debit > MAX_AMOUNT:
            raise WalletError(WalletErrorCode.SUM_OVERFLOW)
        if debit > self.balance().available:
            raise WalletError(WalletErrorCode.WRONG_AMOUNT)  # WalletGreen: "Not enough money"
        sent = self._new_transaction(request, payment_id)
        self._journal.append(sent.record())  # durable before anyone hears about it
        self._sent.append(sent)
        self._by_hash[sent.transaction_hash] = sent
        return sent

    def _check_request(self, request: SendRequest) -> str:
        """Check in walletd's order (addresses, mixin, payment id, destinations, amounts, fee).

        Returns the payment id the transaction carries (given, or embedded in an integrated address).
        """
        embedded = {self._embedded_payment_id(transfer.address) for transfer in request.transfers} - {None}
        if request.anonymity < self.params.minimum_mixin:
            raise WalletError(WalletErrorCode.MIXIN_BELOW_THRESHOLD)
        if request.anonymity > self.params.maximum_mixin:
            raise WalletError(WalletErrorCode.MIXIN_ABOVE_THRESHOLD)
        payment_id = request.payment_id.lower()
        if payment_id and not _is_payment_id(payment_id):
            raise WalletError(WalletErrorCode.SERVICE_WRONG_PAYMENT_ID_FORMAT)
        if len(embedded) > 1 or (embedded and payment_id and embedded != {payment_id}):
            raise WalletError(WalletErrorCode.CONFLICTING_PAYMENT_IDS)
        if not request.transfers:
            raise WalletError(WalletErrorCode.ZERO_DESTINATION)
        if len(request.transfers) > self.params.max_transfers:
            raise WalletError(WalletErrorCode.WRONG_PARAMETERS)
        if any(not 0 < transfer.amount <= MAX_AMOUNT for transfer in request.transfers):
            raise WalletError(WalletErrorCode.WRONG_AMOUNT)
        if request.fee < self.params.minimum_fee:
            raise WalletError(WalletErrorCode.FEE_TOO_SMALL)
        return payment_id or next(iter(embedded), None) or ""

    def _embedded_payment_id(self, address: str) -> str | None:
        try:
            decoded = decode_address(address, self._network)
        except AddressError:
            raise WalletError(WalletErrorCode.BAD_ADDRESS) from None
        return decoded.payment_id_hex if decoded.kind is AddressKind.INTEGRATED else None

    def _new_transaction(self, request: SendRequest, payment_id: str) -> SentTransaction:
        draft = SentTransaction(
            transaction_hash="",
            sequence=len(self._sent),
            transfers=request.transfers,
            fee=request.fee,
            anonymity=request.anonymity,
            unlock_time=request.unlock_time,
            payment_id=payment_id,
            extra_hex=_payment_id_extra(payment_id) if payment_id else request.extra_hex,
            timestamp=int(self._clock()),
            top_height=self.chain.height,
            nonce=self._rng.randbytes(16).hex(),
        )
        return replace(draft, transaction_hash=transaction_hash_of(draft))

    # -- history -----------------------------------------------------------------------------------

    @property
    def sent(self) -> Sequence[SentTransaction]:
        return tuple(self._sent)

    def find_sent(self, transaction_hash: str) -> SentTransaction | None:
        return self._by_hash.get(transaction_hash.lower())

    def confirmation_block(self, sent: SentTransaction) -> ChainBlock | None:
        return self.chain.block_at(sent.top_height + 1)

    def receipt_by_coinbase_hash(self, transaction_hash: str) -> ChainBlock | None:
        return next((b for b in self.receipts() if b.coinbase_hash.hex() == transaction_hash.lower()), None)


def _is_payment_id(text: str) -> bool:
    return len(text) == PAYMENT_ID_CHARS and all(c in "0123456789abcdef" for c in text)


def _payment_id_extra(payment_id: str) -> str:
    """TX_EXTRA_NONCE (02) holding TX_EXTRA_NONCE_PAYMENT_ID (00) and the 32-byte id: 02 21 00 <id>."""
    return "022100" + payment_id
