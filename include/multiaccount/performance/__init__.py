"""Performance analytics: time-weighted returns, risk-adjusted metrics, trade statistics, costs.

Everything here is pure: functions over pandas frames and frozen dataclasses, no store, no broker.
The store-facing glue that builds these frames lives in `multiaccount.performance.sources`.

Frame contracts (column names; extra columns are ignored):
- snapshots: `at` (UTC-aware), `account_id`, `balance`, `equity`, optional `margin`.
- flows: `at`, `account_id`, `amount` (+ money in: deposit or transfer in; - money out).
- trades (closed round trips): `account_id`, `symbol`, `strategy`, `opened_at`, `closed_at`,
  `profit`, optional `commission`, `swap` (MT5 signs: costs negative).
- fills (one per executed order, for costs): `account_id`, `broker`, `symbol`, `side` ('buy'/'sell'),
  `volume`, `requested_price`, `price`, optional `spread` (price units at fill), `contract_size`,
  `quote_to_account` (price-currency -> account currency), `commission`, `swap`, `signal_id`, `profit`.
"""

from multiaccount.performance.metrics import (
    ReturnMetrics,
    TradeStats,
    annual_return,
    annual_volatility,
    calmar_ratio,
    downside_risk,
    drawdown_series,
    max_drawdown,
    return_metrics,
    sharpe_ratio,
    sortino_ratio,
    trade_stats,
    trade_stats_by,
)
from multiaccount.performance.returns import (
    aggregate_equity,
    daily_returns,
    subperiod_returns,
    trading_day,
)
from multiaccount.performance.summary import (
    GroupPerformance,
    PortfolioSummary,
    account_table,
    group_performance,
    portfolio_summary,
)

__all__ = [
    "GroupPerformance", "PortfolioSummary", "ReturnMetrics", "TradeStats", "account_table", "aggregate_equity",
    "annual_return", "annual_volatility", "calmar_ratio", "daily_returns", "downside_risk", "drawdown_series",
    "group_performance", "max_drawdown", "portfolio_summary", "return_metrics", "sharpe_ratio", "sortino_ratio",
    "subperiod_returns", "trade_stats", "trade_stats_by", "trading_day",
]
