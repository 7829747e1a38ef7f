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
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from multiaccount.domain import AccountState, OrderOutcome, Position
from multiaccount.domain.ports import DomainEvent

log = logging.getLogger(__name__)


class _BrokerProxy:
    """`fleet.broker(account)` for procedures that read deal history (monthly cost analysis)."""

    def __init__(self, pool: Any, account_id: str):
        self._pool, self._account = pool, account_id

    def deals(self, since: datetime) -> list[Any]:
        return self._pool.call(self._account, "deals", since)


class PoolFleet:
    """`bootstrap.Fleet` over a started `multiaccount.brokers.pool.TerminalPool`."""

    def __init__(self, pool: Any):
        self.pool = pool

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
               positions: Mapping[str, list[Position]]) -> None:
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
