"""Cost analysis for the monthly review and execution-quality divergence between accounts.

Costs are positive numbers in account currency (money paid):
- spread: half the quoted spread per fill (a round trip, entry plus exit, pays one full spread);
- slippage: (fill - requested price) x side, x volume x contract size x quote-to-account rate;
  negative when the fill was better than requested (price improvement);
- commission and swap: the negated MT5 values (MT5 books charges negative, a positive swap is income).

Divergence answers the seed's troubleshooting row "large gap between accounts trading the same signal":
for each signal filled on two or more accounts, every account's slippage and result per lot is compared
with the signal's median, and accounts whose average gap exceeds the thresholds are flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COST_COLUMNS = ["spread_cost", "slippage_cost", "commission_cost", "swap_cost"]


def _col(df: pd.DataFrame, name: str, default: float) -> pd.Series:
    return df[name].astype(float).fillna(default) if name in df else pd.Series(default, index=df.index, dtype=float)


def fill_costs(fills: pd.DataFrame) -> pd.DataFrame:
    """The fills with one cost column per kind, `total_cost` and `slippage_bps` added."""
    f = fills.copy()
    sign = np.where(f["side"].astype(str).str.lower() == "buy", 1.0, -1.0)
    units = f["volume"].astype(float) * _col(f, "contract_size", 100_000.0) * _col(f, "quote_to_account", 1.0)
    requested = f["requested_price"].astype(float)
    slip = (f["price"].astype(float) - requested.fillna(f["price"].astype(float))) * sign
    f["slippage_price"] = slip
    f["slippage_bps"] = slip / requested * 1e4
    f["slippage_cost"] = slip * units
    f["spread_cost"] = _col(f, "spread", 0.0) / 2.0 * units
    f["commission_cost"] = -_col(f, "commission", 0.0)
    f["swap_cost"] = -_col(f, "swap", 0.0)
    f["total_cost"] = f[COST_COLUMNS].sum(axis=1)
    return f


def cost_analysis(fills: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Summed costs per `by` ('account_id', 'broker', 'symbol' or a list), with lots and cost per lot."""
    keys = [by] if isinstance(by, str) else list(by)
    if fills.empty:
        return pd.DataFrame(columns=[*keys, "fills", "lots", *COST_COLUMNS, "total_cost", "cost_per_lot",
                                     "avg_slippage_bps"])
    f = fill_costs(fills)
    g = f.groupby(keys, sort=True)
    out = g[COST_COLUMNS + ["total_cost"]].sum()
    out.insert(0, "lots", g["volume"].sum().astype(float))
    out.insert(0, "fills", g.size())
    out["cost_per_lot"] = out["total_cost"] / out["lots"].where(out["lots"] > 0)
    out["avg_slippage_bps"] = g["slippage_bps"].mean()
    return out.reset_index()


def divergence(fills: pd.DataFrame, slippage_bps_threshold: float = 1.0,
               pnl_per_lot_threshold: float | None = None) -> pd.DataFrame:
    """Per account: how far its execution and results sit from other accounts on the same signals.

    Columns: shared_signals, mean_slippage_bps, slippage_gap_bps (mean of account minus signal median),
    pnl_per_lot_gap (same, for `profit` / volume when fills carry the trade's result), flagged, reason.
    Only signals filled on at least two accounts count.
    """
    cols = ["account_id", "shared_signals", "mean_slippage_bps", "slippage_gap_bps", "pnl_per_lot_gap",
            "flagged", "reason"]
    if fills.empty or "signal_id" not in fills:
        return pd.DataFrame(columns=cols)
    f = fill_costs(fills[fills["signal_id"].notna()])
    counts = f.groupby("signal_id")["account_id"].nunique()
    f = f[f["signal_id"].isin(counts[counts >= 2].index)].copy()
    if f.empty:
        return pd.DataFrame(columns=cols)
    f["slip_gap"] = f["slippage_bps"] - f.groupby("signal_id")["slippage_bps"].transform("median")
    has_pnl = "profit" in f
    if has_pnl:
        f["pnl_per_lot"] = f["profit"].astype(float) / f["volume"].astype(float)
        f["pnl_gap"] = f["pnl_per_lot"] - f.groupby("signal_id")["pnl_per_lot"].transform("median")
    rows = []
    for acc, g in f.groupby("account_id", sort=True):
        slip_gap = float(g["slip_gap"].mean())
        pnl_gap = float(g["pnl_gap"].mean()) if has_pnl else float("nan")
        reasons = []
        if abs(slip_gap) > slippage_bps_threshold:
            reasons.append(f"SLIPPAGE_GAP: account={acc}, gap_bps={slip_gap:.2f}, limit={slippage_bps_threshold:.2f}")
        if pnl_per_lot_threshold is not None and has_pnl and abs(pnl_gap) > pnl_per_lot_threshold:
            reasons.append(f"PNL_GAP: account={acc}, per_lot={pnl_gap:.2f}, limit={pnl_per_lot_threshold:.2f}")
        rows.append({"account_id": acc, "shared_signals": int(g["signal_id"].nunique()),
                     "mean_slippage_bps": float(g["slippage_bps"].mean()), "slippage_gap_bps": slip_gap,
                     "pnl_per_lot_gap": pnl_gap, "flagged": bool(reasons), "reason": "; ".join(reasons)})
    return pd.DataFrame(rows, columns=cols)
