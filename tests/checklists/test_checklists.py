"""Every checklist item, passing and failing, against a real (SQLite) store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from multiaccount.checklists import ChecklistContext, Status, record_checklist, run_checklist
from multiaccount.checklists import items as ck
from multiaccount.domain import AccountState, Scope, Severity, TradingState

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # trading day 2026-12-01 (started Mon 17:00 New York)
COMPLETED = date(2026, 11, 30)  # the last trading day whose close has passed: what end of day worked on


@dataclass
class Status_:
    connected: bool
    since: datetime | None
    last_error: str = ""


class FakePool:
    def __init__(self, down: dict[str, datetime]):
        self.down = down

    def status(self):
        return {a: Status_(a not in self.down, self.down.get(a, NOW - timedelta(hours=8)),
                           "no connection" if a in self.down else "") for a in self.accounts}


@pytest.fixture
def ctx(seed_firm, sqlite_store) -> ChecklistContext:
    return ChecklistContext(firm=seed_firm, store=sqlite_store, now=NOW)


def state(acc: str, connected: bool = True, at: datetime = NOW) -> AccountState:
    return AccountState(acc, 100_000, 100_000, 0, 100_000, None, connected=connected, at=at)


def test_connections_when_one_terminal_down_then_fail_with_account_and_since(ctx, seed_firm):
    pool = FakePool({"EU_HF_004": datetime(2026, 12, 1, 7, 58, tzinfo=UTC)})
    pool.accounts = list(seed_firm.accounts)
    ctx.pool = pool
    status, evidence = ck.all_connections_active(ctx)
    assert status is Status.FAIL
    assert evidence.startswith("All MT5 connections active: 9/10, EU_HF_004 down since 2026-12-01 07:58 UTC")


def test_connections_when_all_snapshots_connected_then_pass(ctx, seed_firm):
    ctx.store.snapshots.record_many(state(a) for a in seed_firm.accounts)
    assert ck.all_connections_active(ctx) == (Status.PASS, "All MT5 connections active: 10/10")


def test_connections_when_account_never_seen_then_fail(ctx, seed_firm):
    ctx.store.snapshots.record_many(state(a) for a in list(seed_firm.accounts)[:-1])
    status, evidence = ck.all_connections_active(ctx)
    assert status is Status.FAIL and "9/10" in evidence and "never seen" in evidence


def test_violations_when_critical_today_then_fail_and_yesterdays_do_not_count(ctx):
    ctx.store.violations.record(Scope.account("SW_001"), "max_drawdown_per_account", 0.11, 0.10, Severity.CRITICAL,
                                at=NOW - timedelta(days=2))
    assert ck.no_critical_violations(ctx)[0] is Status.PASS
    ctx.store.violations.record(Scope.account("SW_001"), "max_drawdown_per_account", 0.11, 0.10, Severity.CRITICAL,
                                at=NOW - timedelta(hours=1))
    status, evidence = ck.no_critical_violations(ctx)
    assert status is Status.FAIL and "account:SW_001 max_drawdown_per_account 11.00%>10.00%" in evidence


def test_portfolio_when_firm_halted_or_total_risk_breached_then_fail(ctx):
    assert ck.portfolio_within_limits(ctx)[0] is Status.PASS
    ctx.store.trading_states.set(Scope.firm(), TradingState.HALTED, "EMERGENCY_STOP: drawdown=0.21", "monitor")
    status, evidence = ck.portfolio_within_limits(ctx)
    assert status is Status.FAIL and "EMERGENCY_STOP" in evidence


def test_portfolio_when_total_risk_breach_today_then_fail(ctx):
    ctx.store.violations.record(Scope.firm(), "max_total_risk", 0.16, 0.15, Severity.CRITICAL, at=NOW)
    status, evidence = ck.portfolio_within_limits(ctx)
    assert status is Status.FAIL and "max_total_risk" in evidence


def test_correlation_when_warning_then_pass_when_critical_then_fail(ctx):
    ctx.store.violations.record(Scope.group("swing_trading"), "max_correlation", 0.35, 0.40, Severity.WARNING, at=NOW)
    assert ck.correlation_acceptable(ctx)[0] is Status.PASS
    ctx.store.violations.record(Scope.group("swing_trading"), "max_correlation", 0.55, 0.40, Severity.CRITICAL, at=NOW)
    status, evidence = ck.correlation_acceptable(ctx)
    assert status is Status.FAIL and "group:swing_trading 0.55>0.40" in evidence


def test_daily_performance_when_row_for_last_completed_day_then_pass(ctx):
    assert ck.daily_performance_calculated(ctx)[0] is Status.FAIL
    ctx.store.performance.upsert_daily(date(2026, 11, 27), Scope.firm(), end_equity=1_000_000.0, pnl=1200.0)
    assert ck.daily_performance_calculated(ctx)[0] is Status.FAIL  # an older day does not count
    ctx.store.performance.upsert_daily(COMPLETED, Scope.firm(), end_equity=1_000_000.0, pnl=1200.0)
    assert ck.daily_performance_calculated(ctx)[0] is Status.PASS


def test_completed_day_when_after_rollover_then_today(seed_firm, sqlite_store):
    after_close = ChecklistContext(firm=seed_firm, store=sqlite_store, now=datetime(2026, 12, 1, 22, 5, tzinfo=UTC))
    assert after_close.completed_day == date(2026, 12, 1)
    before_close = ChecklistContext(firm=seed_firm, store=sqlite_store, now=datetime(2026, 12, 1, 21, 55, tzinfo=UTC))
    assert before_close.completed_day == COMPLETED


def test_rebalancing_when_pending_instruction_then_needs_sign_off(ctx):
    assert ck.rebalancing_done(ctx)[0] is Status.PASS
    ctx.store.transfers.create_plan("2026-12-01", [{"from_account": "SW_001", "to_account": "EU_HF_001",
                                                    "amount": "5000.00", "mode": "instruction"}])
    status, evidence = ck.rebalancing_done(ctx)
    assert status is Status.SIGN_OFF and "1 transfer" in evidence


def test_accounts_when_halted_then_needs_sign_off_with_reason(ctx):
    assert ck.accounts_within_parameters(ctx)[0] is Status.PASS
    ctx.store.trading_states.set(Scope.account("EU_HF_002"), TradingState.HALTED, "MAX_DAILY_LOSS: 0.051", "monitor")
    status, evidence = ck.accounts_within_parameters(ctx)
    assert status is Status.SIGN_OFF and "account:EU_HF_002 (MAX_DAILY_LOSS: 0.051)" in evidence


@pytest.mark.parametrize("age, expected", [(None, Status.FAIL), (timedelta(seconds=3), Status.PASS),
                                           (timedelta(seconds=31), Status.FAIL)])
def test_emergency_stops_when_heartbeat_age_then_status(ctx, age, expected):
    if age is not None:
        ctx.store.heartbeat.beat(ck.HEARTBEAT_COMPONENT, at=NOW - age)
    assert ck.emergency_stops_functioning(ctx)[0] is expected


def test_reports_when_daily_report_indexed_then_pass(ctx, tmp_path):
    assert ck.reports_generated(ctx)[0] is Status.FAIL
    ctx.store.reports.upsert("daily", "2026-12-01", "html", str(tmp_path / "d1.html"), created_at=NOW)
    assert ck.reports_generated(ctx)[0] is Status.FAIL  # today's is not due before the close
    ctx.store.reports.upsert("daily", COMPLETED.isoformat(), "html", str(tmp_path / "daily.html"), created_at=NOW)
    status, evidence = ck.reports_generated(ctx)
    assert status is Status.PASS and "html" in evidence


def test_backup_when_taken_since_last_completed_day_began_then_pass_else_fail(ctx, tmp_path):
    ctx.store.backups.record("old", str(tmp_path / "a"), NOW - timedelta(days=2), 10, "0" * 64, {})
    assert ck.backup_completed(ctx)[0] is Status.FAIL
    ctx.store.backups.record("new", str(tmp_path / "b"), NOW - timedelta(hours=10), 10, "1" * 64, {})
    ctx.store.backups.mark_verified("new", at=NOW)
    status, evidence = ck.backup_completed(ctx)
    assert status is Status.PASS and "1 verified" in evidence


def test_dr_test_when_restore_verified_this_month_then_pass(ctx, tmp_path):
    ctx.store.backups.record("b1", str(tmp_path / "b1"), NOW - timedelta(days=40), 10, "2" * 64, {})
    ctx.store.backups.mark_verified("b1", at=NOW - timedelta(days=40))
    assert ck.disaster_recovery_tested(ctx)[0] is Status.FAIL
    ctx.store.backups.mark_verified("b1", at=NOW - timedelta(hours=2))
    assert ck.disaster_recovery_tested(ctx)[0] is Status.PASS


def test_monthly_when_review_and_cost_tables_exist_then_pass(ctx, tmp_path):
    assert ck.account_performance_reviewed(ctx)[0] is Status.FAIL
    assert ck.cost_analysis_done(ctx)[0] is Status.FAIL
    for fmt in ("html", "csv", "xlsx"):
        ctx.store.reports.upsert("monthly", "2026-11", fmt, str(tmp_path / f"m.{fmt}"), created_at=NOW)
    assert ck.account_performance_reviewed(ctx)[0] is Status.PASS
    assert ck.cost_analysis_done(ctx) == (Status.PASS, "cost tables exported: csv, xlsx")


def test_alerts_when_slack_token_set_then_pass_else_sign_off(ctx, monkeypatch):
    assert ck.alerts_configured(ctx)[0] is Status.SIGN_OFF
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    assert ck.alerts_configured(ctx)[0] is Status.PASS


def test_setup_when_config_valid_then_config_items_pass(ctx):
    results = {r.item: r for r in run_checklist("setup", ctx)}
    for item in ("Master account configuration defined", "Individual account configs created",
                 "Account groups properly structured", "Risk matrix configured", "Emergency procedures defined"):
        assert results[item].status is Status.PASS, results[item]
    assert results["Backup procedures for all accounts"].status is Status.FAIL  # nothing backed up yet
    assert results["Performance aggregation functioning"].status is Status.FAIL  # no snapshots yet


def test_run_when_check_raises_then_item_fails_with_error_evidence(ctx, monkeypatch):
    def boom(_):
        raise RuntimeError("store unreachable")
    monkeypatch.setattr(ck, "DAILY", [("All MT5 connections active", boom)])
    monkeypatch.setitem(ck.CHECKLISTS, "daily", ck.DAILY)
    [r] = run_checklist("daily", ctx)
    assert r.status is Status.FAIL and "RuntimeError: store unreachable" in r.evidence


def test_record_when_rerun_same_day_then_results_replaced(ctx):
    results = run_checklist("monthly", ctx)
    run_id = record_checklist("monthly", ctx, results)
    record_checklist("monthly", ctx, results)
    stored = ctx.store.checklists.results("monthly", run_id)
    assert len(stored) == len(results) == 10
    signoff = [r for r in stored if r.detail.startswith("needs-sign-off")]
    assert len(signoff) == 7 and all(r.ok for r in signoff)


def test_unknown_checklist_then_value_error(ctx):
    with pytest.raises(ValueError, match="unknown checklist"):
        run_checklist("weekly", ctx)
