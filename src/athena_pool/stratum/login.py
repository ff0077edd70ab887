"""The login grammar: `[solo:]ADDRESS[.PAYMENTID][+DIFF]`, the worker name and the `algo` list check.

Examples: `ADDR`, `ADDR+50000` (fixed difficulty, clamped to the port's bounds), `ADDR.<64 hex>` (only
where the coin allows payment ids), `solo:ADDR`, `solo:ADDR.<64 hex>+50000`. The `solo:` prefix is
case-insensitive. Base58 addresses never contain `.`, `+` or `:`, so the separators are unambiguous.

The address itself is checked by a callable handed in by the wiring (the coin's decoder), so no coin
knowledge lives here. Every message is written for the miner's log and avoids the words that make xmrig
give up on the pool ("Unauthenticated", "banned").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Final

SOLO_PREFIX: Final = "solo:"
PAYMENT_ID_SEPARATOR: Final = "."
DIFFICULTY_SEPARATOR: Final = "+"
MAX_DIFFICULTY_DIGITS: Final = 20
MAX_WORKER_CHARS: Final = 64
DEFAULT_WORKER: Final = "default"
# Passwords that mean "no password" to the usual miners; they name no worker.
ANONYMOUS_PASSWORDS: Final = frozenset({"", "x"})

_PAYMENT_ID = re.compile(r"[0-9a-fA-F]{64}")
_DIGITS = re.compile(r"[0-9]+")

AddressValidator = Callable[[str], object]
"""Raises ValueError (with a precise reason as its text) when the address is not the coin's."""


class LoginError(ValueError):
    """A login that cannot be accepted; the text is the miner's error message."""


@dataclass(frozen=True)
class LoginRules:
    validate_address: AddressValidator
    payment_ids_allowed: bool
    min_difficulty: int
    max_difficulty: int


@dataclass(frozen=True)
class LoginDetails:
    address: str
    payment_id: str | None  # lower-case hex
    solo: bool
    fixed_difficulty: int | None  # from `+DIFF`, already clamped
    worker: str

    @property
    def payout_destination(self) -> str:
        """What shares are credited to: the address, or `ADDRESS.PAYMENTID` when a payment id was given."""
        if self.payment_id is None:
            return self.address
        return f"{self.address}{PAYMENT_ID_SEPARATOR}{self.payment_id}"


def parse_login(login: str, password: str, rigid: str, rules: LoginRules) -> LoginDetails:
    text = login.strip()
    solo = text[: len(SOLO_PREFIX)].lower() == SOLO_PREFIX
    if solo:
        text = text[len(SOLO_PREFIX) :]
    text, fixed_difficulty = _split_difficulty(text, rules)
    address, payment_id = _split_payment_id(text, rules)
    if not address:
        raise LoginError("Missing login: expected your wallet address")
    _validate_address(address, rules)
    return LoginDetails(address, payment_id, solo, fixed_difficulty, worker_name(password, rigid))


def _split_difficulty(text: str, rules: LoginRules) -> tuple[str, int | None]:
    if DIFFICULTY_SEPARATOR not in text:
        return text, None
    head, _, digits = text.partition(DIFFICULTY_SEPARATOR)
    if DIFFICULTY_SEPARATOR in digits:
        raise LoginError("Invalid login: more than one '+'")
    if not _DIGITS.fullmatch(digits) or len(digits) > MAX_DIFFICULTY_DIGITS:
        raise LoginError("Invalid difficulty in login: expected a whole number after '+'")
    return head, clamp(int(digits), rules.min_difficulty, rules.max_difficulty)


def _split_payment_id(text: str, rules: LoginRules) -> tuple[str, str | None]:
    if PAYMENT_ID_SEPARATOR not in text:
        return text, None
    address, _, payment_id = text.partition(PAYMENT_ID_SEPARATOR)
    if not rules.payment_ids_allowed:
        raise LoginError("Invalid login: this coin takes no payment id after '.'")
    if not _PAYMENT_ID.fullmatch(payment_id):
        raise LoginError("Invalid payment id: expected 64 hex characters after '.'")
    return address, payment_id.lower()


def _validate_address(address: str, rules: LoginRules) -> None:
    try:
        rules.validate_address(address)
    except ValueError as exc:
        reason = str(exc) or "not an address of this coin"
        raise LoginError(f"Invalid address: {reason}") from exc


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def worker_name(password: str, rigid: str) -> str:
    """`rigid` when given, else the password unless it is empty or "x"; always sanitised."""
    if rigid.strip():
        return sanitize_worker(rigid)
    if password.strip() not in ANONYMOUS_PASSWORDS:
        return sanitize_worker(password)
    return DEFAULT_WORKER


def sanitize_worker(text: str) -> str:
    """Printable characters only, single spaces, at most MAX_WORKER_CHARS; never empty.

    Worker names end up in logs, Redis members and web pages: anything printable is kept (people name
    rigs in every script), but control characters and length are never trusted. Escaping for HTML is the
    web side's job.
    """
    printable = "".join(char if char.isprintable() else " " for char in text)
    collapsed = " ".join(printable.split())
    return collapsed[:MAX_WORKER_CHARS].rstrip() or DEFAULT_WORKER


def check_algorithms(offered: Collection[str] | None, pool_algo: str, aliases: Collection[str]) -> None:
    """xmrig lists every algorithm it can mine; refuse a miner that cannot mine ours."""
    if not offered:
        return
    accepted = {pool_algo.lower(), *(alias.lower() for alias in aliases)}
    if not any(name.strip().lower() in accepted for name in offered):
        raise LoginError(f"Unsupported algorithm: this pool mines {pool_algo}, not in your miner's list")
