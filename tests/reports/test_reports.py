"""Reports render for the seed firm and a 50-account firm, and their numbers match the input data."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest

from multiaccount import paths
from multiaccount.config import load_firm
from multiaccount.config.scaffold import scaffold_firm
from multiaccount.performance.returns import day_bounds
from multiaccount.reports import ReportInputs, build_daily, build_monthly, write_report
from tests.fixtures.analytics import make_history

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def daily(seed_firm, seed_history):
    h = seed_history
    return build_daily(ReportInputs(seed_firm, h.snapshots, h.flows, h.trades, h.fills), h.last_day)


def test_build_daily_when_seed_firm_then_totals_match_last_snapshots(seed_firm, seed_history, daily):
    _, end = day_bounds(seed_history.last_day)
    last = seed_history.snapshots[seed_history.snapshots["at"] <= end].groupby("account_id").tail(1)
    assert daily.summary.total_equity == pytest.approx(last.equity.sum())
    assert daily.summary.total_balance == pytest.approx(last.balance.sum())
    assert daily.summary.account_count == 10 and daily.summary.active_accounts == 10
    acc = daily.tables["accounts"].set_index("account_id")
    assert acc.loc["SW_002", "equity"] == pytest.approx(last.set_index("account_id").at["SW_002", "equity"])
    true_r = seed_history.returns.loc[seed_history.last_day, "EU_HF_003"]
    assert acc.loc["EU_HF_003", "daily_return"] == pytest.approx(true_r, abs=1e-12)
    groups = daily.tables["groups"].set_index("group_name")
    assert groups["total_equity"].sum() == pytest.approx(daily.summary.total_equity)
    assert groups.loc["high_frequency", "allocation_target"] == 0.6
    assert groups.loc["high_frequency", "best_performer"] == acc[acc.group == "high_frequency"]["daily_pnl"].idxmax()


def test_build_daily_when_states_given_then_halted_accounts_not_active(seed_firm, seed_history):
    h = seed_history
    r = build_daily(ReportInputs(seed_firm, h.snapshots, h.flows, states={"RD_001": "HALTED"}), h.last_day)
    assert r.summary.active_accounts == 9
    assert "strategies" not in r.tables  # no trades given


def test_risk_usage_when_account_margin_high_then_warn_and_breach(seed_firm, seed_history):
    h = seed_history
    snaps = h.snapshots.copy()
    last = snaps.groupby("account_id")["at"].transform("max") == snaps["at"]
    snaps.loc[last & (snaps.account_id == "SW_001"), "margin"] = snaps.loc[last & (snaps.account_id == "SW_001"),
                                                                           "equity"] * 0.35
    r = build_daily(ReportInputs(seed_firm, snaps, h.flows), h.last_day)
    u = r.tables["risk_usage"].set_index(["scope", "limit"])
    row = u.loc[("account:SW_001", "margin_call_threshold")]
    assert row["measured"] == pytest.approx(0.35) and row["usage"] == pytest.approx(0.35 / 0.30)
    assert row["status"] == "BREACH"
    assert u.loc[("account:SW_002", "margin_call_threshold"), "status"] == "OK"


def test_write_report_when_rerun_then_same_files_and_one_index_row_per_format(seed_firm, daily, sqlite_store):
    first = write_report(daily, seed_firm, NOW, sqlite_store)
    second = write_report(daily, seed_firm, NOW, sqlite_store)
    assert first == second
    assert first["html"].parent == paths.reports_dir() / "daily" / daily.period
    rows = sqlite_store.reports.list(kind="daily")
    assert sorted(r.format for r in rows) == ["csv", "html", "xlsx"]
    html = first["html"].read_text(encoding="utf-8")
    assert "<script src=" not in html and "Plotly.newPlot" in html  # self-contained, plotly inline
    assert html.count("plotly.js v") <= 2  # the library is embedded once
    for chart in ("chart-equity", "chart-drawdown", "chart-allocation", "chart-correlation", "chart-risk"):
        assert f'id="{chart}"' in html
    equity = re.search(r'id="total-equity">([^<]+)<', html).group(1)
    assert equity == f"{daily.summary.total_equity:,.2f}"


def test_write_report_when_exported_then_csv_and_xlsx_equal_the_tables(seed_firm, daily):
    out = write_report(daily, seed_firm, NOW)
    csv = pd.read_csv(out["csv"] / "accounts.csv")
    pd.testing.assert_series_equal(csv["equity"], daily.tables["accounts"]["equity"], check_names=False)
    wb = openpyxl.load_workbook(out["xlsx"], read_only=True)
    assert set(wb.sheetnames) == set(daily.tables)
    ws = wb["accounts"]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    eq_col = header.index("equity")
    values = [row[eq_col] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert values == pytest.approx(list(daily.tables["accounts"]["equity"]))


def test_build_monthly_when_seed_firm_then_every_checklist_item_covered_or_signed_off(seed_firm, seed_history):
    h = seed_history
    inputs = ReportInputs(seed_firm, h.snapshots, h.flows, h.trades, h.fills,
                          dr_test={"ok": True, "detail": "restored backup into scratch db; 14 tables equal",
                                   "at": "2026-11-28"})
    m = build_monthly(inputs, "2026-11")
    out = write_report(m, seed_firm, NOW)
    html = out["html"].read_text(encoding="utf-8")
    for anchor in ("account-performance-review", "risk-parameter-optimization", "strategy-allocation-adjustment",
                   "cost-analysis", "disaster-recovery-test", "portfolio-rebalancing-review", "sign-off"):
        assert f'id="{anchor}"' in html
    signoff = html[html.index('id="signoff-table"'):]
    for item in ("Broker relationship review", "Technology stack update", "Compliance review", "Documentation updates"):
        assert item in signoff
    assert "Disaster recovery test" not in signoff and "PASSED" in html
    nov = h.fills  # every fill of the history is in the cost tables
    assert m.tables["costs_by_account"]["fills"].sum() == len(nov)
    assert m.tables["costs_by_broker"]["commission_cost"].sum() == pytest.approx(-nov["commission"].sum())
    weights = m.tables["strategy_allocation"].groupby("account_id")["suggested_weight"].sum()
    assert weights.values == pytest.approx(1.0, abs=1e-3)
    nov_days = [d for d in h.days if d.month == 11]
    review = m.tables["account_review"].set_index("account_id")
    expected = (1 + h.returns.loc[nov_days, "EU_HF_002"]).prod() - 1
    assert review.loc["EU_HF_002", "month_return"] == pytest.approx(expected, rel=1e-9)


def test_build_monthly_when_no_dr_result_then_dr_needs_sign_off(seed_firm, seed_history):
    h = seed_history
    m = build_monthly(ReportInputs(seed_firm, h.snapshots, h.flows), "2026-11")
    html = write_report(m, seed_firm, NOW)["html"].read_text(encoding="utf-8")
    assert "Disaster recovery test" in html[html.index('id="signoff-table"'):]


@pytest.mark.slow
def test_reports_when_fifty_accounts_then_render_and_totals_match(tmp_path):
    firm = load_firm(scaffold_firm(50, tmp_path / "firm"))
    h = make_history(firm, n_days=30, trades_per_day=1)
    d = build_daily(ReportInputs(firm, h.snapshots, h.flows, h.trades, h.fills), h.last_day)
    out = write_report(d, firm, NOW)
    assert len(d.tables["accounts"]) == 50 and d.series["correlation"].shape == (50, 50)
    _, end = day_bounds(h.last_day)
    last = h.snapshots[h.snapshots["at"] <= end].groupby("account_id").tail(1)
    assert d.summary.total_equity == pytest.approx(last.equity.sum())
    assert out["html"].read_text(encoding="utf-8").count("<tr>") >= 50
    m = build_monthly(ReportInputs(firm, h.snapshots, h.flows, h.trades, h.fills), "2026-11")
    write_report(m, firm, NOW)
    assert m.tables["account_review"].shape[0] == 50
