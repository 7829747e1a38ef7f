"""A month of history for the demo's monthly review, produced by the system itself.

`generate_month` runs the fleet simulation over the month's trading days at coarse steps and only
during the sessions' hours: signals are routed by the router, orders land in the ledger, the
simulated terminals fill them and book commission and swap, the monitor halts what breaches, the
end-of-day lifecycle closes keep the intraday group flat overnight, the recorder stores snapshots
(a closing valuation per day), positions and deals, and each day's performance is computed from
them once the month has run. Daily reports, backups and startup checks are not produced for the
history (the demo runs those procedures for its own day). Nothing is invented: every number the
review shows is a product of that run.

It ends with every account flat and leaves the simulated balances where the month ends, so the demo
continues from there. Scopes the month left HALTED are resumed (audited, actor
`procedure:history`, baseline rebased) unless `resume_halted=False`: the demo starts its day from
a clean trading state, while the review still lists every halt of the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from multiaccount.config import FirmConfig
from multiaccount.domain import ManualClock, Scope, TradingState
from multiaccount.procedures.calendar import STARTUP_AT, TradingCalendar
from multiaccount.simulation.driver import HISTORY_EOD_STEPS, SimulationOptions, simulate
from multiaccount.simulation.report import SimulationReport

HISTORY_ACTOR = "procedure:history"


@dataclass(frozen=True)
class MonthHistory:
    report: SimulationReport
    trading_days: tuple[date, ...]
    start: datetime
    end: datetime
    resumed: tuple[str, ...]


def trading_days_from(firm: FirmConfig, first: date, count: int) -> list[date]:
    """`count` trading days (Mon-Fri, not a holiday) from `first` on."""
    cal = TradingCalendar.of(firm.sessions.holidays)
    out, d = [], first
    while len(out) < count:
        if cal.is_trading_day(d):
            out.append(d)
        d += timedelta(days=1)
    return out


def _start_of(day: date) -> datetime:
    """Half an hour before that day's 06:30 London startup, in UTC."""
    at, tz = STARTUP_AT
    from zoneinfo import ZoneInfo

    return (datetime.combine(day, at, tzinfo=ZoneInfo(tz)) - timedelta(minutes=30)).astimezone(UTC)


def generate_month(firm: FirmConfig, store: Any, month_start: date, trading_days: int | None = None, seed: int = 7,
                   *, step: timedelta = timedelta(minutes=15), quiet_step: timedelta | None = timedelta(hours=1),
                   resume_halted: bool = True, signals_per_symbol_per_hour: float = 0.5) -> MonthHistory:
    """Simulate `trading_days` (default: every trading day of the month) from `month_start`: `step` while a
    killzone is open, `quiet_step` while only the sessions are (swing and research trade there)."""
    if trading_days is None:
        first = month_start.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        trading_days = len([d for d in trading_days_from(firm, month_start, 31) if d < nxt])
    days = trading_days_from(firm, month_start, trading_days)
    start = _start_of(days[0])
    options = SimulationOptions(start=start, days=len(days), step=step, quiet_step=quiet_step, idle_step=step,
                                sessions_only=True,
                                seed=seed, market_seed=None, record_every=timedelta(hours=1),
                                signals_per_symbol_per_hour=signals_per_symbol_per_hour, flatten_at_end=True,
                                signal_prefix="hist", memory_every_steps=20, startup=False,
                                eod_steps=HISTORY_EOD_STEPS)
    report = simulate(firm, store, options)
    end = datetime.fromisoformat(report.end)
    record_daily_performance(firm, store, days)
    resumed = _resume_halted(firm, store, end) if resume_halted else ()
    return MonthHistory(report, tuple(days), start, end, resumed)


def record_daily_performance(firm: FirmConfig, store: Any, days: list[date] | tuple[date, ...]) -> int:
    """Each trading day's performance (account, group, firm rows in `store.performance`), from the
    snapshots and cash flows the run recorded, with the frames read once for the whole month.

    Why not end_of_day's `calculate_daily_performance` every simulated evening: it re-reads 90 days of
    history (orders, signals, positions) per call, which grew to most of a month's run time. The
    tables and the rows written are the same functions and fields."""
    from multiaccount.performance.returns import day_bounds
    from multiaccount.performance.sources import load_frames, trading_states
    from multiaccount.performance.summary import account_table, group_table, portfolio_summary

    if not days:
        return 0
    since = day_bounds(days[0])[0] - timedelta(days=7)
    frames = load_frames(store, firm, since=since.to_pydatetime(), until=day_bounds(days[-1])[1].to_pydatetime())
    snaps, flows, states = frames["snapshots"], frames["flows"], trading_states(store)
    rows = 0
    with store.session():
        for day in days:
            table = account_table(firm, snaps, flows, day, states)
            summary = portfolio_summary(firm, snaps, flows, day, states, table)
            groups = group_table(firm, table, snaps, flows, day)
            for row in table.itertuples():
                store.performance.upsert_daily(day, Scope.account(row.account_id), end_equity=row.equity,
                                               pnl=row.daily_pnl, return_pct=row.daily_return, drawdown=row.drawdown)
            for g in groups.itertuples():
                store.performance.upsert_daily(day, Scope.group(g.group_name), end_equity=g.total_equity,
                                               pnl=g.total_pnl, return_pct=g.avg_return)
            store.performance.upsert_daily(day, Scope.firm(), end_equity=summary.total_equity, pnl=summary.daily_pnl,
                                           return_pct=summary.daily_return, drawdown=summary.current_drawdown)
            rows += len(table) + len(groups) + 1
    return rows


def _resume_halted(firm: FirmConfig, store: Any, at: datetime) -> tuple[str, ...]:
    """Explicitly resume every scope the month left HALTED (audited; the risk baseline is rebased)."""
    from multiaccount.domain.ports import RecordingEventSink
    from multiaccount.realtime.baseline import BaselineKeeper
    from multiaccount.risk import TradingStateService

    states = TradingStateService(store.trading_states, RecordingEventSink(), ManualClock(at), group_of=firm.group_of)
    baseline = BaselineKeeper(firm, store.kv)
    states.on_resume(baseline.rebase)
    out = []
    for rec in store.trading_states.all():
        if rec.state is not TradingState.ACTIVE:
            states.resume(rec.scope, HISTORY_ACTOR, "history generation ended; the demo day starts ACTIVE")
            out.append(str(rec.scope))
    return tuple(out)
