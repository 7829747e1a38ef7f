from __future__ import annotations

import pytest

from multiaccount.domain import Scope, Severity, Side
from multiaccount.risk import Action, RiskBaseline, build_snapshot
from multiaccount.risk.limits import LIMITS, build_limits
from tests.fixtures.risk import baseline_at_initial, make_position, seed_states


def verdicts(firm, limit_name, snap):
    (lim,) = build_limits(firm, [limit_name])
    return lim.evaluate(snap)


def test_build_limits_when_unknown_name_then_error_names_known_limits(seed_firm):
    with pytest.raises(ValueError, match="max_group_risk"):
        build_limits(seed_firm, ["no_such_limit"])


def test_every_limit_when_built_then_has_short_description(seed_firm):
    limits = build_limits(seed_firm)
    assert {lim.name for lim in limits} == set(LIMITS)
    assert all(len(lim.short_desc()) > 20 for lim in limits)


@pytest.mark.parametrize(("equity", "severity"), [
    (96_500.0, None),                 # 3.5 % daily loss
    (96_000.0, Severity.WARNING),     # 4 % = 80 % of 5 %
    (95_000.0, Severity.CRITICAL),    # 5 %
])
def test_max_daily_loss_when_loss_crosses_warn_and_limit_then_graded(seed_firm, risk_market, equity, severity):
    snap = build_snapshot(seed_firm, seed_states(seed_firm, equity={"SW_001": equity}), [], risk_market,
                          baseline=baseline_at_initial(seed_firm))
    found = [v for v in verdicts(seed_firm, "max_daily_loss", snap) if v.scope == Scope.account("SW_001")]
    assert [v.severity for v in found] == ([severity] if severity else [])
    if severity is Severity.CRITICAL:
        assert found[0].action is Action.HALT_UNTIL
        assert found[0].reason.startswith("MAX_DAILY_LOSS: account=SW_001, measured=0.050")


def test_max_daily_loss_when_critical_then_until_is_next_17_new_york(seed_firm, risk_market, clock):
    snap = build_snapshot(seed_firm, seed_states(seed_firm, equity={"SW_001": 90_000.0}), [], risk_market,
                          baseline=baseline_at_initial(seed_firm), now=clock.now())
    (v,) = [v for v in verdicts(seed_firm, "max_daily_loss", snap) if v.scope == Scope.account("SW_001")]
    assert v.until.isoformat() == "2026-12-01T22:00:00+00:00"


def test_account_drawdown_when_at_limit_then_halt_and_flatten(seed_firm, risk_market):
    base = RiskBaseline(peaks={"SW_002": 100_000.0}, day_start={"SW_002": 89_000.0})
    snap = build_snapshot(seed_firm, seed_states(seed_firm, equity={"SW_002": 90_000.0}), [], risk_market,
                          baseline=base)
    (v,) = verdicts(seed_firm, "max_drawdown_per_account", snap)
    assert (v.scope, v.severity, v.action) == (Scope.account("SW_002"), Severity.CRITICAL, Action.HALT_AND_FLATTEN)


def test_group_risk_when_above_max_group_risk_then_critical_with_numbers(seed_firm, risk_market):
    # research group: 100k equity, cap 2 % -> 2.2k open risk
    p = make_position("RD_001", "EURUSD", Side.BUY, 2.0, 1.085, None)
    p2 = make_position("RD_002", "EURUSD", Side.SELL, 2.0, 1.085, 1.0965)
    snap = build_snapshot(seed_firm, seed_states(seed_firm), [p, p2], risk_market)
    (v,) = verdicts(seed_firm, "max_group_risk", snap)
    assert v.scope == Scope.group("research") and v.severity is Severity.CRITICAL
    assert v.reason.startswith("MAX_GROUP_RISK: group=research, measured=0.0")
    assert v.measured == pytest.approx(snap.group_risk[snap.group_index["research"]])


def test_margin_use_when_above_threshold_then_reducing(seed_firm, risk_market):
    snap = build_snapshot(seed_firm, seed_states(seed_firm, margin={"EU_HF_001": 40_000.0}), [], risk_market)
    (v,) = verdicts(seed_firm, "margin_call_threshold", snap)
    assert v.action is Action.REDUCE and v.severity is Severity.CRITICAL


def test_margin_level_when_below_broker_so_call_times_buffer_then_critical(seed_firm, risk_market):
    # equity 120k, margin 170k -> level 70.6 % < 50 x 1.5 = 75 %
    snap = build_snapshot(seed_firm, seed_states(seed_firm, margin={"EU_HF_002": 170_000.0}), [], risk_market)
    found = verdicts(seed_firm, "margin_level", snap)
    assert [(v.scope.name, v.severity) for v in found] == [("EU_HF_002", Severity.CRITICAL)]
    assert v_threshold(found[0]) == 75.0


def v_threshold(v):
    return v.threshold


def test_emergency_stop_when_firm_drawdown_at_threshold_then_emergency_action(seed_firm, risk_market):
    equity = {a: float(c.account_info.initial_balance) * 0.79 for a, c in seed_firm.accounts.items()}
    snap = build_snapshot(seed_firm, seed_states(seed_firm, equity=equity), [], risk_market,
                          baseline=RiskBaseline(peaks={"firm": 1_000_000.0}))
    (v,) = verdicts(seed_firm, "emergency_stop_threshold", snap)
    assert v.action is Action.EMERGENCY_STOP and v.measured == pytest.approx(0.21)


def test_currency_caps_when_usd_short_exceeds_cap_then_critical_on_usd(seed_firm, risk_market):
    # 1M firm; USD cap 12 % -> 120k. Four big longs against USD without stops exceed it.
    ps = [make_position(a, s, Side.BUY, 50.0, px, None) for a, s, px in
          [("SW_001", "EURUSD", 1.085), ("SW_002", "GBPUSD", 1.27), ("SW_003", "AUDUSD", 0.655)]]
    snap = build_snapshot(seed_firm, seed_states(seed_firm), ps, risk_market)
    found = {v.detail["currency"]: v for v in verdicts(seed_firm, "currency_exposure_caps", snap)}
    usd = snap.currency_risk[snap.currency_index["USD"]] / snap.firm_equity
    assert "USD" in found and found["USD"].measured == pytest.approx(abs(usd))
    assert "side=short" in found["USD"].reason


def test_symbol_block_when_euro_sterling_risk_above_cap_then_critical(seed_firm, risk_market):
    ps = [make_position("SW_001", "EURUSD", Side.BUY, 25.0, 1.085, None),
          make_position("SW_002", "GBPUSD", Side.BUY, 20.0, 1.27, None)]
    snap = build_snapshot(seed_firm, seed_states(seed_firm), ps, risk_market)
    (v,) = verdicts(seed_firm, "symbol_correlation_caps", snap)
    assert v.detail["block"] == "euro_sterling_block" and v.severity is Severity.CRITICAL
