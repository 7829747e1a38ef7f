"""generate_month: history the monthly review can use, produced by the system itself."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from multiaccount.simulation.history import generate_month
from multiaccount.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("simulation")]
DAYS = 4


class _Warnings(logging.Handler):
    """WARNING and above from the package while the month runs (caplog is per test, the run per module)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def history(tmp_path_factory, seed_firm):
    import os

    home = tmp_path_factory.mktemp("history")
    old = os.environ.get("MULTIACCOUNT_HOME")
    os.environ["MULTIACCOUNT_HOME"] = str(home)
    warnings = _Warnings()
    logger = logging.getLogger("multiaccount")
    logger.addHandler(warnings)
    try:
        store = Store.open()
        month = generate_month(seed_firm, store, date(2026, 11, 2), DAYS, seed=7)
        logger.removeHandler(warnings)
        yield month, store, warnings.records
    finally:
        logger.removeHandler(warnings)
        if old is None:
            os.environ.pop("MULTIACCOUNT_HOME", None)
        else:
            os.environ["MULTIACCOUNT_HOME"] = old


def test_generate_month_when_done_then_flat_in_the_brokers_and_nothing_warned(history, seed_firm):
    """The closes happen before the final rollover (the market is closed after it), and the
    procedures' fleet offers what end_of_day calls: no failed close, no failed step, no blind tick."""
    from multiaccount.bootstrap import broker_fleet
    from multiaccount.domain import ManualClock

    h, _, warned = history
    assert [f"{r.name}: {r.getMessage()}" for r in warned] == []
    assert not any(k.endswith("_failed") for k in h.report.procedures)
    assert h.report.procedures.get("end_of_day") == DAYS and h.report.monitor_errors == 0
    assert h.end == datetime(2026, 11, 5, 22, 0, tzinfo=UTC)  # Thursday 17:00 New York
    fleet = broker_fleet(seed_firm, ManualClock(h.end), mode="simulated")
    for account in seed_firm.accounts:
        fleet.connect(account)
        assert fleet.positions(account) == [], account


def test_generate_month_when_done_then_daily_performance_for_every_day_and_scope(history, seed_firm):
    h, store, _ = history
    from multiaccount.domain import Scope

    for day in h.trading_days:
        rows = store.performance.daily(scope=Scope.firm(), since=day)
        assert any(r.day == day for r in rows), day
    last = h.trading_days[-1]
    accounts = {r.scope for r in store.performance.daily(since=last) if r.day == last}
    assert {str(Scope.account(a)) for a in seed_firm.accounts} <= {str(s) for s in accounts}


def test_generate_month_when_done_then_snapshots_for_every_account_on_every_trading_day(history, seed_firm):
    h, store, _ = history
    snaps = store.snapshots.series()
    days = {d.isoformat() for d in h.trading_days}
    assert len(days) == DAYS
    for acc in seed_firm.accounts:
        seen = {t.date().isoformat() for t in snaps[snaps["account_id"] == acc]["at"]}
        assert days <= seen, acc


def test_generate_month_when_done_then_deals_carry_commission_and_swap(history):
    _, store, _ = history
    deals = [d for d in store.positions.deals() if d.symbol]
    assert deals and all(d.commission < 0 for d in deals)
    assert any(d.swap != 0 for d in deals)  # swing positions held over a rollover


def test_generate_month_when_done_then_every_account_flat_with_closed_positions(history, seed_firm):
    h, store, _ = history
    assert store.positions.open() == []
    closed = [p for p in store.positions.rows() if not p.is_open]
    assert len(closed) >= 10 and all(p.closed_at is not None for p in closed)
    assert h.report.invariants_hold
    assert all(r.state.value == "ACTIVE" for r in store.trading_states.all())  # resumed for the demo


def test_generate_month_when_reviewed_then_the_monthly_review_builds_from_it(history, seed_firm):
    from multiaccount.performance.sources import load_frames
    from multiaccount.reports.data import ReportInputs, build_monthly

    _, store, _ = history
    frames = load_frames(store, seed_firm)
    report = build_monthly(ReportInputs(seed_firm, frames["snapshots"], frames["flows"], frames["trades"],
                                        frames["fills"]), "2026-11")
    review = report.tables["account_review"]
    assert set(review["account_id"]) == set(seed_firm.accounts)
    assert review["month_return"].abs().sum() > 0
    assert not frames["fills"].empty and "strategies" in report.tables
