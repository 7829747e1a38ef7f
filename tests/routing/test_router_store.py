"""Routing against the real store ledger (SQLite and PostgreSQL): the ledger batches are transactions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from multiaccount.domain import OrderStatus, Side, TradingSignal
from multiaccount.routing import SignalRouter
from tests.fixtures.risk import seed_states
from tests.routing.fakes import FailingReserveLedger, RoutingPool

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def signal(**kw) -> TradingSignal:
    base = dict(id="sig-store", symbol="EURUSD", side=Side.BUY, stop=1.0800, strategy="ict_patterns", created=NOW)
    return TradingSignal(**{**base, **kw})


@pytest.fixture
def pool(seed_firm, risk_quotes) -> RoutingPool:
    return RoutingPool(seed_firm, seed_states(seed_firm), risk_quotes)


def test_route_when_store_ledger_then_reserves_and_completes_commit_once_each_not_per_account(
        seed_firm, pool, store, state_service, clock):
    commits: list[int] = []

    def count(_conn) -> None:
        commits.append(1)

    event.listen(store.engine, "commit", count)
    try:
        report = SignalRouter(seed_firm, pool, store.orders, state_service, clock).route(signal())
    finally:
        event.remove(store.engine, "commit", count)
    filled = report.of_status(OrderStatus.FILLED)
    assert len(filled) >= 2
    # reserve batch, complete batch: 2 transactions whatever the account count
    assert len(commits) <= 2, len(commits)
    rows = {r.account_id: r for r in store.orders.list()}
    assert {r.account_id for r in filled} == set(rows)
    assert all(rows[r.account_id].status == OrderStatus.FILLED.value for r in filled)


def test_route_when_store_ledger_and_signal_replayed_then_duplicate_and_nothing_sent(
        seed_firm, pool, store, state_service, clock):
    router = SignalRouter(seed_firm, pool, store.orders, state_service, clock)
    router.route(signal())
    sent = len(pool.sent)
    again = router.route(signal()).by_account()
    assert again["EU_HF_001"].status is OrderStatus.DUPLICATE and len(pool.sent) == sent


def test_route_when_a_reserve_fails_mid_batch_then_nothing_reserved_and_nothing_sent(
        seed_firm, pool, store, state_service, clock):
    ledger = FailingReserveLedger(store.orders, fail_at=2)
    router = SignalRouter(seed_firm, pool, ledger, state_service, clock, unit_of_work=store.session)
    with pytest.raises(RuntimeError, match="database is locked"):
        router.route(signal())
    assert ledger.reserves == 2  # the first reserve ran, inside the same transaction as the failed one
    assert store.orders.list() == [] and pool.sent == []
