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
