"""A month of history for the demo's monthly review, produced by the system itself.

`generate_month` runs the fleet simulation over the month's trading days at coarse steps and only
during the sessions' hours: signals are routed by the router, orders land in the ledger, the
simulated terminals fill them and book commission and swap, the monitor halts what breaches, the
procedures write daily performance and reports, and the recorder stores snapshots, positions and
deals. Nothing is invented: every number the review shows is a product of that run.

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
from multiaccount.domain import ManualClock, TradingState
from multiaccount.procedures.calendar import STARTUP_AT, TradingCalendar
from multiaccount.simulation.driver import SimulationOptions, simulate
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
                   *, step: timedelta = timedelta(minutes=15), resume_halted: bool = True,
                   signals_per_symbol_per_hour: float = 0.5) -> MonthHistory:
    """Simulate `trading_days` (default: every trading day of the month) from `month_start`."""
    if trading_days is None:
        first = month_start.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        trading_days = len([d for d in trading_days_from(firm, month_start, 31) if d < nxt])
    days = trading_days_from(firm, month_start, trading_days)
    start = _start_of(days[0])
    options = SimulationOptions(start=start, days=len(days), step=step, idle_step=step, sessions_only=True,
                                seed=seed, market_seed=None, record_every=2 * step,
                                signals_per_symbol_per_hour=signals_per_symbol_per_hour, flatten_at_end=True,
                                signal_prefix="hist", memory_every_steps=20)
    report = simulate(firm, store, options)
    end = datetime.fromisoformat(report.end)
    resumed = _resume_halted(firm, store, end) if resume_halted else ()
    return MonthHistory(report, tuple(days), start, end, resumed)


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
