"""The procedures' fleet inside the simulation (`PoolFleet`) offers what the procedures call."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from multiaccount.bootstrap import bootstrap
from multiaccount.brokers.factory import build_pool
from multiaccount.domain import ManualClock, OrderIntent, OrderStatus, Side
from multiaccount.simulation.driver import _Procedures
from multiaccount.simulation.fleet import PoolFleet, SimulationSink
from multiaccount.store import Store

BEFORE_ROLLOVER = datetime(2026, 12, 1, 21, 50, tzinfo=UTC)  # Tuesday 16:50 New York, market open


@pytest.fixture
def sim_clock():
    return ManualClock(BEFORE_ROLLOVER)


@pytest.fixture
def pool(seed_firm, sim_clock):
    pool = build_pool(seed_firm, clock=sim_clock, mode="simulated", pool_mode="thread",
                      reconnect_attempts=1, reconnect_backoff=0.0)
    pool.start()
    try:
        yield pool
    finally:
        pool.stop()


def _buy(pool, account_id: str, symbol: str) -> int:
    info = pool.call(account_id, "symbol_info", symbol)
    out = pool.call(account_id, "send", OrderIntent(client_id=f"test-{account_id}", account_id=account_id,
                                                    symbol=symbol, side=Side.BUY, volume=0.1,
                                                    sl=round(info.bid - 0.0050, 5), tp=round(info.ask + 0.0100, 5)))
    assert out.status is OrderStatus.FILLED, out.reason
    return pool.call(account_id, "positions")[0].ticket


def test_end_of_day_when_run_in_process_by_the_driver_then_intraday_positions_closed_without_warning(
        seed_firm, pool, sim_clock, caplog):
    hf = next(a for g, grp in seed_firm.groups.items() if grp.intraday for a in seed_firm.accounts_in(g))
    ticket = _buy(pool, hf, "EURUSD")
    store = Store.open()
    app = bootstrap(seed_firm, clock=sim_clock, fleet=PoolFleet(pool), store=store, events=SimulationSink(store))
    procedures = _Procedures(app, seed_firm, eod_steps=("close_day_positions",))
    with caplog.at_level(logging.WARNING):
        procedures.end_of_day(BEFORE_ROLLOVER)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert procedures.runs["end_of_day"] == 1 and not procedures.failures
    assert pool.call(hf, "positions") == []
    closes = [o for o in store.orders.list() if o.account_id == hf and o.status == "filled"]
    assert len(closes) == 1 and closes[0].symbol == "EURUSD"
    assert ticket not in {p.ticket for p in pool.call(hf, "positions")}


def test_pool_fleet_when_asked_like_a_broker_fleet_then_forwards_to_the_pool(seed_firm, pool):
    fleet = PoolFleet(pool)
    account = sorted(seed_firm.accounts)[0]
    fleet.connect(account)
    assert fleet.call(account, "account_state").account_id == account
    broker = fleet.broker(account)
    assert broker.is_connected() is True
    assert broker.account_state().balance == fleet.account_state(account).balance
    assert broker.positions() == fleet.positions(account) == []


def test_reduce_only_intent_when_sent_for_a_position_then_reduces_it_instead_of_opening_a_hedge(seed_firm, pool):
    """The monitor's risk reductions are reduce-only intents naming the position; on the (hedging)
    simulated terminals an order without the position opened an opposite one, and each reduction
    doubled the book (the demo day's research accounts went from 5 to 70 positions in ten minutes)."""
    account = "RD_001"
    ticket = _buy(pool, account, "EURUSD")
    out = pool.send_many([OrderIntent(client_id="test-reduce", account_id=account, symbol="EURUSD", side=Side.SELL,
                                      volume=0.04, position_ticket=ticket, reduce_only=True)])[0]
    assert out.status is OrderStatus.FILLED, out.reason
    positions = pool.call(account, "positions")
    assert [(p.ticket, p.side, round(p.volume, 2)) for p in positions] == [(ticket, Side.BUY, 0.06)]


def test_release_expired_when_a_timed_halt_already_expired_then_the_next_read_still_works(seed_firm):
    """The released record's reason quotes the old one (`was '... until=<iso>'`); the monitor calls
    release_expired every tick, so parsing that quote must not fail (a month run went blind after its
    first daily-loss halt expired)."""
    from multiaccount.domain import Scope, TradingState
    from multiaccount.domain.ports import RecordingEventSink
    from multiaccount.risk import TradingStateService

    clock = ManualClock(BEFORE_ROLLOVER)
    states = TradingStateService(Store.open().trading_states, RecordingEventSink(), clock,
                                 group_of=seed_firm.group_of)
    states.halt(Scope.account("RD_002"), "MAX_DAILY_LOSS: account=RD_002", "system:risk_engine",
                until=datetime(2026, 12, 1, 22, 0, tzinfo=UTC))
    clock.set(datetime(2026, 12, 1, 22, 0, 1, tzinfo=UTC))
    assert [r.state for r in states.release_expired()] == [TradingState.ACTIVE]
    clock.set(datetime(2026, 12, 1, 22, 0, 2, tzinfo=UTC))
    assert states.release_expired() == []
    assert states.state(Scope.account("RD_002")) is TradingState.ACTIVE
