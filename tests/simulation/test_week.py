"""The shortened accelerated week (CI form of issue 14): the seed firm for one trading day with the
week's scripted shocks, every part of the system running together, and the invariants asserted.
The full 50-account week is `benchmarks/bench_week.py` (`make bench`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from multiaccount.simulation import SimulationOptions, simulate
from multiaccount.store import Store

SCENARIOS = Path(__file__).resolve().parents[2] / "config" / "scenarios"


@pytest.fixture(scope="module")
def short_week(tmp_path_factory):
    """Tuesday (the shock day of week_shocks) at five-minute steps; the store of the run is returned too."""
    import os

    from multiaccount.config import load_firm

    home = tmp_path_factory.mktemp("week")
    old = os.environ.get("MULTIACCOUNT_HOME")
    os.environ["MULTIACCOUNT_HOME"] = str(home)
    try:
        firm = load_firm(Path(__file__).resolve().parents[2] / "config")
        store = Store.open()
        options = SimulationOptions(start=datetime(2026, 12, 1, 6, 0, tzinfo=UTC), days=1,
                                    step=timedelta(minutes=5), idle_step=timedelta(minutes=30), seed=7,
                                    market_seed=7, scenario=SCENARIOS / "week_shocks.json")
        report = simulate(firm, store, options)
        yield report, store
    finally:
        if old is None:
            os.environ.pop("MULTIACCOUNT_HOME", None)
        else:
            os.environ["MULTIACCOUNT_HOME"] = old


pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("simulation")]


def test_simulate_day_when_shocked_then_every_order_is_acknowledged_or_rejected_with_reason(short_week):
    report, _ = short_week
    assert report.signals > 20 and report.acknowledged > 5  # the day really traded
    assert report.routed == report.acknowledged + report.rejected + report.unknown + report.duplicates
    assert report.rejected_without_reason == 0 and report.unknown == 0
    assert report.orders_accounted


def test_simulate_day_when_done_then_the_ledger_agrees_with_the_brokers(short_week):
    report, store = short_week
    rows = store.orders.list()
    filled = [r for r in rows if r.status in ("filled", "partial", "placed")]
    assert report.ledger_sent == len(rows) and report.ledger_pending == 0 and report.fills_without_deal == 0
    assert len(filled) >= report.acknowledged  # lifecycle/flatten closes are in the ledger too? never fewer
    deal_orders = {(d.account_id, d.order_ticket) for d in store.positions.deals()}
    assert all((r.account_id, r.ticket) in deal_orders for r in filled)


def test_simulate_day_when_done_then_no_position_was_left_without_a_stop(short_week):
    report, store = short_week
    assert report.positions_open_max > 0
    assert report.positions_without_stop_max == 0
    assert all(p.sl for p in store.positions.rows())


def test_simulate_day_when_limits_breached_then_acted_on_within_the_debounce_window(short_week):
    report, _ = short_week
    assert report.breaches_handled > 0 and report.halts  # the shock did breach limits
    assert report.longest_unhandled_breach_seconds <= report.debounce_window_seconds


def test_simulate_day_when_done_then_memory_bounded_and_procedures_ran(short_week):
    report, _ = short_week
    assert report.memory_bounded and len(report.rss_samples_mb) >= 8
    assert report.procedures.get("daily_startup") == 1 and report.procedures.get("end_of_day") == 1
    assert not any(k.endswith("_failed") for k in report.procedures)
    assert report.emergency_stops == 0


def test_simulate_day_when_rerun_with_same_seed_then_same_orders(short_week, tmp_path, monkeypatch):
    """Determinism: the week's figures are reproducible (different home, same seeds)."""
    from multiaccount.config import load_firm

    report, _ = short_week
    monkeypatch.setenv("MULTIACCOUNT_HOME", str(tmp_path / "again"))
    firm = load_firm(Path(__file__).resolve().parents[2] / "config")
    options = SimulationOptions(start=datetime(2026, 12, 1, 6, 0, tzinfo=UTC), days=1, step=timedelta(minutes=5),
                                idle_step=timedelta(minutes=30), seed=7, market_seed=7,
                                scenario=SCENARIOS / "week_shocks.json")
    again = simulate(firm, Store.open(), options)
    assert (again.signals, again.acknowledged, again.rejected, again.halts) == \
           (report.signals, report.acknowledged, report.rejected, report.halts)
