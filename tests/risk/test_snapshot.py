from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multiaccount.domain import Side
from multiaccount.risk import MarketData, RiskBaseline, build_snapshot
from tests.fixtures.risk import make_position, quotes_from_reference, seed_states
from tests.risk.reference import reference

SYMS = ["EURUSD", "GBPUSD", "USDJPY", "EURGBP", "AUDJPY", "USDCHF"]


@st.composite
def portfolios(draw, firm):
    accounts = list(firm.accounts)
    n = draw(st.integers(0, 25))
    positions = []
    quotes = quotes_from_reference(firm)
    for _ in range(n):
        sym = draw(st.sampled_from(SYMS))
        side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        mid = sum(quotes[sym]) / 2
        has_sl = draw(st.booleans())
        dist = draw(st.floats(0.001, 0.03)) * mid
        sl = (mid - side.sign * dist) if has_sl else None
        positions.append(make_position(draw(st.sampled_from(accounts)), sym, side,
                                       draw(st.sampled_from([0.01, 0.1, 0.5, 1.0, 3.0])), mid, sl))
    equity = {a: float(c.account_info.initial_balance) * draw(st.floats(0.8, 1.1)) for a, c in firm.accounts.items()}
    return positions, equity, quotes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_build_snapshot_when_random_portfolio_then_matches_plain_reference(seed_firm, data):
    positions, equity, quotes = data.draw(portfolios(seed_firm))
    states = seed_states(seed_firm, equity=equity)
    base = {a: float(c.account_info.initial_balance) for a, c in seed_firm.accounts.items()}
    snap = build_snapshot(seed_firm, states, positions, MarketData.from_config(seed_firm.symbols, quotes),
                          baseline=RiskBaseline(peaks=base, day_start=base))
    ref = reference(seed_firm, states, positions, quotes, base, base)
    for a in seed_firm.accounts:
        i = snap.account_index[a]
        assert snap.account_risk[i] == pytest.approx(ref["account_risk"][a], rel=1e-9, abs=1e-12)
        assert snap.account_daily_loss[i] == pytest.approx(ref["daily_loss"][a], abs=1e-12)
        assert snap.account_drawdown[i] == pytest.approx(ref["drawdown"][a], abs=1e-12)
    for g in seed_firm.groups:
        assert snap.group_risk[snap.group_index[g]] == pytest.approx(ref["group_risk"][g], rel=1e-9, abs=1e-12)
    assert snap.firm_risk == pytest.approx(ref["firm_risk"], rel=1e-9, abs=1e-12)
    for c, v in ref["currency"].items():
        assert snap.currency_risk[snap.currency_index[c]] == pytest.approx(v, rel=1e-9, abs=1e-6)


def test_open_risk_when_position_has_no_stop_then_fallback_atr_multiple_and_never_zero(seed_firm, risk_market):
    p = make_position("SW_001", "EURUSD", Side.BUY, 1.0, 1.085, None)
    snap = build_snapshot(seed_firm, seed_states(seed_firm), [p], risk_market)
    expected = 2.0 * risk_market.mid("EURUSD") * 0.07 / math.sqrt(252) * 100_000
    assert snap.pos_fallback[0]
    assert snap.pos_risk[0] == pytest.approx(expected)
    assert snap.pos_risk[0] > 0


def test_open_risk_when_usdjpy_then_converted_from_yen_to_usd(seed_firm, risk_market):
    bid, _ = risk_market.bid_ask("USDJPY")
    p = make_position("SW_001", "USDJPY", Side.BUY, 1.0, 151.5, bid - 1.0)  # 1 yen below the close price
    snap = build_snapshot(seed_firm, seed_states(seed_firm), [p], risk_market)
    assert snap.pos_risk[0] == pytest.approx(100_000 * 1.0 / risk_market.mid("USDJPY"))


def test_currency_exposure_when_long_eurusd_and_long_gbpusd_then_short_usd_twice(seed_firm, risk_market):
    a = make_position("SW_001", "EURUSD", Side.BUY, 1.0, 1.085, 1.075)
    b = make_position("SW_002", "GBPUSD", Side.BUY, 1.0, 1.27, 1.26)
    snap = build_snapshot(seed_firm, seed_states(seed_firm), [a, b], risk_market)
    usd = snap.currency_risk[snap.currency_index["USD"]]
    eur = snap.currency_risk[snap.currency_index["EUR"]]
    gbp = snap.currency_risk[snap.currency_index["GBP"]]
    assert usd == pytest.approx(-(eur + gbp))
    assert eur > 0 and gbp > 0
    assert snap.currency_notional[snap.currency_index["USD"]] < 0


def test_daily_loss_and_drawdown_when_equity_below_baseline_then_measured_from_inputs(seed_firm, risk_market):
    states = seed_states(seed_firm, equity={"SW_001": 94_000.0})
    baseline = RiskBaseline(peaks={"SW_001": 110_000.0}, day_start={"SW_001": 100_000.0})
    snap = build_snapshot(seed_firm, states, [], risk_market, baseline=baseline)
    i = snap.account_index["SW_001"]
    assert snap.account_daily_loss[i] == pytest.approx(0.06)
    assert snap.account_drawdown[i] == pytest.approx(1 - 94_000 / 110_000)
    assert snap.updated_baseline(baseline).peaks["SW_001"] == 110_000.0


def test_snapshot_when_account_reports_no_state_then_excluded_not_a_total_loss(seed_firm, risk_market):
    states = [s for s in seed_states(seed_firm) if s.account_id != "SW_003"]
    base = {a: float(c.account_info.initial_balance) for a, c in seed_firm.accounts.items()}
    snap = build_snapshot(seed_firm, states, [], risk_market, baseline=RiskBaseline(base, base))
    assert snap.firm_daily_loss == pytest.approx(0.0)
    assert snap.firm_drawdown == pytest.approx(0.0)
    assert any(w.startswith("NO_STATE") for w in snap.warnings)


def test_account_correlation_when_two_accounts_move_together_then_group_max_is_high(seed_firm, risk_market):
    rng = np.random.default_rng(1)
    common = rng.normal(0, 0.01, 40)
    hist = pd.DataFrame({a: 100_000 * np.cumprod(1 + rng.normal(0, 0.01, 40)) for a in seed_firm.accounts})
    hist["SW_001"] = 100_000 * np.cumprod(1 + common)
    hist["SW_002"] = 100_000 * np.cumprod(1 + common + rng.normal(0, 0.001, 40))
    snap = build_snapshot(seed_firm, seed_states(seed_firm), [], risk_market, equity_history=hist)
    assert snap.group_max_corr[snap.group_index["swing_trading"]] > 0.95
    assert snap.group_max_corr[snap.group_index["high_frequency"]] < 0.9


def test_firm_correlation_risk_when_same_direction_in_correlated_pairs_then_equals_their_correlation(
        seed_firm, risk_market):
    a = make_position("SW_001", "EURUSD", Side.BUY, 1.0, 1.085, 1.075)
    b = make_position("SW_002", "GBPUSD", Side.BUY, 1.0, 1.27, 1.26)
    rng = np.random.default_rng(3)
    x = rng.normal(size=200)
    rets = pd.DataFrame({"EURUSD": x, "GBPUSD": 0.9 * x + math.sqrt(1 - 0.81) * rng.normal(size=200)})
    snap = build_snapshot(seed_firm, seed_states(seed_firm), [a, b], risk_market, symbol_returns=rets)
    rho = snap.symbol_corr[snap.symbol_index["EURUSD"], snap.symbol_index["GBPUSD"]]
    assert rho > 0.85
    assert snap.firm_correlation_risk == pytest.approx(rho)
