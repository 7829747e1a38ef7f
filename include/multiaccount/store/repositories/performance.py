"""Daily and monthly performance rows per scope (`firm`, `group:<name>`, `account:<id>`), upserted so
a rerun of end-of-day or the monthly review replaces its row instead of adding one."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from multiaccount.domain import Scope
from multiaccount.store.models import DailyPerformanceRow, MonthlyPerformanceRow
from multiaccount.store.repositories.base import Repository, upsert, when

if TYPE_CHECKING:  # pandas is imported when a frame is asked for, not by every store user
    import pandas as pd

DAILY_FIELDS = {"start_equity", "end_equity", "pnl", "return_pct", "drawdown", "trades", "wins", "volume",
                "commission", "swap", "data"}
MONTHLY_FIELDS = {"start_equity", "end_equity", "pnl", "return_pct", "max_drawdown", "sharpe", "sortino",
                  "trades", "data"}
DAILY_DEFAULTS = {"pnl": 0.0, "trades": 0, "wins": 0, "volume": 0.0, "commission": 0.0, "swap": 0.0, "data": {}}
MONTHLY_DEFAULTS = {"pnl": 0.0, "trades": 0, "data": {}}


def _check(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown performance fields {sorted(unknown)}; allowed: {sorted(allowed)}")


def _month(value: str | date) -> str:
    text = value.strftime("%Y-%m") if isinstance(value, date) else value
    if len(text) != 7 or text[4] != "-":
        raise ValueError(f"month must be 'YYYY-MM', got {value!r}")
    return text


class PerformanceRepository(Repository):
    def upsert_daily(self, day: date, scope: Scope | str, **fields: Any) -> None:
        _check(fields, DAILY_FIELDS)
        values = {**DAILY_DEFAULTS, **fields, "day": day, "scope": str(scope), "updated_at": when(None)}
        with self._session() as s:
            upsert(s, DailyPerformanceRow.__table__, values, ["day", "scope"])

    def upsert_monthly(self, month: str | date, scope: Scope | str, **fields: Any) -> None:
        _check(fields, MONTHLY_FIELDS)
        values = {**MONTHLY_DEFAULTS, **fields, "month": _month(month), "scope": str(scope),
                  "updated_at": when(None)}
        with self._session() as s:
            upsert(s, MonthlyPerformanceRow.__table__, values, ["month", "scope"])

    def daily(self, scope: Scope | str | None = None, since: date | None = None,
              until: date | None = None) -> list[DailyPerformanceRow]:
        q = select(DailyPerformanceRow).order_by(DailyPerformanceRow.day, DailyPerformanceRow.scope)
        if scope is not None:
            q = q.where(DailyPerformanceRow.scope == str(scope))
        if since is not None:
            q = q.where(DailyPerformanceRow.day >= since)
        if until is not None:
            q = q.where(DailyPerformanceRow.day < until)
        with self._session() as s:
            return list(s.scalars(q))

    def daily_frame(self, scope: Scope | str | None = None, since: date | None = None,
                    until: date | None = None) -> pd.DataFrame:
        import pandas as pd

        cols = ["day", "scope", *sorted(DAILY_FIELDS - {"data"})]
        rows = self.daily(scope, since, until)
        return pd.DataFrame([[getattr(r, c) for c in cols] for r in rows], columns=cols)

    def monthly(self, scope: Scope | str | None = None, month: str | date | None = None
                ) -> list[MonthlyPerformanceRow]:
        q = select(MonthlyPerformanceRow).order_by(MonthlyPerformanceRow.month, MonthlyPerformanceRow.scope)
        if scope is not None:
            q = q.where(MonthlyPerformanceRow.scope == str(scope))
        if month is not None:
            q = q.where(MonthlyPerformanceRow.month == _month(month))
        with self._session() as s:
            return list(s.scalars(q))
