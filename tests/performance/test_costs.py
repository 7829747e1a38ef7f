"""Cost analysis and divergence on hand-checked fills."""

from __future__ import annotations

import pandas as pd
import pytest

from multiaccount.performance.costs import cost_analysis, divergence, fill_costs

FILLS = pd.DataFrame([
    # account, broker, symbol, side, volume, requested, price, spread, contract, rate, commission, swap, signal, profit
    ("A", "IC Markets", "EURUSD", "buy", 1.0, 1.10000, 1.10002, 0.00010, 100_000, 1.0, -7.0, -1.0, "s1", 100.0),
    ("B", "Pepperstone", "EURUSD", "buy", 2.0, 1.10000, 1.10000, 0.00010, 100_000, 1.0, -14.0, 0.0, "s1", 200.0),
    ("C", "Pepperstone", "EURUSD", "buy", 1.0, 1.10000, 1.10010, 0.00010, 100_000, 1.0, -7.0, 0.0, "s1", 20.0),
    ("A", "IC Markets", "EURUSD", "sell", 1.0, 1.20000, 1.20003, 0.00020, 100_000, 1.0, -7.0, 2.0, "s2", 50.0),
], columns=["account_id", "broker", "symbol", "side", "volume", "requested_price", "price", "spread",
            "contract_size", "quote_to_account", "commission", "swap", "signal_id", "profit"])


def test_fill_costs_when_buy_fills_above_request_then_slippage_is_a_cost():
    f = fill_costs(FILLS)
    assert f.loc[0, "slippage_cost"] == pytest.approx(2.0)  # 0.00002 x 100k
    assert f.loc[0, "spread_cost"] == pytest.approx(5.0)  # half of 0.0001 x 100k
    assert f.loc[0, "commission_cost"] == 7.0 and f.loc[0, "swap_cost"] == 1.0
    # a sell filled above the request is price improvement: negative cost
    assert f.loc[3, "slippage_cost"] == pytest.approx(-3.0)
    assert f.loc[3, "swap_cost"] == -2.0


def test_cost_analysis_when_by_broker_then_sums_match_fills():
    by = cost_analysis(FILLS, "broker").set_index("broker")
    pep = by.loc["Pepperstone"]
    assert pep["fills"] == 2 and pep["lots"] == 3.0
    assert pep["slippage_cost"] == pytest.approx(10.0)
    assert pep["spread_cost"] == pytest.approx(15.0)
    assert pep["commission_cost"] == pytest.approx(21.0)
    assert pep["total_cost"] == pytest.approx(46.0)
    assert pep["cost_per_lot"] == pytest.approx(46.0 / 3)
    total = cost_analysis(FILLS, "account_id")["total_cost"].sum()
    assert total == pytest.approx(fill_costs(FILLS)["total_cost"].sum())


def test_divergence_when_one_account_slips_more_then_it_is_flagged():
    d = divergence(FILLS, slippage_bps_threshold=0.5, pnl_per_lot_threshold=50.0).set_index("account_id")
    assert d.loc["C", "flagged"] and "SLIPPAGE_GAP" in d.loc["C", "reason"] and "PNL_GAP" in d.loc["C", "reason"]
    assert d.loc["C", "slippage_gap_bps"] == pytest.approx((0.0001 - 0.00002) / 1.1 * 1e4)
    assert d.loc["C", "pnl_per_lot_gap"] == pytest.approx(20.0 - 100.0)
    assert not d.loc["B", "flagged"]
    assert d.loc["A", "shared_signals"] == 1  # s2 was filled on one account only


def test_divergence_when_no_signal_shared_then_empty():
    assert divergence(FILLS[FILLS.signal_id == "s2"]).empty
