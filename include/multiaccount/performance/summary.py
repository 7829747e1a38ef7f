"""The seed's `PerformanceAggregator`: portfolio summary, group performance and the per-account table.

Differences from the seed, on purpose:
- `portfolio_return` is the time-weighted return over the window, not `(equity - balance) / balance`
  (that ratio is floating P&L; it is kept as `floating_pnl_ratio`).
- `daily_pnl` is equity change over the trading day (17:00 New York boundary) minus money moved in,
  so a transfer is never reported as profit.
- `avg_return` of a group averages the accounts' daily time-weighted returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd

from multiaccount.config import FirmConfig
from multiaccount.performance.metrics import drawdown_series, return_metrics
from multiaccount.performance.returns import day_bounds, daily_returns, period_pnl

INACTIVE_STATES = {"HALTED"}


@dataclass(frozen=True)
class PortfolioSummary:
    as_of: date
    total_balance: float
    total_equity: float
    daily_pnl: float
    daily_return: float
    portfolio_return: float
    floating_pnl_ratio: float
    max_drawdown: float
    current_drawdown: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    account_count: int
    active_accounts: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GroupPerformance:
    group_name: str
    account_count: int
    total_balance: float
    total_equity: float
    total_pnl: float
    group_return: float
    best_performer: str | None
    worst_performer: str | None
    avg_return: float
    allocation_target: float
    allocation_actual: float

    def as_dict(self) -> dict:
        return asdict(self)


def latest_rows(snapshots: pd.DataFrame, until: pd.Timestamp) -> pd.DataFrame:
    """Each account's last snapshot at or before `until`."""
    s = snapshots[snapshots["at"] <= until].sort_values("at")
    return s.groupby("account_id", sort=True).tail(1).set_index("account_id")


def _is_active(account_id: str, states: Mapping[str, str] | None, latest: pd.DataFrame) -> bool:
    state = str((states or {}).get(account_id, "ACTIVE"))
    connected = True
    if "connected" in latest.columns and account_id in latest.index:
        connected = bool(latest.at[account_id, "connected"])
    return state not in INACTIVE_STATES and connected


def account_table(firm: FirmConfig, snapshots: pd.DataFrame, flows: pd.DataFrame | None, day: date,
                  states: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per configured account as of the end of trading `day`: money, P&L, drawdown, ratios, status."""
    start, end = day_bounds(day)
    latest = latest_rows(snapshots, end)
    rows = []
    for acc in sorted(firm.accounts):
        info = firm.accounts[acc].account_info
        r = daily_returns(snapshots[snapshots["at"] <= end], flows, [acc])
        m = return_metrics(r)
        dd = drawdown_series(r)
        has = acc in latest.index
        balance = float(latest.at[acc, "balance"]) if has else 0.0
        equity = float(latest.at[acc, "equity"]) if has else 0.0
        margin = float(latest.at[acc, "margin"]) if has and "margin" in latest.columns else 0.0
        rows.append({
            "account_id": acc, "group": firm.group_of(acc), "broker": info.broker,
            "live": firm.live_trading(acc), "standby": info.standby,
            "balance": balance, "equity": equity, "margin": margin,
            "margin_use": margin / equity if equity > 0 else 0.0,
            "daily_pnl": period_pnl(snapshots, flows, start, end, [acc]) if has else 0.0,
            "daily_return": float(r.get(day, 0.0)) if len(r) else 0.0,
            "period_return": m.cumulative_return, "drawdown": float(dd.iloc[-1]) if len(dd) else 0.0,
            "max_drawdown": m.max_drawdown if len(r) else 0.0, "sharpe": m.sharpe, "sortino": m.sortino,
            "calmar": m.calmar, "volatility": m.annual_volatility,
            "status": str((states or {}).get(acc, "ACTIVE")), "active": _is_active(acc, states, latest),
        })
    return pd.DataFrame(rows)


def portfolio_summary(firm: FirmConfig, snapshots: pd.DataFrame, flows: pd.DataFrame | None, day: date,
                      states: Mapping[str, str] | None = None, table: pd.DataFrame | None = None) -> PortfolioSummary:
    """Firm totals and firm-level time-weighted metrics as of the end of trading `day`."""
    start, end = day_bounds(day)
    table = table if table is not None else account_table(firm, snapshots, flows, day, states)
    r = daily_returns(snapshots[snapshots["at"] <= end], flows)
    m = return_metrics(r)
    dd = drawdown_series(r)
    balance = float(table["balance"].sum())
    equity = float(table["equity"].sum())
    return PortfolioSummary(
        as_of=day, total_balance=balance, total_equity=equity,
        daily_pnl=period_pnl(snapshots, flows, start, end),
        daily_return=float(r.get(day, 0.0)) if len(r) else 0.0,
        portfolio_return=m.cumulative_return,
        floating_pnl_ratio=(equity - balance) / balance if balance else 0.0,
        max_drawdown=m.max_drawdown if len(r) else 0.0, current_drawdown=float(dd.iloc[-1]) if len(dd) else 0.0,
        sharpe_ratio=m.sharpe, sortino_ratio=m.sortino, calmar_ratio=m.calmar,
        account_count=len(table), active_accounts=int(table["active"].sum()))


def group_performance(firm: FirmConfig, table: pd.DataFrame, group: str, snapshots: pd.DataFrame,
                      flows: pd.DataFrame | None, day: date) -> GroupPerformance:
    """The seed's group view: totals, best and worst account by daily P&L, average account return."""
    _, end = day_bounds(day)
    rows = table[table["group"] == group]
    firm_equity = float(table["equity"].sum())
    r = daily_returns(snapshots[snapshots["at"] <= end], flows, firm.accounts_in(group))
    best = rows.loc[rows["daily_pnl"].idxmax(), "account_id"] if len(rows) else None
    worst = rows.loc[rows["daily_pnl"].idxmin(), "account_id"] if len(rows) else None
    return GroupPerformance(
        group_name=group, account_count=len(rows), total_balance=float(rows["balance"].sum()),
        total_equity=float(rows["equity"].sum()), total_pnl=float(rows["daily_pnl"].sum()),
        group_return=float(np.prod(1.0 + r.values) - 1.0) if len(r) else 0.0,
        best_performer=best, worst_performer=worst,
        avg_return=float(rows["daily_return"].mean()) if len(rows) else float("nan"),
        allocation_target=float(firm.group_limits(group).allocation_percentage),
        allocation_actual=float(rows["equity"].sum()) / firm_equity if firm_equity else 0.0)


def group_table(firm: FirmConfig, table: pd.DataFrame, snapshots: pd.DataFrame, flows: pd.DataFrame | None,
                day: date) -> pd.DataFrame:
    return pd.DataFrame([group_performance(firm, table, g, snapshots, flows, day).as_dict() for g in firm.groups])
