"""Time-weighted returns: deposits, withdrawals and internal transfers are never profit.

A sub-period ends at every valuation (snapshot). The return of the sub-period (t-1, t] is
`(E_t - F) / E_{t-1} - 1`, where F is the net external flow booked in (t-1, t]: the valuation at t
already contains the flow, so it is removed before measuring growth. This is exact when a snapshot is
taken right after every flow (the rebalancer does so) and the usual end-of-period approximation
otherwise. Daily returns compound the sub-period returns of one trading day; the trading day ends at
the FX rollover, 17:00 New York wall-clock time (DST-correct), as in DESIGN.md section 3.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

ROLLOVER_TZ = "America/New_York"
ROLLOVER_HOUR = 17


def trading_day(at: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """Trading-day label of each timestamp: the calendar date that starts at the previous 17:00 New York.

    Works on wall-clock time, so the boundary stays at 17:00 local across DST changes.
    """
    idx = pd.DatetimeIndex(at)
    if idx.tz is None:
        raise ValueError("timestamps must be timezone-aware")
    local = idx.tz_convert(ROLLOVER_TZ).tz_localize(None)
    shifted = local + pd.Timedelta(hours=24 - ROLLOVER_HOUR)
    return pd.Series([d.date() for d in shifted], index=idx)


def _flows_series(flows: pd.DataFrame | None, accounts: Iterable[str] | None) -> pd.Series:
    if flows is None or flows.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    f = flows if accounts is None else flows[flows["account_id"].isin(list(accounts))]
    s = f.groupby("at")["amount"].sum().astype(float)
    s.index = pd.DatetimeIndex(s.index)
    return s.sort_index()


def aggregate_equity(snapshots: pd.DataFrame, accounts: Iterable[str] | None = None,
                     column: str = "equity") -> pd.Series:
    """Summed `column` of the given accounts at every snapshot time (each account carried forward).

    An account contributes 0 before its first snapshot; its funding must then appear as a flow.
    """
    snaps = snapshots if accounts is None else snapshots[snapshots["account_id"].isin(list(accounts))]
    if snaps.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"), name=column)
    wide = snaps.pivot_table(index="at", columns="account_id", values=column, aggfunc="last").sort_index()
    total = wide.ffill().fillna(0.0).sum(axis=1).astype(float)
    total.index = pd.DatetimeIndex(total.index)
    total.name = column
    return total


def subperiod_returns(equity: pd.Series, flows: pd.Series | None = None) -> pd.Series:
    """Return of each sub-period between consecutive valuations, net of the flows booked inside it.

    `equity` is indexed by valuation time; `flows` by booking time (+ in, - out). Flows before the
    first valuation are already in it; flows after the last are not measured yet. A sub-period that
    starts with no capital (E_{t-1} <= 0) has no return (0).
    """
    eq = equity.sort_index().astype(float)
    if len(eq) < 2:
        return pd.Series(dtype=float, index=eq.index[1:])
    times = eq.index
    if flows is not None and not flows.empty:
        f = flows.sort_index()
        f = f[(f.index > times[0]) & (f.index <= times[-1])]
        # Assign each flow to the first valuation at or after it: bucket i covers (t_{i-1}, t_i].
        pos = np.searchsorted(times.values, f.index.values, side="left")
        booked = pd.Series(f.values, index=pos).groupby(level=0).sum()
        flow_at = pd.Series(0.0, index=range(len(times)))
        flow_at.loc[booked.index] = booked.values
    else:
        flow_at = pd.Series(0.0, index=range(len(times)))
    prev = eq.values[:-1]
    cur = eq.values[1:]
    net = cur - flow_at.values[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(prev > 0, net / prev - 1.0, 0.0)
    return pd.Series(r, index=times[1:], name="return")


def compound_by_day(returns: pd.Series) -> pd.Series:
    """Compound sub-period returns into one return per trading day (index: `datetime.date`)."""
    if returns.empty:
        return pd.Series(dtype=float, name="return")
    days = trading_day(returns.index).values
    out = (1.0 + returns).groupby(days).prod() - 1.0
    out.index = pd.Index(list(out.index), name="day")
    out.name = "return"
    return out


def daily_returns(snapshots: pd.DataFrame, flows: pd.DataFrame | None = None,
                  accounts: Iterable[str] | None = None) -> pd.Series:
    """Daily time-weighted return of the combined capital of `accounts` (all when None).

    Transfers between two included accounts cancel out; a transfer from outside counts as a flow.
    """
    accounts = list(accounts) if accounts is not None else None
    equity = aggregate_equity(snapshots, accounts)
    return compound_by_day(subperiod_returns(equity, _flows_series(flows, accounts)))


def daily_returns_by_account(snapshots: pd.DataFrame, flows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One column of daily TWR per account (rows: trading days, missing days NaN)."""
    cols = {acc: daily_returns(snapshots, flows, [acc]) for acc in sorted(snapshots["account_id"].unique())}
    return pd.DataFrame(cols)


def period_pnl(snapshots: pd.DataFrame, flows: pd.DataFrame | None, start: pd.Timestamp,
               end: pd.Timestamp, accounts: Iterable[str] | None = None) -> float:
    """Equity change over (start, end] minus external flows in it: profit, not money moved in."""
    accounts = list(accounts) if accounts is not None else None
    eq = aggregate_equity(snapshots, accounts)
    before = eq[eq.index <= start]
    upto = eq[eq.index <= end]
    if upto.empty:
        return 0.0
    e0 = float(before.iloc[-1]) if not before.empty else 0.0
    f = _flows_series(flows, accounts)
    if before.empty and not upto.empty:
        # No valuation before the window: measure from the first one inside it.
        e0 = float(upto.iloc[0])
        start = upto.index[0]
    moved = float(f[(f.index > start) & (f.index <= end)].sum())
    return float(upto.iloc[-1]) - e0 - moved


def day_bounds(day: date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC start and end of a trading day: previous 17:00 New York to this day's 17:00 New York."""
    end_local = pd.Timestamp(day.year, day.month, day.day, ROLLOVER_HOUR).tz_localize(ROLLOVER_TZ)
    start_local = (pd.Timestamp(day.year, day.month, day.day, ROLLOVER_HOUR) - pd.Timedelta(days=1)).tz_localize(
        ROLLOVER_TZ)
    return start_local.tz_convert("UTC"), end_local.tz_convert("UTC")
