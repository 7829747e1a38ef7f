"""generate_month: history the monthly review can use, produced by the system itself."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from multiaccount.simulation.history import generate_month
from multiaccount.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("simulation")]
DAYS = 4


@pytest.fixture(scope="module")
def history(tmp_path_factory, seed_firm):
    import os

    home = tmp_path_factory.mktemp("history")
    old = os.environ.get("MULTIACCOUNT_HOME")
    os.environ["MULTIACCOUNT_HOME"] = str(home)
    try:
        store = Store.open()
        yield generate_month(seed_firm, store, date(2026, 11, 2), DAYS, seed=7), store
    finally:
        if old is None:
            os.environ.pop("MULTIACCOUNT_HOME", None)
        else:
            os.environ["MULTIACCOUNT_HOME"] = old


def test_generate_month_when_done_then_snapshots_for_every_account_on_every_trading_day(history, seed_firm):
    h, store = history
    snaps = store.snapshots.series()
    days = {d.isoformat() for d in h.trading_days}
    assert len(days) == DAYS
    for acc in seed_firm.accounts:
        seen = {t.date().isoformat() for t in snaps[snaps["account_id"] == acc]["at"]}
        assert days <= seen, acc


def test_generate_month_when_done_then_deals_carry_commission_and_swap(history):
    _, store = history
    deals = [d for d in store.positions.deals() if d.symbol]
    assert deals and all(d.commission < 0 for d in deals)
    assert any(d.swap != 0 for d in deals)  # swing positions held over a rollover


def test_generate_month_when_done_then_every_account_flat_with_closed_positions(history, seed_firm):
    h, store = history
    assert store.positions.open() == []
    closed = [p for p in store.positions.rows() if not p.is_open]
    assert len(closed) >= 10 and all(p.closed_at is not None for p in closed)
    assert h.report.invariants_hold
    assert all(r.state.value == "ACTIVE" for r in store.trading_states.all())  # resumed for the demo


def test_generate_month_when_reviewed_then_the_monthly_review_builds_from_it(history, seed_firm):
    from multiaccount.performance.sources import load_frames
    from multiaccount.reports.data import ReportInputs, build_monthly

    _, store = history
    frames = load_frames(store, seed_firm)
    report = build_monthly(ReportInputs(seed_firm, frames["snapshots"], frames["flows"], frames["trades"],
                                        frames["fills"]), "2026-11")
    review = report.tables["account_review"]
    assert set(review["account_id"]) == set(seed_firm.accounts)
    assert review["month_return"].abs().sum() > 0
    assert not frames["fills"].empty and "strategies" in report.tables
