from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multiaccount.domain import Side, TradingState
from multiaccount.sizing import round_down, size_position


def size(firm, **kw):
    args = dict(symbol="EURUSD", side=Side.BUY, entry=1.0850, stop=1.0800, strategy="ict_patterns",
                equity=120_000.0, value_per_price_unit=100_000.0)
    args.update(kw)
    return size_position(firm, kw.pop("account", "EU_HF_001"), **{k: v for k, v in args.items() if k != "account"})


def test_size_when_plain_signal_then_seed_formula_rounded_down(seed_firm):
    r = size(seed_firm)
    # base = 120k x 1.5 % / (0.005 x 100k) = 3.6 lots; x strategy weight 0.7 = 2.52
    assert r.factors["base"] == pytest.approx(3.6)
    assert r.volume == 2.52
    assert set(r.factors) >= {"base", "correlation", "performance", "group_allocation", "strategy_weight", "state"}


def test_size_when_reducing_then_risk_halved(seed_firm):
    assert size(seed_firm, state=TradingState.REDUCING).volume == 1.26


@pytest.mark.parametrize(("stop", "code"), [(None, "NO_STOP"), (1.0900, "INVALID_STOP"), (float("nan"), "NO_STOP")])
def test_size_when_stop_missing_or_wrong_side_then_zero_with_reason(seed_firm, stop, code):
    r = size(seed_firm, stop=stop)
    assert r.volume == 0 and r.reason.startswith(code)


def test_size_when_raw_above_max_position_size_then_capped(seed_firm):
    r = size(seed_firm, stop=1.0849, strategy="ict_patterns")
    assert r.factors["raw"] > 10 and r.volume == 10.0


def test_size_when_strategy_not_run_by_account_then_zero(seed_firm):
    r = size(seed_firm, strategy="experimental")
    assert r.volume == 0 and r.reason.startswith("NO_STRATEGY_WEIGHT")


def test_size_when_correlated_drawdown_and_overallocated_then_each_factor_applies(seed_firm):
    r = size(seed_firm, correlation=1.0, drawdown=0.05, group_equity=700_000.0, firm_equity=1_000_000.0)
    assert r.factors["correlation"] == 0.5
    assert r.factors["performance"] == pytest.approx(0.5)
    assert r.factors["group_allocation"] == pytest.approx(600_000 / 700_000)
    assert r.volume == round_down(3.6 * 0.7 * 0.5 * 0.5 * 600 / 700, 0.01)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(equity=st.floats(1_000, 5_000_000), dist=st.floats(0.00005, 0.05), rho=st.floats(-1, 1),
       dd=st.floats(0, 0.2), account=st.sampled_from(["EU_HF_001", "EU_HF_004", "SW_003", "RD_001"]),
       vmax=st.sampled_from([None, 1.0, 50.0]))
def test_size_never_exceeds_caps_and_is_a_step_multiple(seed_firm, equity, dist, rho, dd, account, vmax):
    strategy = next(iter(seed_firm.accounts[account].strategy_allocation))
    r = size_position(seed_firm, account, symbol="EURUSD", side=Side.SELL, entry=1.085, stop=1.085 + dist,
                      strategy=strategy, equity=equity, value_per_price_unit=100_000.0, correlation=rho,
                      drawdown=dd, volume_max=vmax)
    cap = min(seed_firm.accounts[account].trading_config.max_position_size, vmax or 100.0)
    assert 0 <= r.volume <= cap
    assert abs(round(r.volume / 0.01) * 0.01 - r.volume) < 1e-9
    if r.volume:
        assert r.risk_amount <= equity * seed_firm.accounts[account].trading_config.risk_per_trade * (1 + 1e-9)
