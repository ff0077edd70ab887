"""The payment processor's settings (all amounts in atomic units) and the pool wallet's connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from athena_pool.rpc.timings import EndpointTimings
from athena_pool.rpc.wallet import DEFAULT_TRANSFER_TIMEOUT, WalletClient, create_wallet_client

# Outputs per Monero transaction are capped at 16 (bulletproofs), one of which is the change.
MONERO_MAX_DESTINATIONS = 15


@dataclass(frozen=True)
class WalletSettings:
    """The pool wallet. `walletd` takes `rpc_password` (walletd --rpc-password); `monero` takes
    `rpc_user` and `rpc_password` for monero-wallet-rpc's --rpc-login, or neither with --disable-rpc-login."""

    dialect: Literal["walletd", "monero"] = "walletd"
    url: str = "http://127.0.0.1:8070"
    rpc_password: str | None = None
    rpc_user: str | None = None
    timeout: float = 10.0  # every call but transfer and sync
    transfer_timeout: float = DEFAULT_TRANSFER_TIMEOUT

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.transfer_timeout <= 0:
            raise ValueError("wallet timeouts must be positive")
        if self.rpc_user is not None and self.dialect != "monero":
            raise ValueError("rpc_user is for monero-wallet-rpc; walletd only takes rpc_password")

    def create_client(self, timings: EndpointTimings | None = None) -> WalletClient:
        """`timings` records every call to the wallet (for the metrics)."""
        if self.dialect == "monero":
            login = (self.rpc_user, self.rpc_password or "") if self.rpc_user is not None else None
            return create_wallet_client(
                "monero",
                self.url,
                rpc_login=login,
                timeout=self.timeout,
                transfer_timeout=self.transfer_timeout,
                timings=timings,
            )
        return create_wallet_client(
            "walletd", self.url, rpc_password=self.rpc_password, timeout=self.timeout,
            transfer_timeout=self.transfer_timeout, timings=timings,
        )  # fmt: skip


@dataclass(frozen=True)
class PaymentSettings:
    """How and when miners are paid.

    - A balance is due once it reaches the miner's own threshold (`payout-threshold`, set through the API),
      clamped to `min_payout`..`max_threshold`, or `min_payout` when the miner set none. `min_payout` None
      means one whole coin.
    - The payout is the balance rounded down to a multiple of `denomination`, at most
      `max_transaction_amount` (0: no limit); the rest stays in the balance.
    - Up to `max_addresses` payees share a transaction whose payouts add up to at most
      `max_transaction_amount`. A payee with a payment id (ADDRESS.PAYMENTID, or an integrated address)
      always gets a transaction of its own, since a transaction carries one payment id.
    - `fee`: walletd sends it as the transaction fee (times the payees with `fee_per_destination`);
      monero-wallet-rpc picks its own fee, so there `fee` is only the estimate used to check the wallet's
      funds and to charge miners. With `miner_pays_fee` the fee is deducted from the payouts: each payee
      pays `fee` with `fee_per_destination`, else an equal share of it (the first payees pay the remainder).
    - A transfer whose reply was lost is proven absent once the wallet is `absence_confirmations` blocks
      past the height recorded before the call AND `wallet.transfer_timeout + absence_margin` seconds have
      passed since the call began, with no matching transfer in its history. Blocks alone prove nothing
      while the call may still be running (3 TurtleCoin blocks are 90 s, less than the 120 s default
      transfer timeout), and a wallet may still build and relay a transfer after the pool stopped waiting:
      `absence_margin` is that grace: at least one ordinary call's `wallet.timeout`, which is its default.
    - `lease_time`: a pass renews its lease before and after every long wallet call (transfer, and on
      monero-wallet-rpc the refresh of `sync`, both bounded by `wallet.transfer_timeout`), so the longest
      stretch without a renewal is one long call and two ordinary ones; the lease must outlast it.
    """

    enabled: bool = False
    interval: float = 600.0  # seconds between passes
    min_payout: int | None = None
    max_threshold: int | None = None  # None: no upper bound for a miner's own threshold
    denomination: int = 1
    max_addresses: int = MONERO_MAX_DESTINATIONS
    max_transaction_amount: int = 0
    fee: int = 0
    fee_per_destination: bool = False
    miner_pays_fee: bool = False
    mixin: int | None = None  # walletd's anonymity; None: the wallet's default. Monero fixes the ring size.
    unlock_time: int = 0
    absence_confirmations: int = 3
    absence_margin: float | None = None  # seconds past wallet.transfer_timeout; None: wallet.timeout
    lease_time: float = 300.0  # seconds a pass may go without renewing the payment lease
    wallet: WalletSettings = field(default_factory=WalletSettings)

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def absence_wait(self) -> float:
        """Seconds from the start of a wallet call before its transfer can be proven absent."""
        margin = self.wallet.timeout if self.absence_margin is None else self.absence_margin
        return self.wallet.transfer_timeout + margin

    def _problems(self) -> list[str]:
        problems = []
        if self.interval <= 0:
            problems.append("interval must be positive")
        if self.min_payout is not None and self.min_payout <= 0:
            problems.append("min_payout must be positive")
        if self.max_threshold is not None and self.max_threshold < (self.min_payout or 1):
            problems.append("max_threshold must be at least min_payout")
        if self.denomination < 1:
            problems.append("denomination must be at least 1")
        if self.max_addresses < 1:
            problems.append("max_addresses must be at least 1")
        if self.max_transaction_amount < 0 or self.fee < 0 or self.unlock_time < 0:
            problems.append("max_transaction_amount, fee and unlock_time must not be negative")
        if self.absence_confirmations < 1:
            problems.append("absence_confirmations must be at least 1")
        if self.absence_margin is not None and self.absence_margin < self.wallet.timeout:
            problems.append(
                f"absence_margin ({self.absence_margin:g} s) must be at least wallet.timeout "
                f"({self.wallet.timeout:g} s): a wallet may still send a transfer after its call timed out"
            )
        if self.lease_time <= self.wallet.transfer_timeout + 2 * self.wallet.timeout:
            problems.append("lease_time must exceed wallet.transfer_timeout + 2 x wallet.timeout")
        if self.wallet.dialect == "monero" and self.max_addresses > MONERO_MAX_DESTINATIONS:
            problems.append(f"monero transactions hold at most {MONERO_MAX_DESTINATIONS} payees")
        return problems
