"""The terminal pool as the realtime service sees it, and an adapter over `bootstrap()`'s Fleet.

The monitor needs bulk reads (every account's state and positions each second) and the flatten path
needs `close_positions(account_id, tickets)`. The brokers package's `TerminalPool` offers exactly
that; `FleetPool` offers the same over the per-account `Fleet` of `bootstrap()` (used when the pool
is not available, and by tests passing a fleet of simulated brokers), fanning out on threads so one
slow terminal does not hold up the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from multiaccount.domain import AccountState, OrderIntent, OrderOutcome, OrderStatus, Position

log = logging.getLogger(__name__)


class PoolPort(Protocol):
    def account_states(self) -> Mapping[str, AccountState] | Iterable[AccountState]:
        ...

    def positions(self, account_id: str | None = None) -> Sequence[Position]:
        ...

    def close_positions(self, account_id: str, tickets: Sequence[int] | None = None) -> Sequence[OrderOutcome]:
        ...

    def send_many(self, intents: Sequence[OrderIntent]) -> Sequence[OrderOutcome]:
        ...


def as_states(raw: Mapping[str, AccountState] | Iterable[AccountState]) -> list[AccountState]:
    return list(raw.values()) if isinstance(raw, Mapping) else list(raw)


def as_positions(raw: Mapping[str, Sequence[Position]] | Iterable[Position]) -> list[Position]:
    if isinstance(raw, Mapping):
        return [p for ps in raw.values() for p in ps]
    return list(raw)


class FleetPool:
    """`PoolPort` over a per-account fleet (`bootstrap.Fleet` or anything with the same methods)."""

    def __init__(self, fleet: Any, account_ids: Sequence[str], max_workers: int = 50,
                 send: Callable[[OrderIntent], OrderOutcome] | None = None):
        self.fleet = fleet
        self.account_ids = list(account_ids)
        self._ex = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(self.account_ids))),
                                      thread_name_prefix="fleet")
        self._send = send

    def _each(self, fn: Callable[[str], Any], ids: Sequence[str]) -> dict[str, Any]:
        futures = {a: self._ex.submit(fn, a) for a in ids}
        out: dict[str, Any] = {}
        for a, f in futures.items():
            try:
                out[a] = f.result()
            except Exception as exc:  # one dead terminal must not blind the monitor to the others
                log.warning("terminal read failed for %s: %s", a, exc)
                out[a] = exc
        return out

    def account_states(self) -> list[AccountState]:
        got = self._each(self.fleet.account_state, self.account_ids)
        return [s for s in got.values() if isinstance(s, AccountState)]

    def positions(self, account_id: str | None = None) -> list[Position]:
        if account_id is not None:
            return list(self.fleet.positions(account_id))  # errors propagate: flatten must know
        got = self._each(self.fleet.positions, self.account_ids)
        return [p for ps in got.values() if isinstance(ps, list) for p in ps]

    def close_positions(self, account_id: str, tickets: Sequence[int] | None = None) -> list[OrderOutcome]:
        wanted = list(tickets) if tickets is not None else [p.ticket for p in self.fleet.positions(account_id)]
        out = []
        for t in wanted:
            out.append(self.fleet.close(account_id, t, f"flat-{account_id}-{t}"[:31]))
        return out

    def send_many(self, intents: Sequence[OrderIntent]) -> list[OrderOutcome]:
        def one(i: OrderIntent) -> OrderOutcome:
            if i.position_ticket is not None and i.reduce_only and self._send is None:
                broker = getattr(self.fleet, "broker", None)
                if broker is not None:  # partial close needs the volume
                    return broker(i.account_id).close(i.position_ticket, i.volume, client_id=i.client_id)
                return self.fleet.close(i.account_id, i.position_ticket, i.client_id)
            if self._send is None:
                return OrderOutcome(i.client_id, i.account_id, OrderStatus.REJECTED, None,
                                    "NO_SENDER: this fleet can only close positions")
            return self._send(i)

        return list(self._ex.map(one, intents))

    def call(self, account_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """A broker method for one account (lifecycle modify/close); needs a fleet exposing `broker()`."""
        broker = getattr(self.fleet, "broker", None)
        if broker is None:
            raise AttributeError(f"this fleet cannot {method}: it exposes no per-account broker")
        return getattr(broker(account_id), method)(*args, **kwargs)

    def close(self) -> None:
        self._ex.shutdown(wait=False, cancel_futures=True)


class TerminalPoolAdapter:
    """`PoolPort` over `multiaccount.brokers.pool.TerminalPool`: per-account position reads raise when
    the terminal is unreachable (flatten must know), everything else passes through."""

    def __init__(self, pool: Any):
        self.inner = pool

    def account_states(self) -> Mapping[str, AccountState]:
        return self.inner.account_states()

    def positions(self, account_id: str | None = None) -> list[Position]:
        if account_id is not None:
            return list(self.inner.call(account_id, "positions"))
        return as_positions(self.inner.positions())

    def close_positions(self, account_id: str, tickets: Sequence[int] | None = None) -> list[OrderOutcome]:
        return list(self.inner.close_positions(account_id, tickets))

    def send_many(self, intents: Sequence[OrderIntent]) -> list[OrderOutcome]:
        return list(self.inner.send_many(list(intents)))

    def read(self, accounts: Sequence[str] | None = None) -> tuple[dict[str, AccountState], dict[str, list[Position]]]:
        """States and positions in one fan-out (see `TerminalPool.read`)."""
        return self.inner.read(accounts)

    def call(self, account_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.inner.call(account_id, method, *args, **kwargs)

    def is_simulated(self, account_id: str) -> bool:
        """Research accounts (live_trading false) may only trade on simulated terminals."""
        from multiaccount.config import broker_mode

        return broker_mode() == "simulated"

    def status(self) -> Mapping[str, Any]:
        return self.inner.status()

    def close(self) -> None:
        self.inner.stop()
