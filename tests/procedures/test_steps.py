"""Procedure steps without Airflow, on the seed firm's simulated terminals and a SQLite store:
each step uses the real package and converges on rerun (no second order, transfer, report, backup)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from multiaccount.bootstrap import bootstrap
from multiaccount.domain import ManualClock, OrderIntent, Scope, Side, TradingState, client_order_id
from multiaccount.domain.ports import RecordingEventSink
from multiaccount.procedures import backup, daily_startup, end_of_day, monthly_review, rebalance
from multiaccount.procedures.common import RunInfo

STARTUP = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # Tuesday 06:30 London
EOD = datetime(2026, 12, 1, 22, 0, 5, tzinfo=UTC)  # five seconds after the 17:00 New York rollover


@pytest.fixture
def make_app(seed_firm):
    def make(at: datetime):
        sink = RecordingEventSink()
        return bootstrap(seed_firm, clock=ManualClock(at), events=sink), sink
    return make


def run_at(at: datetime, zone: str = "Europe/London", **kw) -> RunInfo:
    return RunInfo.create(instant=at, timezone=zone, **kw)


def _open(app, account: str, symbol: str = "EURUSD", volume: float = 0.1) -> int:
    app.fleet.connect(account)
    out = app.fleet.broker(account).send(OrderIntent(client_order_id("test-open", account, symbol), account, symbol,
                                                     Side.BUY, volume))
    assert out.status.value == "filled", out
    return out.ticket


def test_risk_check_when_drawdown_breached_and_rerun_then_halted_once_and_violation_recorded_once(make_app):
    app, sink = make_app(STARTUP)
    r = run_at(STARTUP, accounts=["EU_HF_001"])
    assert daily_startup.check_risk_violations(r, app=app)["halted"] == []  # first read records the peaks
    assert app.store.kv.get("risk.baseline")["peaks"]["EU_HF_001"] == pytest.approx(120_000, rel=0.01)
    app.fleet.transfer("EU_HF_001", Decimal("-15000"), "loss")  # 12.5 % below the peak: limit is 10 %

    first = daily_startup.check_risk_violations(r, app=app)
    history = len(app.states.history(Scope.account("EU_HF_001")))
    second = daily_startup.check_risk_violations(r, app=app)

    assert first["halted"] == second["halted"] == ["EU_HF_001"]
    assert app.states.get(Scope.account("EU_HF_001")).state is TradingState.HALTED
    assert "MAX_DRAWDOWN" in app.states.get(Scope.account("EU_HF_001")).reason.upper()
    assert len(app.states.history(Scope.account("EU_HF_001"))) == history == 1
    drawdown = [v for v in app.store.violations.list(scope="account:EU_HF_001")
                if v.limit_name == "max_drawdown_per_account"]
    assert len(drawdown) == 1 and drawdown[0].severity == "critical"
    assert any(e.kind == "state_change" for e in sink.events)


def test_risk_check_when_warning_only_then_account_reducing_not_halted(make_app):
    app, _ = make_app(STARTUP - timedelta(days=1))
    daily_startup.check_risk_violations(run_at(app.clock.now(), accounts=["EU_HF_002"]), app=app)  # Monday peak
    app.fleet.transfer("EU_HF_002", Decimal("-10800"), "loss")  # 9 %: above 80 % of the 10 % drawdown limit
    app.clock.set(STARTUP)  # Tuesday: a new start of day, so no daily loss, only drawdown

    out = daily_startup.check_risk_violations(run_at(STARTUP, accounts=["EU_HF_002"]), app=app)

    assert out["risk_halved"] == ["EU_HF_002"] and out["halted"] == []
    assert app.states.get(Scope.account("EU_HF_002")).state is TradingState.REDUCING


def test_close_day_positions_when_intraday_and_rerun_next_morning_then_one_close_order_with_reason(make_app):
    app, _ = make_app(EOD)
    ticket = _open(app, "EU_HF_001")
    swing = _open(app, "SW_001", "GBPUSD")
    r = run_at(EOD, "America/New_York", accounts=["EU_HF_001", "SW_001"])

    first = end_of_day.close_day_positions(r, "EU_HF_001", app=app)
    app.clock.advance(timedelta(hours=12))
    again = end_of_day.close_day_positions(r, "EU_HF_001", app=app)
    kept = end_of_day.close_day_positions(r, "SW_001", app=app)

    assert [c["ticket"] for c in first["closed"]] == [ticket]
    assert first["closed"][0]["reason"].startswith("INTRADAY_FLAT")
    assert again["closed"] == [] and kept["closed"] == []
    orders = app.store.orders.list(account_id="EU_HF_001")
    assert len(orders) == 1 and orders[0].reduce_only and orders[0].status == "filled"
    assert app.fleet.positions("EU_HF_001") == [] and [p.ticket for p in app.fleet.positions("SW_001")] == [swing]


def test_daily_performance_and_report_when_generated_twice_then_stored_and_indexed_once(make_app):
    app, _ = make_app(EOD)
    r = run_at(EOD, "America/New_York")

    perf = end_of_day.calculate_daily_performance(r, app=app)
    first = end_of_day.generate_daily_report(r, perf, app=app)
    second = end_of_day.generate_daily_report(r, perf, app=app)

    assert perf["firm"]["equity"] == pytest.approx(sum(s.equity for s in app.store.snapshots.latest_states().values()))
    assert first["new"] is True and second["new"] is False
    assert [x.format for x in app.store.reports.list(kind="daily") if x.format == "html"] == ["html"]
    assert first["href"] == "daily/2026-12-01/report.html"
    assert [row.scope for row in app.store.performance.daily(scope=Scope.firm())] == ["firm"]
    assert all(s.at <= datetime(2026, 12, 1, 22, tzinfo=UTC) for s in app.store.snapshots.latest_states().values())


def test_rebalance_when_executed_twice_then_each_transfer_moves_money_once(make_app):
    app, _ = make_app(STARTUP)
    app.fleet.connect("SW_001")
    app.fleet.transfer("SW_001", Decimal("30000"), "test drift")
    r = run_at(STARTUP)

    targets = rebalance.compute_targets(r, app=app)
    plan = rebalance.plan_transfers(r, targets, app=app)
    first = rebalance.execute_simulated_transfers(r, plan, app=app)
    balance_after = app.fleet.account_state("SW_001").balance
    replanned = rebalance.plan_transfers(r, app=app)
    second = rebalance.execute_simulated_transfers(r, plan, app=app)

    assert targets["max_drift"] > app.firm.master.master_account.rebalance_threshold and plan["transfers"]
    assert replanned["transfers"] == plan["transfers"]  # frozen in the store
    assert sorted(first["executed"]) == sorted(t["transfer_id"] for t in plan["transfers"])
    assert set(second["results"].values()) == {"already_executed"}
    assert app.fleet.account_state("SW_001").balance == balance_after
    assert {t.status for t in app.store.transfers.list(plan_key=plan["plan_key"])} == {"executed"}


def test_backup_and_dr_test_when_rerun_then_one_archive_restored_into_scratch_db_and_report_says_passed(make_app):
    app, _ = make_app(EOD)
    r = run_at(EOD, "America/New_York")
    end_of_day.calculate_daily_performance(r, app=app)

    first = backup.daily_backup(r, app=app)
    second = backup.create_backup(r, app=app)
    verified = backup.verify_backup(r, app=app)
    app.clock.set(datetime(2027, 1, 4, 7, tzinfo=UTC))
    month = run_at(app.clock.now())
    dr = monthly_review.disaster_recovery_test(month, app=app)
    report = monthly_review.generate_monthly_report(month, dr, app=app)

    assert second["name"] == first["name"] and second["reused"] is True and verified["accounts"] == 10
    assert [b.name for b in app.store.backups.list()] == [first["name"]]
    assert dr["ok"] is True and dr["backup"] == first["name"] and dr["rows"] > 0, dr
    assert app.store.backups.get(first["name"]).verified_at is not None
    from multiaccount import paths

    page = (paths.reports_dir() / report["href"]).read_text()
    assert 'id="dr-result" class="ok"' in page and "PASSED" in page


def test_dr_test_when_archive_corrupted_then_fails_with_reason(make_app):
    app, _ = make_app(EOD)
    r = run_at(EOD, "America/New_York")
    info = backup.daily_backup(r, app=app)
    from pathlib import Path

    Path(info["path"]).write_bytes(b"not a tar archive")
    dr = monthly_review.disaster_recovery_test(run_at(datetime(2027, 1, 4, 7, tzinfo=UTC)), app=app)
    assert dr["ok"] is False and "Corrupt" in dr["detail"]


def test_daily_checklist_when_items_fail_then_recorded_indexed_and_alerted_without_raising(make_app):
    app, sink = make_app(STARTUP)
    out = daily_startup.run_daily_checklist(run_at(STARTUP), app=app)

    assert out["total"] == 10 and "Emergency stops functioning" in out["failed"]  # no realtime monitor here
    assert len(app.store.checklists.results("daily", "daily:2026-12-01")) == 10
    assert app.store.reports.get("checklist", "daily:2026-12-01", "html") is not None
    assert any(e.kind == "checklist" for e in sink.events)
