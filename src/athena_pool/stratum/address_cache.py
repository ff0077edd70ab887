"""The coin's address check, remembered: a reconnect storm of known wallets costs a lookup per login.

Checking an address means decoding it and checking its keys are curve points, about a millisecond in
Python; after a pool restart every miner logs in again within seconds, mostly with wallets seen before.
Verdicts (valid, or the refusal's text) are kept for the most recently used `size` addresses.
"""

from __future__ import annotations

from collections import OrderedDict

from athena_pool.stratum.login import AddressValidator


class CachedAddressValidator:
    def __init__(self, validate: AddressValidator, size: int) -> None:
        self._validate = validate
        self._size = size
        self._verdicts: OrderedDict[str, str | None] = OrderedDict()  # None: valid; else the reason

    def __call__(self, address: str) -> None:
        if address in self._verdicts:
            self._verdicts.move_to_end(address)
            reason = self._verdicts[address]
        else:
            reason = self._check(address)
            self._verdicts[address] = reason
            if len(self._verdicts) > self._size:
                self._verdicts.popitem(last=False)
        if reason is not None:
            raise ValueError(reason)

    def _check(self, address: str) -> str | None:
        try:
            self._validate(address)
        except ValueError as exc:
            return str(exc)
        return None

    def __len__(self) -> int:
        return len(self._verdicts)
