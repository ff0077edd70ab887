"""Balances are kept per account: an address, or `ADDRESS.PAYMENTID` (the stratum login's payout
destination). This module turns an account into where the coins go, or says why it cannot be paid."""

from __future__ import annotations

import re
from dataclasses import dataclass

from athena_pool.coins.addresses import AddressError, AddressKind, decode_address
from athena_pool.coins.profiles import Coin

PAYMENT_ID_SEPARATOR = "."  # as in stratum/login.py: base58 never contains it
_PAYMENT_ID = re.compile(r"[0-9a-f]{64}")


class UnpayableAccountError(ValueError):
    """The account cannot be paid as it is; its balance stays until an operator looks at it."""


@dataclass(frozen=True)
class Payee:
    account: str
    address: str
    payment_id: str | None  # a standalone payment id (walletd's paymentId)
    integrated: bool  # the address embeds a payment id

    @property
    def needs_own_transaction(self) -> bool:
        """A transaction carries one payment id, so such a payee never shares one."""
        return self.payment_id is not None or self.integrated


def parse_account(account: str, coin: Coin) -> Payee:
    """Raises UnpayableAccountError with the reason when the account is not payable on `coin`."""
    address, separator, payment_id = account.partition(PAYMENT_ID_SEPARATOR)
    try:
        decoded = decode_address(address, coin.network())
    except AddressError as exc:
        raise UnpayableAccountError(f"not {coin.name} address: {exc}") from None
    integrated = decoded.kind is AddressKind.INTEGRATED
    if not separator:
        return Payee(account, address, None, integrated)
    if not coin.supports_payment_ids:
        raise UnpayableAccountError(f"{coin.name} wallets take no standalone payment id")
    if not _PAYMENT_ID.fullmatch(payment_id):
        raise UnpayableAccountError("the payment id is not 64 lower-case hex characters")
    if integrated:
        raise UnpayableAccountError("an integrated address cannot take a second payment id")
    return Payee(account, address, payment_id, False)
