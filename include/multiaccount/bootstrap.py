"""One `bootstrap()` that wires the object graph for every entry point (DAG tasks, CLI, realtime
service, dashboard): firm config, clock, store, broker fleet, trading states, alerts.

- clock: `clock_from_env()` (an `AcceleratedClock` when MULTIACCOUNT_CLOCK_START is set, so the demo,
  the realtime subprocess and Airflow tasks share one simulated time), else the system clock;
- store: `Store.open()` (MULTIACCOUNT_DB_URL or the SQLite file under MULTIACCOUNT_HOME);
- fleet: one broker per account from `multiaccount.brokers.factory.build_broker`, built on first use;
- states: the store's trading-state repository, and `state_service` (the risk package's one writer);
- events: the alerts package's outbox-backed service.

Tests pass fakes (a fleet of simulated brokers, an in-memory state repository, a recording sink)
and get the same graph. Expensive parts (brokers, the database) are built on first use, so a task
that only renders a report never logs in to a terminal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, Protocol

from multiaccount.config import FirmConfig, load_firm
from multiaccount.domain import AccountState, Clock, OrderOutcome, Position, clock_from_env
from multiaccount.domain.ports import EventSink, RecordingEventSink, TradingStateRepository

log = logging.getLogger(__name__)


class Fleet(Protocol):
    """What procedures need from the terminals, per account (the pool or a map of brokers)."""

    def connect(self, account_id: str) -> None: ...
    def account_state(self, account_id: str) -> AccountState: ...
    def positions(self, account_id: str) -> list[Position]: ...
    def close(self, account_id: str, ticket: int, client_id: str) -> OrderOutcome: ...
    def transfer(self, account_id: str, amount: Decimal, comment: str) -> OrderOutcome: ...
    def broker(self, account_id: str) -> Any: ...


class BrokerFleet:
    """A Fleet over `multiaccount.brokers.port.Broker` objects (one per account).

    `call(account_id, method, ...)` is the `TerminalPool.call` shape, so code written for the pool
    (lifecycle, emergency) runs on a fleet unchanged.
    """

    def __init__(self, brokers: Mapping[str, Any] | Callable[[str], Any]):
        self._get = brokers.__getitem__ if isinstance(brokers, Mapping) else brokers

    def broker(self, account_id: str) -> Any:
        return self._get(account_id)

    def call(self, account_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.broker(account_id), method)(*args, **kwargs)

    def connect(self, account_id: str) -> None:
        b = self.broker(account_id)
        if not b.is_connected():
            b.connect()

    def account_state(self, account_id: str) -> AccountState:
        return self.broker(account_id).account_state()

    def positions(self, account_id: str) -> list[Position]:
        return self.broker(account_id).positions()

    def close(self, account_id: str, ticket: int, client_id: str) -> OrderOutcome:
        return self.broker(account_id).close(ticket, None, client_id=client_id)

    def transfer(self, account_id: str, amount: Decimal, comment: str) -> OrderOutcome:
        return self.broker(account_id).balance_operation(amount, comment)


def broker_fleet(firm: FirmConfig, clock: Clock, mode: str | None = None, scenario: str | None = None) -> BrokerFleet:
    """Brokers built by the brokers package for the configured mode, one per account, on first use.

    A procedure task touches one or a few accounts for seconds, so it builds just those brokers in
    its own process (`build_broker`) rather than starting a `TerminalPool` of worker processes;
    Airflow's `mt5_terminals` pool bounds how many run at once. The long-running realtime service
    uses the full pool (`build_pool`).
    """
    from multiaccount.brokers.factory import build_broker
    from multiaccount.brokers.pool import RequestClock, WorkerContext

    cache: dict[str, Any] = {}
    terminal = WorkerContext(0, RequestClock())  # one terminal session per process, shared by its accounts

    def get(account_id: str) -> Any:
        if account_id not in firm.accounts:
            raise KeyError(f"unknown account {account_id}")
        if account_id not in cache:
            cache[account_id] = build_broker(firm, account_id, clock=clock, mode=mode, scenario=scenario,
                                             context=terminal)
        return cache[account_id]

    return BrokerFleet(get)


@dataclass
class App:
    """The wired application. Attributes are ports; swap any of them in tests."""

    firm: FirmConfig
    clock: Clock
    fleet_factory: Callable[[], Fleet]
    store_factory: Callable[[], Any]
    states_override: TradingStateRepository | None = None
    events_override: EventSink | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def events(self) -> EventSink:
        return self.events_override if self.events_override is not None else _default_sink(self)

    @cached_property
    def fleet(self) -> Fleet:
        from multiaccount.procedures.faults import with_injected_faults

        return with_injected_faults(self.fleet_factory())

    @cached_property
    def store(self) -> Any:
        return self.store_factory()

    @cached_property
    def states(self) -> TradingStateRepository:
        """The trading-state repository (the store's, unless a test passes one)."""
        return self.states_override if self.states_override is not None else self.store.trading_states

    @cached_property
    def state_service(self) -> Any:
        """`multiaccount.risk.TradingStateService`: the one writer of trading states (audits, publishes)."""
        from multiaccount.risk import TradingStateService

        return TradingStateService(self.states, self.events, self.clock, group_of=self.firm.group_of)


_override: Callable[[], App] | None = None


def set_default(factory: Callable[[], App] | None) -> None:
    """Tests (and the demo) install a factory every entry point's `bootstrap()` then returns."""
    global _override
    _override = factory


def bootstrap(firm: FirmConfig | None = None, *, clock: Clock | None = None, fleet: Fleet | None = None,
              store: Any = None, store_url: str | None = None, events: EventSink | None = None,
              states: TradingStateRepository | None = None, broker_mode: str | None = None,
              scenario: str | None = None) -> App:
    """Build the application; anything passed in replaces the default adapter."""
    if _override is not None and all(x is None for x in (firm, clock, fleet, store, events, states)):
        return _override()
    firm = firm or load_firm()
    clock = clock or clock_from_env()
    scenario = scenario or os.environ.get("MULTIACCOUNT_SCENARIO") or None
    fleet_factory = (lambda: fleet) if fleet is not None else (lambda: broker_fleet(firm, clock, broker_mode, scenario))
    store_factory = (lambda: store) if store is not None else (lambda: _open_store(store_url))
    return App(firm=firm, clock=clock, events_override=events, fleet_factory=fleet_factory,
               store_factory=store_factory, states_override=states)


def _open_store(url: str | None) -> Any:
    from multiaccount.store import Store

    return Store.open(url)


def _default_sink(app: App) -> EventSink:
    """The alerts package's outbox-backed service; a local recorder when it cannot be built."""
    try:
        from multiaccount.alerts import build_alerts

        return build_alerts(app.firm, app.store, clock=app.clock)
    except Exception as exc:  # noqa: BLE001 - alerts must never stop a procedure
        log.warning("alert service unavailable (%s); events recorded locally", exc)
        return RecordingEventSink()
