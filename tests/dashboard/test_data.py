"""The view model, without a browser: what every panel shows, computed from plain inputs or the store."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest

from multiaccount.config import load_firm
from multiaccount.config.scaffold import scaffold_firm
from multiaccount.dashboard.data import (
    LEVEL_BREACH,
    LEVEL_OK,
    LEVEL_WARN,
    AccountReading,
    DashboardInputs,
    Gauge,
    InMemorySource,
    StoreSource,
    build_view,
)
from multiaccount.dashboard.sample import fill_sample
from multiaccount.domain import Scope, ScopeKind, Severity, TradingState
from multiaccount.domain.ports import InMemoryTradingStateRepository
from multiaccount.store import TransferSpec
from tests.dashboard.conftest import expected_sign


def reading(account_id, *, equity, start, peak=None, risk=0.0, margin=0.0, connected=True, at=None):
    return AccountReading(account_id, balance=start, equity=equity, margin=margin, day_start_equity=start,
                          peak_equity=peak or max(start, equity), open_risk=risk, connected=connected,
                          **({"at": at} if at else {}))


def test_build_view_when_readings_given_then_table_rows_carry_seed_measures(seed_firm, clock):
    # Arrange
    inputs = DashboardInputs(now=clock.now(), readings=[
        reading("EU_HF_001", equity=101_000, start=100_000, risk=2_020, margin=20_200),
        reading("EU_HF_002", equity=95_000, start=100_000, peak=105_000, risk=950),
    ])
    # Act
    view = build_view(seed_firm, inputs)
    rows = {r["account_id"]: r for r in view.table_records()}
    # Assert
    assert rows["EU_HF_001"]["daily_pnl"] == pytest.approx(0.01)
    assert rows["EU_HF_001"]["risk_percent"] == pytest.approx(0.02)
    assert rows["EU_HF_002"]["daily_pnl"] == pytest.approx(-0.05)
    assert rows["EU_HF_002"]["drawdown"] == pytest.approx(1 - 95_000 / 105_000)
    assert view.accounts.set_index("account_id").loc["EU_HF_001", "margin_use"] == pytest.approx(0.2)
    assert {"account_id", "balance", "equity", "daily_pnl", "drawdown", "risk_percent", "status"} <= set(rows[
        "EU_HF_001"])


def test_build_view_when_an_account_has_no_reading_then_it_is_listed_offline_not_hidden(seed_firm, clock):
    inputs = DashboardInputs(now=clock.now(), readings=[
        reading("EU_HF_001", equity=100_000, start=100_000),
        reading("SW_001", equity=100_000, start=100_000, connected=False)])

    view = build_view(seed_firm, inputs)

    assert len(view.accounts) == len(seed_firm.accounts)
    assert view.connections == (1, len(seed_firm.accounts))
    conn = view.accounts.set_index("account_id")["connection"]
    assert conn["SW_001"] == "offline" and conn["RD_002"] == "no data" and conn["EU_HF_001"] == "online"


def test_build_view_when_firm_halted_then_every_account_shows_halted_inherited_from_firm(seed_firm, clock):
    repo = InMemoryTradingStateRepository()
    repo.set(Scope.firm(), TradingState.HALTED, "EMERGENCY_STOP: firm drawdown", "ops", at=clock.now())
    repo.set(Scope.group("swing_trading"), TradingState.REDUCING, "MAX_GROUP_RISK", "system:risk_engine")

    view = build_view(seed_firm, DashboardInputs(now=clock.now(), readings=[], states=repo.all()))

    assert set(view.accounts["status"]) == {"HALTED"}
    sw = next(s for s in view.scopes if s.scope == "account:SW_001")
    assert (sw.own_state, sw.effective_state, sw.inherited_from) == (TradingState.ACTIVE, TradingState.HALTED, "firm")
    assert view.accounts.set_index("account_id").loc["SW_001", "reason"].startswith("firm: EMERGENCY_STOP")
    assert view.firm.accounts_trading == 0


def test_build_view_when_group_reducing_then_only_its_accounts_reduce(seed_firm, clock):
    repo = InMemoryTradingStateRepository()
    repo.set(Scope.group("swing_trading"), TradingState.REDUCING, "MAX_GROUP_RISK", "system:risk_engine")
    repo.set(Scope.account("SW_002"), TradingState.HALTED, "MAX_DRAWDOWN", "system:risk_engine")

    status = build_view(seed_firm, DashboardInputs(now=clock.now(), readings=[], states=repo.all())) \
        .accounts.set_index("account_id")["status"]

    assert status["SW_001"] == "REDUCING" and status["SW_002"] == "HALTED" and status["EU_HF_001"] == "ACTIVE"


@pytest.mark.parametrize(("used", "level"), [(0.0, LEVEL_OK), (0.079, LEVEL_OK), (0.081, LEVEL_WARN),
                                             (0.099, LEVEL_WARN), (0.10, LEVEL_BREACH), (0.25, LEVEL_BREACH)])
def test_gauge_level_when_used_crosses_warn_and_limit_then_level_changes(used, level):
    assert Gauge("firm", "x", "X", used, 0.10, 0.8).level == level


def test_build_view_when_group_risk_over_cap_then_group_gauge_breaches(seed_firm, clock):
    # research cap is 2 %: 1,500 at stops on 50,000 + 50,000 equity = 1.5 % (warn), 2,500 = 2.5 % (breach)
    inputs = DashboardInputs(now=clock.now(), readings=[
        reading("RD_001", equity=50_000, start=50_000, risk=2_000), reading("RD_002", equity=50_000, start=50_000,
                                                                           risk=500)])
    gauge = next(g for g in build_view(seed_firm, inputs).gauges_for(ScopeKind.GROUP)
                 if g.scope == "group:research" and g.limit == "max_group_risk")
    assert gauge.used == pytest.approx(0.025) and gauge.threshold == 0.02 and gauge.level == LEVEL_BREACH


def test_build_view_when_built_then_every_scope_has_its_configured_limits(seed_firm, clock):
    view = build_view(seed_firm, DashboardInputs(now=clock.now(), readings=[]))

    firm_limits = {g.limit for g in view.gauges_for(ScopeKind.FIRM)}
    assert {"max_total_risk", "max_daily_loss", "emergency_stop_threshold"} <= firm_limits
    assert {g.scope for g in view.gauges_for(ScopeKind.GROUP)} == {f"group:{g}" for g in seed_firm.groups}
    per_account = {g.scope for g in view.gauges_for(ScopeKind.ACCOUNT) if g.limit == "max_drawdown_per_account"}
    assert per_account == {f"account:{a}" for a in seed_firm.accounts}


def test_build_view_when_group_mixed_then_best_and_worst_performers_and_allocation(seed_firm, clock):
    readings = [reading(a, equity=100_000 * (1 + 0.01 * (i - 2)), start=100_000)
                for i, a in enumerate(seed_firm.accounts_in("high_frequency"))]
    view = build_view(seed_firm, DashboardInputs(now=clock.now(), readings=readings))
    hf = next(g for g in view.groups if g.name == "high_frequency")
    assert (hf.best_performer, hf.worst_performer) == ("EU_HF_005", "EU_HF_001")
    assert hf.actual_allocation == pytest.approx(1.0)  # the only group with equity
    assert hf.target_allocation == pytest.approx(0.6)


def test_build_view_when_fifty_accounts_then_every_account_row_and_gauge_is_there(tmp_path, clock):
    firm = load_firm(scaffold_firm(50, tmp_path / "firm50"))
    source = InMemorySource()
    fill_sample(source, firm, clock.now())

    view = build_view(firm, source.load(clock.now()))

    assert len(view.table_records()) == 50
    assert len(view.gauges_for(ScopeKind.ACCOUNT)) == 50 * 3
    assert view.correlation.shape == (50, 50)
    assert not view.equity_curve.empty


def test_equity_curve_when_history_given_then_firm_is_sum_of_accounts(seed_firm, clock):
    t0 = clock.now() - timedelta(minutes=5)
    history = pd.DataFrame([{"at": t0, "account_id": "EU_HF_001", "equity": 100.0},
                            {"at": t0, "account_id": "SW_001", "equity": 50.0}])
    inputs = DashboardInputs(now=clock.now(), readings=[reading("EU_HF_001", equity=110.0, start=100.0),
                                                        reading("SW_001", equity=40.0, start=50.0)],
                             equity_history=history)

    firm_curve = build_view(seed_firm, inputs).equity_curve.query("group == 'firm'")["equity"].tolist()

    assert firm_curve == [150.0, 150.0]


# ---------------------------------------------------------------- the store, for real (SQLite)
def test_store_source_when_store_seeded_then_view_reflects_snapshots_and_positions(seeded_store, seed_firm, clock):
    view = build_view(seed_firm, StoreSource(seeded_store, seed_firm).load(clock.now()))

    pnl = view.accounts.set_index("account_id")["daily_pnl"]
    for i, account_id in enumerate(seed_firm.accounts):
        assert (pnl[account_id] > 0) == (expected_sign(i) > 0), account_id
    assert (view.accounts["risk_percent"] > 0).all()  # every account holds EURUSD with a stop
    assert set(view.exposure["symbol"]) == {"EURUSD"}
    assert view.connections == (10, 10)
    assert not view.monitor_stale()
    assert view.correlation.shape == (10, 10)


def test_store_source_when_violation_incident_and_transfer_stored_then_listed(seeded_store, seed_firm, clock):
    now = clock.now()
    seeded_store.violations.record("group:high_frequency", "max_group_risk", 0.085, 0.08, Severity.CRITICAL,
                                   "halt", "MAX_GROUP_RISK: group=high_frequency, measured=0.085, limit=0.080",
                                   at=now - timedelta(minutes=3))
    seeded_store.incidents.open("RD_002 terminal down", Severity.WARNING, "account:RD_002", at=now)
    seeded_store.transfers.create_plan("rebalance:2026-12-01", [TransferSpec("SW_003", "EU_HF_001",
                                                                             Decimal("12500.50"), live=True)],
                                       at=now)

    view = build_view(seed_firm, StoreSource(seeded_store, seed_firm).load(now))

    assert view.violations.iloc[0]["message"].startswith("MAX_GROUP_RISK")
    assert view.incidents.iloc[0]["message"] == "RD_002 terminal down"
    assert view.transfers.iloc[0]["amount"] == "12500.50"
    assert view.transfers.iloc[0]["status"] == "pending"


def test_store_source_when_monitor_heartbeat_old_then_stale(seeded_store, seed_firm, clock):
    clock.advance(timedelta(minutes=5))
    view = build_view(seed_firm, StoreSource(seeded_store, seed_firm).load(clock.now()))
    assert view.monitor_stale()


def test_store_source_when_store_empty_then_every_account_listed_without_data(store, seed_firm, clock):
    view = build_view(seed_firm, StoreSource(store, seed_firm).load(clock.now()))

    assert view.connections == (0, len(seed_firm.accounts))
    assert set(view.accounts["connection"]) == {"no data"}
    assert view.monitor_stale()
