"""Risk-adjusted return metrics and trade statistics.

Conventions follow empyrical (the reference the tests compare against): daily returns, 252 periods a
year, sample standard deviation (ddof=1) for Sharpe, downside deviation as the root mean square of the
negative excess returns for Sortino, CAGR by period count for the annual return. Drawdown is reported
as a positive fraction, `1 - equity / peak` (DESIGN.md section 3), where empyrical reports a negative one.
Undefined values (too few points, no dispersion, no loss) are NaN, never an exception.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

PERIODS_PER_YEAR = 252


def _arr(returns: pd.Series | np.ndarray) -> np.ndarray:
    a = np.asarray(returns, dtype=float)
    return a[~np.isnan(a)]


def sharpe_ratio(returns, risk_free: float = 0.0, periods: int = PERIODS_PER_YEAR) -> float:
    """Mean excess return over its sample standard deviation, annualised by sqrt(periods)."""
    r = _arr(returns) - risk_free
    if len(r) < 2:
        return float("nan")
    sd = r.std(ddof=1)
    return float(r.mean() / sd * np.sqrt(periods)) if sd > 0 else float("nan")


def downside_risk(returns, required: float = 0.0, periods: int = PERIODS_PER_YEAR) -> float:
    """Annualised root mean square of returns below `required` (zeros for the others)."""
    r = _arr(returns) - required
    if len(r) < 1:
        return float("nan")
    return float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)) * np.sqrt(periods))


def sortino_ratio(returns, required: float = 0.0, periods: int = PERIODS_PER_YEAR) -> float:
    """Annualised mean excess return over downside risk; NaN when there is no downside."""
    r = _arr(returns)
    if len(r) < 2:
        return float("nan")
    dr = downside_risk(r, required, periods)
    return float(np.mean(r - required) * periods / dr) if dr > 0 else float("nan")


def annual_volatility(returns, periods: int = PERIODS_PER_YEAR) -> float:
    r = _arr(returns)
    return float(r.std(ddof=1) * np.sqrt(periods)) if len(r) >= 2 else float("nan")


def cumulative_return(returns) -> float:
    r = _arr(returns)
    return float(np.prod(1.0 + r) - 1.0) if len(r) else 0.0


def annual_return(returns, periods: int = PERIODS_PER_YEAR) -> float:
    """Compound annual growth rate, with `len(returns) / periods` years."""
    r = _arr(returns)
    if len(r) < 1:
        return float("nan")
    growth = np.prod(1.0 + r)
    return float(growth ** (periods / len(r)) - 1.0)


def drawdown_series(returns: pd.Series) -> pd.Series:
    """Drawdown after each period, `1 - value / running peak`, the peak starting at the initial capital."""
    r = returns.fillna(0.0).astype(float)
    value = np.cumprod(1.0 + r.values)
    peak = np.maximum.accumulate(np.concatenate([[1.0], value]))[1:]
    return pd.Series(1.0 - value / peak, index=returns.index, name="drawdown")


def drawdown_from_equity(equity: pd.Series) -> pd.Series:
    """Drawdown of an equity curve as the risk limits measure it (flows included: use on TWR index)."""
    peak = equity.cummax()
    return (1.0 - equity / peak).fillna(0.0)


def max_drawdown(returns) -> float:
    r = pd.Series(_arr(returns))
    return float(drawdown_series(r).max()) if len(r) else float("nan")


def calmar_ratio(returns, periods: int = PERIODS_PER_YEAR) -> float:
    """Annual return over maximum drawdown; NaN without a drawdown."""
    mdd = max_drawdown(returns)
    if not mdd > 0:
        return float("nan")
    value = annual_return(returns, periods) / mdd
    return float(value) if np.isfinite(value) else float("nan")


@dataclass(frozen=True)
class ReturnMetrics:
    """What a manager reads about one return stream."""

    periods: int
    cumulative_return: float
    annual_return: float
    annual_volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def return_metrics(returns: pd.Series, periods: int = PERIODS_PER_YEAR) -> ReturnMetrics:
    r = _arr(returns)
    return ReturnMetrics(
        periods=len(r), cumulative_return=cumulative_return(r), annual_return=annual_return(r, periods),
        annual_volatility=annual_volatility(r, periods), sharpe=sharpe_ratio(r, periods=periods),
        sortino=sortino_ratio(r, periods=periods), calmar=calmar_ratio(r, periods), max_drawdown=max_drawdown(r))


# ---------------------------------------------------------------- trade statistics
@dataclass(frozen=True)
class TradeStats:
    """Closed-trade statistics; `net` = profit + commission + swap (MT5 signs, costs negative)."""

    trades: int
    wins: int
    losses: int
    win_rate: float
    gross_profit: float
    gross_loss: float
    profit_factor: float
    net_profit: float
    avg_trade: float
    exposure_time: float  # fraction of the period with at least one position open

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def net_profit_column(trades: pd.DataFrame) -> pd.Series:
    net = trades["profit"].astype(float)
    for col in ("commission", "swap"):
        if col in trades:
            net = net + trades[col].fillna(0.0).astype(float)
    return net


def exposure_time(trades: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Fraction of [start, end] covered by the union of the trades' open intervals (overlaps once)."""
    span = (end - start).total_seconds()
    if span <= 0 or trades.empty:
        return 0.0
    intervals = sorted(
        (max(o, start), min(c, end)) for o, c in zip(trades["opened_at"], trades["closed_at"]) if c > start and o < end)
    covered = 0.0
    cur_s = cur_e = None
    for s, e in intervals:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                covered += (cur_e - cur_s).total_seconds()
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        covered += (cur_e - cur_s).total_seconds()
    return covered / span


def trade_stats(trades: pd.DataFrame, start: pd.Timestamp | None = None,
                end: pd.Timestamp | None = None) -> TradeStats:
    """Win rate (wins / trades, breakeven is not a win), profit factor (gross profit / |gross loss|,
    inf when there are wins and no losses), exposure time over [start, end] (default: first open to last
    close)."""
    n = len(trades)
    if n == 0:
        return TradeStats(0, 0, 0, float("nan"), 0.0, 0.0, float("nan"), 0.0, float("nan"), 0.0)
    net = net_profit_column(trades)
    wins = int((net > 0).sum())
    losses = int((net < 0).sum())
    gp = float(net[net > 0].sum())
    gl = float(-net[net < 0].sum())
    pf = gp / gl if gl > 0 else (float("inf") if gp > 0 else float("nan"))
    start = start if start is not None else trades["opened_at"].min()
    end = end if end is not None else trades["closed_at"].max()
    return TradeStats(trades=n, wins=wins, losses=losses, win_rate=wins / n, gross_profit=gp, gross_loss=gl,
                      profit_factor=pf, net_profit=float(net.sum()), avg_trade=float(net.mean()),
                      exposure_time=exposure_time(trades, start, end))


def trade_stats_by(trades: pd.DataFrame, key: str, start: pd.Timestamp | None = None,
                   end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Trade statistics per value of `key` ('strategy', 'symbol', 'account_id'), one row each."""
    if trades.empty:
        return pd.DataFrame(columns=[key, *TradeStats.__dataclass_fields__])
    start = start if start is not None else trades["opened_at"].min()
    end = end if end is not None else trades["closed_at"].max()
    rows = [{key: k, **trade_stats(g, start, end).as_dict()} for k, g in trades.groupby(key, sort=True)]
    return pd.DataFrame(rows)
