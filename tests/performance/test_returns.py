"""Time-weighted returns: flows are never profit; trading days end at 17:00 New York."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from multiaccount.performance.returns import (
    daily_returns,
    day_bounds,
    period_pnl,
    subperiod_returns,
    trading_day,
)
from tests.fixtures.analytics import make_history


def _ts(*args) -> pd.Timestamp:
    return pd.Timestamp(datetime(*args, tzinfo=UTC))


def test_subperiod_returns_when_deposit_inside_period_then_deposit_is_not_profit():
    equity = pd.Series([100_000.0, 160_000.0], index=[_ts(2026, 12, 1, 10), _ts(2026, 12, 1, 12)])
    flows = pd.Series([50_000.0], index=[_ts(2026, 12, 1, 11)])
    r = subperiod_returns(equity, flows)
    assert r.iloc[0] == pytest.approx(0.10)  # (160k - 50k) / 100k - 1


def test_subperiod_returns_when_flow_before_first_valuation_then_ignored():
    equity = pd.Series([100.0, 110.0], index=[_ts(2026, 12, 1, 10), _ts(2026, 12, 1, 12)])
    flows = pd.Series([1_000.0], index=[_ts(2026, 12, 1, 9)])
    assert subperiod_returns(equity, flows).iloc[0] == pytest.approx(0.10)


def test_daily_returns_when_history_has_flows_then_recovers_the_true_returns(seed_firm, seed_history):
    h = seed_history
    for acc in ("EU_HF_001", "SW_001", "SW_002", "RD_002"):
        r = daily_returns(h.snapshots, h.flows, [acc])
        expected = h.returns[acc].iloc[1:]
        assert list(r.index) == list(expected.index)
        np.testing.assert_allclose(r.values, expected.values, atol=1e-12)


def test_daily_returns_when_internal_transfer_then_firm_return_is_unchanged(seed_firm):
    without = make_history(seed_firm, n_days=30, seed=3)
    with_transfer = make_history(seed_firm, n_days=30, seed=3,
                                 flows=[(10, "SW_001", -20_000.0), (10, "EU_HF_002", 20_000.0)])
    a = daily_returns(without.snapshots, without.flows)
    b_unflowed = daily_returns(with_transfer.snapshots, None)  # flows ignored: the transfer distorts accounts
    b = daily_returns(with_transfer.snapshots, with_transfer.flows)
    acc = daily_returns(with_transfer.snapshots, None, ["EU_HF_002"])
    acc_twr = daily_returns(with_transfer.snapshots, with_transfer.flows, ["EU_HF_002"])
    # Firm level: both legs inside the firm, so the firm return never sees the transfer.
    assert np.abs(b_unflowed.values - b.values).max() < 1e-12
    # Account level: without the flow the transfer would look like a ~20% gain that day.
    assert acc.max() > 0.15 and acc_twr.max() < 0.05
    assert len(a) == len(b)


def test_trading_day_when_after_17_new_york_then_next_day_across_dst():
    summer = trading_day(pd.DatetimeIndex([_ts(2026, 7, 1, 20, 59), _ts(2026, 7, 1, 21, 1)]))
    winter = trading_day(pd.DatetimeIndex([_ts(2026, 12, 1, 21, 59), _ts(2026, 12, 1, 22, 1)]))
    assert list(summer) == [date(2026, 7, 1), date(2026, 7, 2)]  # EDT: 17:00 = 21:00 UTC
    assert list(winter) == [date(2026, 12, 1), date(2026, 12, 2)]  # EST: 17:00 = 22:00 UTC


def test_day_bounds_when_winter_then_22_utc_to_22_utc():
    start, end = day_bounds(date(2026, 12, 1))
    assert start == _ts(2026, 11, 30, 22) and end == _ts(2026, 12, 1, 22)


def test_period_pnl_when_deposit_during_day_then_pnl_excludes_it(seed_firm, seed_history):
    h = seed_history
    d = h.days[20]
    start, end = day_bounds(d)
    pnl = period_pnl(h.snapshots, h.flows, start, end, ["EU_HF_001"])
    eq = h.snapshots[h.snapshots.account_id == "EU_HF_001"].set_index("at")["equity"]
    e0 = eq[eq.index <= start].iloc[-1]
    e1 = eq[eq.index <= end].iloc[-1]
    assert e1 - e0 > 45_000  # the deposit is in the equity change
    assert pnl == pytest.approx(e1 - e0 - 50_000.0)
    half = (1 + h.returns.at[d, "EU_HF_001"]) ** 0.5  # the generator moves half, books the flow, moves half
    assert pnl == pytest.approx(e0 * (half - 1) + (e0 * half + 50_000.0) * (half - 1), rel=1e-9)
