"""Report contents, built purely from frames: what the daily report and the monthly review say.

The builders take the same frames as `multiaccount.performance` (snapshots, flows, trades, fills) plus
optional inputs only other parts know: trading states, risk usage from the risk monitor, the month's
transfers, the disaster-recovery test result. Tables are DataFrames so HTML, CSV and XLSX show the
same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from multiaccount.config import FirmConfig
from multiaccount.performance.costs import cost_analysis, divergence
from multiaccount.performance.metrics import drawdown_series, return_metrics, trade_stats_by
from multiaccount.performance.returns import (
    aggregate_equity,
    day_bounds,
    daily_returns,
    daily_returns_by_account,
)
from multiaccount.performance.summary import PortfolioSummary, account_table, group_table, portfolio_summary
from multiaccount.rebalancing import AccountCapital, account_targets, drifts, group_drifts

# Items of the seed's monthly checklist: (title, answered from data?)
MONTHLY_CHECKLIST = [
    ("Account performance review", True),
    ("Risk parameter optimization", True),
    ("Strategy allocation adjustment", True),
    ("Broker relationship review", False),
    ("Technology stack update", False),
    ("Disaster recovery test", None),  # answered when a result is given
    ("Compliance review", False),
    ("Cost analysis (spreads, commissions)", True),
    ("Portfolio rebalancing strategy review", True),
    ("Documentation updates", False),
]


@dataclass(frozen=True)
class ReportInputs:
    firm: FirmConfig
    snapshots: pd.DataFrame
    flows: pd.DataFrame | None = None
    trades: pd.DataFrame | None = None
    fills: pd.DataFrame | None = None
    states: Mapping[str, str] | None = None
    risk_usage: pd.DataFrame | None = None  # scope, limit, measured, threshold (from the risk monitor)
    transfers: pd.DataFrame | None = None  # the period's transfers: transfer_id, from, to, amount, status, ...
    dr_test: Mapping[str, Any] | None = None  # {"ok": bool, "detail": str, "at": ...}


@dataclass(frozen=True)
class Report:
    kind: str  # "daily" | "monthly"
    period: str  # "2026-12-01" | "2026-12"
    title: str
    summary: PortfolioSummary
    tables: dict[str, pd.DataFrame]
    series: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)


def _within(df: pd.DataFrame | None, col: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame | None:
    if df is None or df.empty:
        return df
    return df[(df[col] > start) & (df[col] <= end)]


def risk_usage_table(firm: FirmConfig, table: pd.DataFrame, summary: PortfolioSummary,
                     extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """Measured value against each limit, from the snapshots (drawdown, daily loss, margin use) and any
    rows the risk monitor supplies (open risk, correlation). usage = measured / threshold."""
    m = firm.master
    start_equity = summary.total_equity - summary.daily_pnl
    rows = [
        ("firm", "max_daily_loss", max(0.0, -summary.daily_pnl / start_equity) if start_equity else 0.0,
         float(m.master_account.max_daily_loss)),
        ("firm", "emergency_stop_threshold", summary.current_drawdown, float(m.master_account.emergency_stop_threshold)),
    ]
    for r in table.itertuples():
        rows.append((f"account:{r.account_id}", "max_drawdown_per_account", r.drawdown,
                     float(m.risk_controls.max_drawdown_per_account)))
        rows.append((f"account:{r.account_id}", "margin_call_threshold", r.margin_use,
                     float(m.risk_controls.margin_call_threshold)))
    out = pd.DataFrame(rows, columns=["scope", "limit", "measured", "threshold"])
    if extra is not None and not extra.empty:
        out = pd.concat([out, extra[["scope", "limit", "measured", "threshold"]]], ignore_index=True)
    out["usage"] = out["measured"] / out["threshold"]
    out["status"] = np.where(out["usage"] >= 1, "BREACH",
                             np.where(out["usage"] >= float(m.risk_controls.warn_fraction), "WARN", "OK"))
    out["label"] = out["scope"] + " " + out["limit"]
    return out


def capital_of(firm: FirmConfig, table: pd.DataFrame) -> dict[str, AccountCapital]:
    def dec(x: float) -> Decimal:
        return Decimal(str(round(float(x), 2)))
    return {r.account_id: AccountCapital(r.account_id, r.group, dec(r.balance), dec(r.equity), dec(r.margin),
                                         bool(r.live)) for r in table.itertuples()}


def allocation_table(firm: FirmConfig, table: pd.DataFrame) -> pd.DataFrame:
    """Each account's target capital, actual equity and drift (rebalancing rules, no pools)."""
    cap = capital_of(firm, table)
    targets = account_targets(firm, cap)
    d = drifts(cap, targets)
    return pd.DataFrame([{"account_id": a, "group": firm.group_of(a), "target": float(targets[a]),
                          "equity": float(cap[a].equity), "drift": d[a],
                          "needs_rebalance": d[a] > float(firm.master.master_account.rebalance_threshold)}
                         for a in sorted(targets)])


def correlation(snapshots: pd.DataFrame, flows: pd.DataFrame | None, window: int | None = None) -> pd.DataFrame:
    r = daily_returns_by_account(snapshots, flows)
    if window:
        r = r.tail(window)
    return r.corr().fillna(0.0)


def _curves(firm: FirmConfig, snapshots: pd.DataFrame) -> pd.DataFrame:
    curves = {"firm": aggregate_equity(snapshots)}
    for g in firm.groups:
        curves[g] = aggregate_equity(snapshots, firm.accounts_in(g))
    return pd.DataFrame(curves).ffill()


def build_daily(inputs: ReportInputs, day: date) -> Report:
    """The end-of-day report: firm summary, accounts, groups, allocation, risk usage, correlation, charts."""
    firm = inputs.firm
    start, end = day_bounds(day)
    snaps = inputs.snapshots[inputs.snapshots["at"] <= end]
    table = account_table(firm, snaps, inputs.flows, day, inputs.states)
    summary = portfolio_summary(firm, snaps, inputs.flows, day, inputs.states, table)
    groups = group_table(firm, table, snaps, inputs.flows, day)
    usage = risk_usage_table(firm, table, summary, inputs.risk_usage)
    alloc = allocation_table(firm, table)
    firm_r = daily_returns(snaps, inputs.flows)
    tables = {"accounts": table, "groups": groups, "allocation": alloc, "risk_usage": usage}
    trades = _within(inputs.trades, "closed_at", start, end)
    if trades is not None and not trades.empty:
        tables["strategies"] = trade_stats_by(trades, "strategy", start, end)
        tables["symbols"] = trade_stats_by(trades, "symbol", start, end)
    return Report(
        kind="daily", period=day.isoformat(), title=f"Daily report {day.isoformat()}", summary=summary,
        tables=tables,
        series={"curves": _curves(firm, snaps), "drawdown": drawdown_series(firm_r),
                "correlation": correlation(snaps, inputs.flows, firm.master.risk_controls.correlation_window)})


def month_bounds(month: str) -> tuple[date, date]:
    """First and last calendar day of 'YYYY-MM'."""
    first = date.fromisoformat(f"{month}-01")
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, nxt - timedelta(days=1)


def risk_suggestions(firm: FirmConfig, accounts: pd.DataFrame, corr: pd.DataFrame) -> pd.DataFrame:
    """Parameter changes a risk officer would consider, each with its reason and numbers."""
    rc = firm.master.risk_controls
    limit = float(rc.max_drawdown_per_account)
    rows = []
    for r in accounts.itertuples():
        rpt = firm.accounts[r.account_id].trading_config.risk_per_trade
        if r.max_drawdown >= rc.warn_fraction * limit:
            rows.append((f"account:{r.account_id}", "risk_per_trade", rpt, round(rpt * 0.75, 4),
                         f"DRAWDOWN_NEAR_LIMIT: max_dd={r.max_drawdown:.4f}, limit={limit:.4f}"))
        elif np.isfinite(r.sharpe) and r.sharpe < 0:
            rows.append((f"account:{r.account_id}", "risk_per_trade", rpt, round(rpt * 0.5, 4),
                         f"NEGATIVE_SHARPE: sharpe={r.sharpe:.2f}"))
        elif np.isfinite(r.sharpe) and r.sharpe > 2 and r.max_drawdown < 0.4 * limit:
            rows.append((f"account:{r.account_id}", "risk_per_trade", rpt, round(min(rpt * 1.25, 0.02), 4),
                         f"HEADROOM: sharpe={r.sharpe:.2f}, max_dd={r.max_drawdown:.4f}, limit={limit:.4f}"))
        if r.max_margin_use >= rc.warn_fraction * rc.margin_call_threshold:
            mps = firm.accounts[r.account_id].trading_config.max_position_size
            rows.append((f"account:{r.account_id}", "max_position_size", mps, round(mps * 0.75, 2),
                         f"MARGIN_USE_HIGH: max={r.max_margin_use:.4f}, threshold={rc.margin_call_threshold:.4f}"))
    for g in firm.groups:
        cap = firm.group_limits(g).max_correlation
        members = [a for a in firm.accounts_in(g) if a in corr.index]
        if cap is None or len(members) < 2:
            continue
        sub = corr.loc[members, members].where(~np.eye(len(members), dtype=bool))
        worst = float(np.nanmax(sub.values)) if sub.notna().any().any() else float("nan")
        if np.isfinite(worst) and worst > cap:
            rows.append((f"group:{g}", "strategy_allocation / specialization", cap, cap,
                         f"CORRELATION_HIGH: max_pair={worst:.2f}, limit={cap:.2f}; diversify symbols or strategies"))
    return pd.DataFrame(rows, columns=["scope", "parameter", "current", "suggested", "reason"])


def strategy_suggestions(firm: FirmConfig, trades: pd.DataFrame | None) -> pd.DataFrame:
    """Per account and strategy: current weight and a suggested one (x1.2 if profit factor > 1.2,
    x0.8 if < 1.0, renormalised to sum to 1), from the month's closed trades."""
    cols = ["account_id", "strategy", "trades", "profit_factor", "net_profit", "current_weight", "suggested_weight"]
    if trades is None or trades.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for acc in sorted(firm.accounts):
        alloc = firm.accounts[acc].strategy_allocation
        stats = trade_stats_by(trades[trades["account_id"] == acc], "strategy").set_index("strategy") \
            if (trades["account_id"] == acc).any() else pd.DataFrame()
        raw = {}
        for s, w in alloc.items():
            pf = float(stats.at[s, "profit_factor"]) if s in stats.index else float("nan")
            factor = 1.2 if pf > 1.2 else 0.8 if pf < 1.0 else 1.0
            raw[s] = w * factor
        total = sum(raw.values()) or 1.0
        for s, w in alloc.items():
            rows.append({"account_id": acc, "strategy": s,
                         "trades": int(stats.at[s, "trades"]) if s in stats.index else 0,
                         "profit_factor": float(stats.at[s, "profit_factor"]) if s in stats.index else float("nan"),
                         "net_profit": float(stats.at[s, "net_profit"]) if s in stats.index else 0.0,
                         "current_weight": w, "suggested_weight": round(raw[s] / total, 4)})
    return pd.DataFrame(rows, columns=cols)


def build_monthly(inputs: ReportInputs, month: str) -> Report:
    """The monthly review: every checklist item data can answer, and a sign-off list for the rest."""
    firm = inputs.firm
    first, last = month_bounds(month)
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    snaps_all = inputs.snapshots[inputs.snapshots["at"] <= end]
    month_snaps = snaps_all[snaps_all["at"] > start - pd.Timedelta(days=7)]  # last valuation before the month
    flows = _within(inputs.flows, "at", start, end)
    last_day = max(d for d in (pd.Timestamp(t).date() for t in snaps_all["at"]) if d <= last) \
        if not snaps_all.empty else last
    last_day = min(last, max(last_day, first))
    table = account_table(firm, month_snaps, flows, last_day, inputs.states)
    r_acc = daily_returns_by_account(month_snaps, flows)
    r_acc = r_acc[[d >= first for d in r_acc.index]] if len(r_acc) else r_acc
    review = []
    for acc in sorted(firm.accounts):
        r = r_acc[acc].dropna() if acc in r_acc else pd.Series(dtype=float)
        mm = return_metrics(r)
        acc_snaps = month_snaps[month_snaps["account_id"] == acc]
        mu = (acc_snaps["margin"] / acc_snaps["equity"]).max() if len(acc_snaps) else 0.0
        review.append({"account_id": acc, "group": firm.group_of(acc), "equity": float(
            table.set_index("account_id").at[acc, "equity"]), "month_return": mm.cumulative_return,
            "max_drawdown": mm.max_drawdown if len(r) else 0.0, "sharpe": mm.sharpe, "sortino": mm.sortino,
            "calmar": mm.calmar, "volatility": mm.annual_volatility, "max_margin_use": float(mu)})
    review_df = pd.DataFrame(review)
    summary = portfolio_summary(firm, month_snaps, flows, last_day, inputs.states, table)
    firm_r = daily_returns(month_snaps, flows)
    firm_r = firm_r[[d >= first for d in firm_r.index]] if len(firm_r) else firm_r
    groups = group_table(firm, table, month_snaps, flows, last_day)
    corr = correlation(month_snaps, flows)
    trades = _within(inputs.trades, "closed_at", start, end)
    fills = inputs.fills
    tables: dict[str, pd.DataFrame] = {"account_review": review_df, "groups": groups}
    if trades is not None and not trades.empty:
        tables["strategies"] = trade_stats_by(trades, "strategy", start, end)
        tables["symbols"] = trade_stats_by(trades, "symbol", start, end)
    tables["risk_suggestions"] = risk_suggestions(firm, review_df, corr)
    tables["strategy_allocation"] = strategy_suggestions(firm, trades)
    if fills is not None and not fills.empty:
        tables["costs_by_account"] = cost_analysis(fills, "account_id")
        tables["costs_by_broker"] = cost_analysis(fills, "broker")
        tables["costs_by_symbol"] = cost_analysis(fills, "symbol")
        tables["divergence"] = divergence(fills)
    alloc = allocation_table(firm, table)
    tables["allocation"] = alloc
    if inputs.transfers is not None:
        tables["transfers"] = inputs.transfers
    cap = capital_of(firm, table)
    gd = group_drifts(firm, cap, account_targets(firm, cap))
    dr = inputs.dr_test
    answered = {"Disaster recovery test": dr is not None}
    checklist = [{"item": title, "answered": bool(answered.get(title, auto))} for title, auto in MONTHLY_CHECKLIST]
    return Report(
        kind="monthly", period=month, title=f"Monthly review {month}", summary=summary, tables=tables,
        series={"curves": _curves(firm, month_snaps[month_snaps["at"] > start]),
                "drawdown": drawdown_series(firm_r), "correlation": corr},
        sections={"checklist": checklist, "group_drift": gd, "dr_test": dr,
                  "threshold": float(firm.master.master_account.rebalance_threshold),
                  "month_metrics": return_metrics(firm_r).as_dict()})
