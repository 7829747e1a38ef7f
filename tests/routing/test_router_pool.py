"""Routing through the real simulated TerminalPool (thread workers): the integration path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from multiaccount.brokers.factory import build_pool
from multiaccount.domain import OrderStatus, Side, TradingSignal
from multiaccount.routing import SignalRouter


def test_route_when_real_simulated_pool_then_specialists_filled_and_replay_opens_nothing(
        seed_firm, clock, order_ledger, state_service):
    with build_pool(seed_firm, clock=clock, mode="simulated", seed=7, pool_mode="thread", reconnect_attempts=2,
                    reconnect_backoff=0.01) as pool:
        bid, ask = (lambda i: (i.bid, i.ask))(pool.call("EU_HF_001", "symbol_info", "EURUSD"))
        sig = TradingSignal(id="int-1", symbol="EURUSD", side=Side.BUY, stop=round(bid - 0.0050, 5),
                            strategy="ict_patterns", created=clock.now())
        router = SignalRouter(seed_firm, pool, order_ledger, state_service, clock)
        report = router.route(sig)
        by = report.by_account()
        assert report.reason is None, report.reason
        assert by["EU_HF_001"].status is OrderStatus.FILLED, by["EU_HF_001"].reason
        assert by["EU_HF_001"].volume > 0 and by["EU_HF_001"].price == pytest.approx(ask, abs=0.001)
        positions = {a: ps for a, ps in pool.positions().items() if ps}
        assert "EU_HF_001" in positions
        before = sum(len(ps) for ps in positions.values())
        again = router.route(sig)
        assert again.by_account()["EU_HF_001"].status is OrderStatus.DUPLICATE
        assert sum(len(ps) for ps in pool.positions().values()) == before
