"""Miner self-service behind a proof of ownership: a settings change is signed with a key of the address.

1. `issue`: the miner asks for the change (payout threshold, notification e-mail); the pool answers with a
   one-line message naming the address, the change, a random nonce and an expiry, and keeps it in Redis
   for `challenge_ttl_s`.
2. The miner signs that message with a secret key of the address: Monero `monero-wallet-rpc sign` (or
   `monero-wallet-cli sign`); for Athena and TurtleCoin, whose walletd cannot sign, the offline signer
   `python -m athena_pool.api.ownership.sign` with the view (or spend) secret key the wallet exports.
3. `redeem`: the pool takes the challenge (once: GETDEL), checks the signature against the address's
   public keys, and only then applies the change.

Knowing an address, or mining to it, gives nothing here: only a holder of its secret keys can sign. The
message binds the change itself, so a signature cannot be replayed for another value or address.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from athena_pool.api.errors import ApiError, bad_request, too_many
from athena_pool.api.ownership.signatures import SignatureError, Verified, verify_message
from athena_pool.api.ratelimit import SlidingWindowLimiter
from athena_pool.api.settings import ApiSettings
from athena_pool.coins.addresses import AddressError, decode_address
from athena_pool.coins.profiles import Coin
from athena_pool.storage.api_store import ApiStore

EMAIL_PATTERN = r"^$|^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){0,4}\.[A-Za-z]{2,24}$"
_EMAIL = re.compile(EMAIL_PATTERN)
_CHALLENGE_ID = re.compile(r"[0-9a-f]{32}")
MAX_EMAIL_CHARS = 254


@dataclass(frozen=True)
class SettingsChange:
    """What a miner wants changed. None leaves a setting alone; an empty e-mail removes it."""

    payout_threshold: int | None = None  # atomic units
    email: str | None = None

    def describe(self, coin: Coin) -> str:
        parts = []
        if self.payout_threshold is not None:
            coins = f"{self.payout_threshold / coin.atomic_units_per_coin:.{coin.decimal_places}f}"
            parts.append(f"payout threshold {self.payout_threshold} atomic units ({coins} {coin.symbol})")
        if self.email is not None:
            parts.append(f"notification e-mail {self.email or '(none)'}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"payout_threshold": self.payout_threshold, "email": self.email}


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.fullmatch(email):
        raise bad_request("email: not an e-mail address")
    return email


class OwnershipService:
    def __init__(
        self,
        store: ApiStore,
        coin: Coin,
        settings: ApiSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._coin = coin
        self._settings = settings
        self._clock = clock
        self._limiter = SlidingWindowLimiter(
            settings.challenges_per_ip,
            settings.challenge_window_s,
            settings.admin.tracked_ips,
            time.monotonic,
        )
        self._all = SlidingWindowLimiter(
            settings.challenges_total, settings.challenge_window_s, 1, time.monotonic
        )
        self._pool_name = settings.pool.pool_host or "athena-pool"

    def address_keys(self, account: str) -> tuple[bytes, bytes]:
        """The public spend and view keys of the account's address (the part before `.PAYMENTID`)."""
        address = account.partition(".")[0]
        try:
            decoded = decode_address(address, self._coin.address_network)
        except AddressError as exc:
            raise bad_request(f"address: not a {self._coin.name} address: {exc}") from None
        return decoded.public_spend_key, decoded.public_view_key

    def check_change(self, change: SettingsChange) -> None:
        bounds = self._settings.payout
        threshold = change.payout_threshold
        if threshold is not None and (
            threshold < bounds.min_atomic or (bounds.max_atomic is not None and threshold > bounds.max_atomic)
        ):
            upper = "no maximum" if bounds.max_atomic is None else f"at most {bounds.max_atomic}"
            raise bad_request(f"payout_threshold: at least {bounds.min_atomic} atomic units, {upper}")
        if change.payout_threshold is None and change.email is None:
            raise bad_request("nothing to change: give payout_threshold and/or email")

    async def issue(self, account: str, change: SettingsChange, ip: str) -> dict[str, Any]:
        self._count(ip)
        self.address_keys(account)
        self.check_change(change)
        challenge_id = secrets.token_hex(16)
        expires_s = int(self._clock()) + self._settings.challenge_ttl_s
        expires_text = datetime.fromtimestamp(expires_s, UTC).strftime("%Y-%m-%d %H:%M:%S")
        message = (
            f"{self._pool_name} ({self._coin.name}) settings for {account}: {change.describe(self._coin)}. "
            f"Nonce {secrets.token_hex(8)}, valid until {expires_text} UTC."
        )
        record = {"account": account, "change": change.to_json(), "message": message, "expires_s": expires_s}
        await self._store.put_expiring(
            self._store.keys.settings_challenge(challenge_id), record, self._settings.challenge_ttl_s
        )
        return {"challenge": challenge_id, "message": message, "expires_at": expires_s}

    async def redeem(self, account: str, challenge_id: str, signature: str, ip: str) -> SettingsChange:
        self._count(ip)
        if not _CHALLENGE_ID.fullmatch(challenge_id):
            raise bad_request("challenge: not a challenge id")
        spend, view = self.address_keys(account)
        record = await self._store.take_json(self._store.keys.settings_challenge(challenge_id))
        if record is None or record.get("account") != account:
            raise bad_request("challenge: unknown, already used or expired; ask for a new one")
        message = str(record["message"]).encode()
        try:
            verified: Verified | None = await asyncio.to_thread(
                verify_message, signature, message, spend, view
            )
        except SignatureError as exc:
            raise bad_request(f"signature: {exc}") from None
        if verified is None:
            raise ApiError(
                403, "the signature does not prove ownership of this address (sign the exact message)"
            )
        change = record["change"]
        return SettingsChange(payout_threshold=change.get("payout_threshold"), email=change.get("email"))

    def _count(self, ip: str) -> None:
        wait = self._limiter.hit(ip)
        if wait:
            raise too_many("too many settings requests from your address", wait)
        wait = self._all.hit("all")
        if wait:
            raise too_many("too many settings requests right now; try again later", wait)
