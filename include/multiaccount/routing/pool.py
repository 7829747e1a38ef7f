"""The small slice of the terminal pool routing needs (`multiaccount.brokers.pool.TerminalPool`
satisfies it); tests use a hand-written fake."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from multiaccount.domain.model import AccountState, OrderIntent, OrderOutcome, Position


class BrokerPool(Protocol):
    def account_states(self) -> Mapping[str, AccountState] | Iterable[AccountState]:
        ...

    def positions(self) -> Mapping[str, list[Position]] | Iterable[Position]:
        ...

    def send_many(self, intents: list[OrderIntent]) -> list[OrderOutcome]:
        """Send concurrently (one worker per terminal); one outcome per intent."""
        ...

    def call(self, account_id: str, method: str, *args: Any) -> Any:
        """Call a broker-port method (e.g. `symbol_info`, `symbol_info_tick`, `order_check`) on an account."""
        ...


def states_list(raw: Mapping[str, AccountState] | Iterable[AccountState]) -> list[AccountState]:
    return list(raw.values()) if isinstance(raw, Mapping) else list(raw)


def positions_list(raw: Mapping[str, list[Position]] | Iterable[Position]) -> list[Position]:
    if isinstance(raw, Mapping):
        return [p for ps in raw.values() for p in ps]
    return list(raw)
