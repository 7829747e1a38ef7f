"""A real SQLite store seeded with a morning of readings for the seed firm, and dashboard contexts on it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from multiaccount.dashboard import DashboardContext
from multiaccount.dashboard.actions import ServiceTradingControl
from multiaccount.dashboard.data import StoreSource
from multiaccount.domain import AccountState, Position, Side
from multiaccount.domain.ports import RecordingEventSink
from multiaccount.risk.state import TradingStateService
from multiaccount.store import Store

TOKEN = "desk-token-for-tests"


def expected_sign(index: int) -> int:
    """Seeded accounts alternate: even positions gain during the morning, odd ones lose."""
    return 1 if index % 2 == 0 else -1


@pytest.fixture
def store(tmp_path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'dashboard.db'}")


@pytest.fixture
def seeded_store(store, seed_firm, clock) -> Store:
    """Snapshots every 10 minutes from 07:00 to 09:00 UTC (after the 17:00 New York rollover) and one
    EURUSD position with a stop on every account."""
    now = clock.now()
    states = []
    for i, account_id in enumerate(seed_firm.accounts):
        start = float(seed_firm.accounts[account_id].account_info.initial_balance)
        for step in range(13):
            at = now - timedelta(minutes=10 * (12 - step))
            equity = start * (1 + expected_sign(i) * 0.001 * step * (1 + i % 3)) + 37.0 * (step % 2)
            states.append(AccountState(account_id, balance=start, equity=equity, margin=equity * 0.05,
                                       margin_free=equity * 0.95, margin_level=2000.0, at=at))
        store.positions.replace_open(account_id, [Position(
            account_id, ticket=1000 + i, symbol="EURUSD", side=Side.BUY, volume=1.0, price_open=1.0850,
            sl=1.0800, tp=None, price_current=1.0850, profit=0.0, opened_at=now - timedelta(hours=1))], at=now)
    store.snapshots.record_many(states)
    store.heartbeat.beat("risk_monitor", at=now - timedelta(seconds=2))
    return store


@pytest.fixture
def events() -> RecordingEventSink:
    return RecordingEventSink()


@pytest.fixture
def store_context(seeded_store, seed_firm, clock, events):
    """A dashboard context wired like `multiaccount dashboard`: StoreSource + TradingStateService + audit."""

    def make(*, read_only: bool = False, token: str | None = TOKEN) -> DashboardContext:
        service = TradingStateService(seeded_store.trading_states, events, clock, seed_firm.group_of)
        control = ServiceTradingControl(service, seeded_store.audit, seeded_store.session)
        return DashboardContext(seed_firm, StoreSource(seeded_store, seed_firm), control, clock,
                                read_only=read_only, token=token, refresh_ms=500)

    return make
