"""Adapters the simulation wires between the terminal pool and the rest of the system.

- `PoolFleet`: the procedures' per-account `Fleet` over the same `TerminalPool` the realtime service
  uses, so daily_startup / end_of_day act on exactly the terminals the monitor watches;
- `SimulationSink`: the alert sink of a simulation run: violations go to the store's `violations`
  table (what the dashboard, checklists and monthly review read), everything is counted, and only a
  bounded tail is kept in memory (a week of events must not grow the process);
- `StoreRecorder`: snapshots, open/closed positions and deals into the store, in one unit of work;
- `InstantReadCache`: the pool every part of a run uses, answering repeated reads of the same
  simulated instant from memory until something writes.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from multiaccount.domain import AccountState, Clock, OrderOutcome, Position
from multiaccount.domain.ports import DomainEvent
from multiaccount.realtime.fleetview import READ_METHODS

log = logging.getLogger(__name__)


class _BrokerProxy:
    """`fleet.broker(account)`: the account's broker as the procedures see it, every method a pool call.

    Procedures and packages written against a single broker (deal history for the cost analysis,
    `close`/`modify` through `FleetCalls`, balance operations) must work unchanged on the pool, so any
    attribute is forwarded as `pool.call(account, name, ...)` instead of listing a subset here."""

    def __init__(self, pool: Any, account_id: str):
        self._pool, self._account = pool, account_id

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def forward(*args: Any, **kwargs: Any) -> Any:
            return self._pool.call(self._account, name, *args, **kwargs)
        forward.__name__ = name
        return forward


class PoolFleet:
    """`bootstrap.Fleet` over a started `multiaccount.brokers.pool.TerminalPool`.

    Offers the same surface as `bootstrap.BrokerFleet`: the Fleet protocol plus `broker(account_id)`
    and `call(account_id, method, ...)` (the pool's shape, used by `FleetCalls` / `LifecycleApplier`)."""

    def __init__(self, pool: Any):
        self.pool = pool

    def call(self, account_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.pool.call(account_id, method, *args, **kwargs)

    def connect(self, account_id: str) -> None:
        self.pool.call(account_id, "connect")

    def account_state(self, account_id: str) -> AccountState:
        return self.pool.call(account_id, "account_state")

    def positions(self, account_id: str) -> list[Position]:
        return self.pool.call(account_id, "positions")

    def close(self, account_id: str, ticket: int, client_id: str) -> OrderOutcome:
        return self.pool.call(account_id, "close", ticket, None, client_id=client_id)

    def transfer(self, account_id: str, amount: Decimal, comment: str) -> OrderOutcome:
        return self.pool.call(account_id, "balance_operation", amount, comment)

    def broker(self, account_id: str) -> _BrokerProxy:
        return _BrokerProxy(self.pool, account_id)


class SimulationSink:
    """EventSink: counts every event, records risk violations in the store, keeps the last few."""

    def __init__(self, store: Any | None, keep: int = 200):
        self.store = store
        self.counts: Counter = Counter()
        self.recent: deque[DomainEvent] = deque(maxlen=keep)

    def publish(self, event: DomainEvent) -> None:
        self.counts[event.kind] += 1
        self.recent.append(event)
        if event.kind != "risk_violation" or self.store is None:
            return
        try:
            self.store.violations.record(event.scope, str(event.data.get("limit_name", event.title)), event.measured,
                                         event.limit, event.severity, action=event.action, reason=event.detail,
                                         at=event.at)
        except Exception as exc:  # the run goes on; the count above still says it happened
            log.warning("could not record violation %s: %s", event.title, exc)


class StoreRecorder:
    """Writes what the brokers report into the store (the history the reports are built from).

    Flat accounts that were flat at the previous record cost nothing: no position rows to replace, and
    their deal history is read only when the driver says they traded (`touch`)."""

    def __init__(self, store: Any, pool: Any, accounts: list[str], since: datetime):
        self.store = store
        self.pool = pool
        self.accounts = accounts
        self._deals_since = {a: since for a in accounts}
        self._had_positions: set[str] = set()
        self._touched: set[str] = set(accounts)  # first record reads everyone
        self.snapshots = 0
        self.deals = 0

    def touch(self, account_ids: Any) -> None:
        """These accounts traded since the last record: read their deals next time."""
        self._touched.update(account_ids)

    def record(self, at: datetime, states: Mapping[str, AccountState],
               positions: Mapping[str, list[Position]], stamp_before: datetime | None = None) -> None:
        """One unit of work: snapshots (stamped no later than `stamp_before`), positions, new deals."""
        if stamp_before is not None:
            states = {a: replace(s, at=stamp_before) if s.at > stamp_before else s for a, s in states.items()}
        now_open = {a for a, ps in positions.items() if ps}
        active = now_open | self._had_positions | self._touched
        fetched: dict[str, list[Any]] = {}
        for a in sorted(active):
            try:
                fetched[a] = self.pool.call(a, "deals", self._deals_since[a] - timedelta(minutes=5))
            except Exception as exc:  # disconnected: its deals are picked up at the next record
                log.info("deals of %s not read at %s: %s", a, at, exc)
        with self.store.session():
            reported = [s for s in states.values() if s.connected]
            self.snapshots += self.store.snapshots.record_many(reported)
            for a in sorted(active):
                if a in positions:
                    self.store.positions.replace_open(a, positions[a], at)
            for a, deals in fetched.items():
                self.deals += self.store.positions.record_deals(a, deals) if deals else 0
                self._deals_since[a] = at
        self._had_positions = now_open
        self._touched = {a for a in self._touched if a not in fetched}


_INSTANT_READS = frozenset({"account_state", "positions", "symbol_info"})  # same answer all instant long


class InstantReadCache:
    """A started `TerminalPool` whose reads are remembered for the current simulated instant until any
    write (an order, a close, a modify, a balance operation) goes through it.

    Why: at one instant the monitor, the router (for each signal), the lifecycle step and the recorder
    each read every terminal; simulated terminals only change when the clock moves or something is
    sent, so between writes those reads are identical, and each costs a journal transaction per
    account. A read that was in flight while a write was submitted is not remembered, and a pool
    worker serves an account's requests in order, so a read after a write always sees it."""

    def __init__(self, pool: Any, clock: Clock):
        self.inner = pool
        self.clock = clock
        self._lock = threading.Lock()
        self._at: datetime | None = None
        self._generation = 0
        self._values: dict[tuple, Any] = {}
        self.hits = 0
        self.misses = 0

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._values.clear()

    def _cached(self, key: tuple, read: Any) -> Any:
        with self._lock:
            now = self.clock.now()
            if now != self._at:
                self._at, self._values = now, {}
            if key in self._values:
                self.hits += 1
                return self._values[key]
            generation = self._generation
        value = read()
        with self._lock:
            self.misses += 1
            if generation == self._generation and self._at == self.clock.now():
                self._values[key] = value
        return value

    def account_states(self) -> dict[str, AccountState]:
        return dict(self._cached(("account_states",), self.inner.account_states))

    def positions(self) -> dict[str, list[Position]]:
        return {a: list(ps) for a, ps in self._cached(("positions",), self.inner.positions).items()}

    def call(self, account_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if method in _INSTANT_READS and not kwargs:
            value = self._cached((method, account_id, *args), lambda: self.inner.call(account_id, method, *args))
            return list(value) if method == "positions" else value
        if method not in READ_METHODS:
            self.invalidate()
        return self.inner.call(account_id, method, *args, **kwargs)

    def submit(self, account_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if method not in READ_METHODS:
            self.invalidate()
        return self.inner.submit(account_id, method, *args, **kwargs)

    def send_many(self, intents: list[Any]) -> list[OrderOutcome]:
        self.invalidate()
        try:
            return self.inner.send_many(intents)
        finally:
            self.invalidate()

    def close_positions(self, *args: Any, **kwargs: Any) -> list[OrderOutcome]:
        self.invalidate()
        try:
            return self.inner.close_positions(*args, **kwargs)
        finally:
            self.invalidate()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
