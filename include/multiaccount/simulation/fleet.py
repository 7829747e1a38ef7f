"""Adapters the simulation wires between the terminal pool and the rest of the system.

- `PoolFleet`: the procedures' per-account `Fleet` over the same `TerminalPool` the realtime service
  uses, so daily_startup / end_of_day act on exactly the terminals the monitor watches;
- `SimulationSink`: the alert sink of a simulation run: violations go to the store's `violations`
  table (what the dashboard, checklists and monthly review read), everything is counted, and only a
  bounded tail is kept in memory (a week of events must not grow the process);
- `StoreRecorder`: snapshots, open/closed positions and deals into the store, in one unit of work.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from multiaccount.domain import AccountState, OrderOutcome, Position
from multiaccount.domain.ports import DomainEvent

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
