"""The demo day's scripted shock does exactly what the demo promises, on the seed firm.

config/scenarios/demo_day.json (EURUSD and GBPUSD -6 daily sigmas at 13:00 UTC on Tuesday
2026-12-01) was calibrated by running `demo_day_options()`; this test re-runs it: one account halted
by its daily loss until the rollover, another halted and flattened by its drawdown, no emergency."""

from __future__ import annotations

import pytest

from multiaccount.domain import Scope, TradingState
from multiaccount.simulation.demo import run_demo_day
from multiaccount.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("simulation")]


@pytest.fixture(scope="module")
def demo_day(tmp_path_factory, seed_firm):
    import os

    home = tmp_path_factory.mktemp("demo-day")
    old = {k: os.environ.get(k) for k in ("MULTIACCOUNT_HOME", "MULTIACCOUNT_SIM_SEED")}
    os.environ["MULTIACCOUNT_HOME"] = str(home)
    os.environ.pop("MULTIACCOUNT_SIM_SEED", None)  # the terminals' default market, as the demo's processes
    try:
        store = Store.open()
        yield run_demo_day(seed_firm, store), store
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _state_changes(store, state: str) -> dict[str, str]:
    return {str(h.scope): h.reason for h in store.trading_states.history(limit=1000) if h.state.value == state}


def test_demo_shock_when_it_hits_then_one_account_halted_by_daily_loss_until_rollover(demo_day):
    _, store = demo_day
    halted = _state_changes(store, "HALTED")
    daily = {s: r for s, r in halted.items() if r.startswith("MAX_DAILY_LOSS")}
    assert list(daily) == ["account:RD_002"]
    assert "until=2026-12-01T22:00:00+00:00" in daily["account:RD_002"]  # 17:00 New York
    released = _state_changes(store, "ACTIVE")
    assert released.get("account:RD_002", "").startswith("TIMED_HALT_EXPIRED")


def test_demo_shock_when_it_hits_then_another_account_halted_and_flattened_by_drawdown(demo_day):
    report, store = demo_day
    halted = _state_changes(store, "HALTED")
    drawdown = [s for s, r in halted.items() if r.startswith("MAX_DRAWDOWN")]
    assert drawdown == ["account:SW_003"]
    assert store.trading_states.get(Scope.account("SW_003")).state is TradingState.HALTED
    flattens = [e for e in store.risk_events.since(0, 10_000) if e["kind"] == "flatten"]
    assert flattens and all(e["scope"] == "account:SW_003" for e in flattens)
    assert all(e["payload"]["data"]["flat"] for e in flattens)
    assert not [p for p in store.positions.open() if p.account_id == "SW_003"]


def test_demo_shock_when_it_hits_then_firm_stays_below_the_emergency_threshold(demo_day, seed_firm):
    report, store = demo_day
    assert report.emergency_stops == 0
    assert store.trading_states.get(Scope.firm()).state is TradingState.ACTIVE
    loss = 1 - report.equity_end / report.equity_start
    assert 0 < loss < seed_firm.master.master_account.emergency_stop_threshold
    assert not [s for s, r in _state_changes(store, "HALTED").items()
                if s.startswith("group:") and r.startswith(("MAX_DAILY_LOSS", "MAX_DRAWDOWN"))]
    assert report.invariants_hold
