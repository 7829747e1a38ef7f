"""Metrics against empyrical-reloaded on the same series, and trade statistics on hand-checked cases."""

from __future__ import annotations

from datetime import UTC, datetime

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from multiaccount.performance import daily_returns, return_metrics, trade_stats, trade_stats_by
from multiaccount.performance.metrics import exposure_time


def _series(seed: int, n: int = 250, mu: float = 0.0005, sd: float = 0.01) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.normal(mu, sd, n), index=pd.bdate_range("2026-01-01", periods=n, tz="UTC"))


@pytest.mark.parametrize("seed", [1, 2, 3, 11])
def test_return_metrics_when_random_series_then_match_empyrical(seed):
    r = _series(seed)
    m = return_metrics(r)
    assert m.sharpe == pytest.approx(ep.sharpe_ratio(r), rel=1e-9)
    assert m.sortino == pytest.approx(ep.sortino_ratio(r), rel=1e-9)
    assert m.calmar == pytest.approx(ep.calmar_ratio(r), rel=1e-9)
    assert m.max_drawdown == pytest.approx(-ep.max_drawdown(r), rel=1e-9)
    assert m.annual_return == pytest.approx(ep.annual_return(r), rel=1e-9)
    assert m.annual_volatility == pytest.approx(ep.annual_volatility(r), rel=1e-9)
    assert m.cumulative_return == pytest.approx(ep.cum_returns_final(r), rel=1e-9)


def test_return_metrics_when_firm_twr_series_then_match_empyrical(seed_history):
    r = daily_returns(seed_history.snapshots, seed_history.flows)
    m = return_metrics(r)
    assert m.sharpe == pytest.approx(ep.sharpe_ratio(r.values), rel=1e-9)
    assert m.sortino == pytest.approx(ep.sortino_ratio(r.values), rel=1e-9)
    assert m.max_drawdown == pytest.approx(-ep.max_drawdown(r.values), rel=1e-9)


def test_return_metrics_when_no_losses_then_sortino_and_calmar_are_nan():
    m = return_metrics(pd.Series([0.01, 0.02, 0.01]))
    assert np.isnan(m.sortino) and np.isnan(m.calmar) and m.max_drawdown == 0.0


def test_max_drawdown_when_first_period_loses_then_measured_from_initial_capital():
    m = return_metrics(pd.Series([-0.10, 0.05]))
    assert m.max_drawdown == pytest.approx(0.10)
    assert m.max_drawdown == pytest.approx(-ep.max_drawdown(np.array([-0.10, 0.05])))


def _t(h: int, m: int = 0) -> pd.Timestamp:
    return pd.Timestamp(datetime(2026, 12, 1, h, m, tzinfo=UTC))


TRADES = pd.DataFrame([
    # account, symbol, strategy, opened, closed, profit, commission, swap
    ("A", "EURUSD", "ict_patterns", _t(8), _t(10), 300.0, -10.0, 0.0),
    ("A", "EURUSD", "smart_money", _t(9), _t(11), -100.0, -10.0, -5.0),
    ("A", "GBPUSD", "ict_patterns", _t(14), _t(15), 5.0, -5.0, 0.0),  # breakeven after costs
    ("B", "GBPUSD", "smart_money", _t(12), _t(13), -200.0, 0.0, 0.0),
], columns=["account_id", "symbol", "strategy", "opened_at", "closed_at", "profit", "commission", "swap"])


def test_trade_stats_when_hand_checked_trades_then_win_rate_and_profit_factor_match():
    s = trade_stats(TRADES, _t(8), _t(16))
    assert (s.trades, s.wins, s.losses) == (4, 1, 2)
    assert s.win_rate == pytest.approx(0.25)
    assert s.gross_profit == pytest.approx(290.0) and s.gross_loss == pytest.approx(315.0)
    assert s.profit_factor == pytest.approx(290.0 / 315.0)
    assert s.net_profit == pytest.approx(-25.0)
    # open 08-11, 12-13, 14-15 = 5h of 8h
    assert s.exposure_time == pytest.approx(5 / 8)


def test_trade_stats_by_when_grouped_by_strategy_then_one_row_per_strategy():
    by = trade_stats_by(TRADES, "strategy", _t(8), _t(16)).set_index("strategy")
    assert by.loc["ict_patterns", "trades"] == 2 and by.loc["ict_patterns", "wins"] == 1
    assert np.isinf(by.loc["ict_patterns", "profit_factor"])
    assert by.loc["smart_money", "win_rate"] == 0.0
    assert by.loc["smart_money", "exposure_time"] == pytest.approx(3 / 8)
    by_symbol = trade_stats_by(TRADES, "symbol", _t(8), _t(16)).set_index("symbol")
    assert by_symbol.loc["GBPUSD", "net_profit"] == pytest.approx(-200.0)


def test_exposure_time_when_trade_outside_window_then_clipped():
    t = TRADES.iloc[:1]
    assert exposure_time(t, _t(9), _t(13)) == pytest.approx(1 / 4)
