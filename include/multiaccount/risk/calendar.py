"""Time boundaries risk depends on, each in its own time zone and DST-correct.

- The trading day starts at the FX rollover, 17:00 New York (`trading_day_start`), and is labelled
  by the date on which it ends (the FX convention: Monday's day starts Sunday 17:00 New York).
- The FX week runs Sunday 17:00 to Friday 17:00 New York (`sessions.json` fx_week); holidays close
  the trading day carrying that label.
- Killzones/sessions and group active hours are windows in their own zones (London, New York).
- News blackouts: `window_before/after_minutes` around high-impact events of a symbol's currencies.
All functions take `now` (aware) so a `ManualClock` drives them in tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from multiaccount.config.models import (
    GroupLimits,
    NewsCalendar,
    NewsEvent,
    SessionsConfig,
    SymbolSpec,
    TimeWindow,
    parse_windows,
)

NEW_YORK = ZoneInfo("America/New_York")
ROLLOVER = time(17, 0)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("naive datetime: risk time maths needs timezone-aware instants")
    return now


def trading_day_start(now: datetime, tz: ZoneInfo = NEW_YORK, rollover: time = ROLLOVER) -> datetime:
    """The most recent rollover (17:00 New York) at or before `now`, in UTC."""
    local = _aware(now).astimezone(tz)
    start = datetime.combine(local.date(), rollover, tzinfo=tz)
    if local < start:
        start = datetime.combine(local.date() - timedelta(days=1), rollover, tzinfo=tz)
    return start.astimezone(UTC)


def next_rollover(now: datetime, tz: ZoneInfo = NEW_YORK, rollover: time = ROLLOVER) -> datetime:
    """The first rollover strictly after `now` (when a daily-loss halt ends), in UTC."""
    local = _aware(now).astimezone(tz)
    nxt = datetime.combine(local.date(), rollover, tzinfo=tz)
    if local >= nxt:
        nxt = datetime.combine(local.date() + timedelta(days=1), rollover, tzinfo=tz)
    return nxt.astimezone(UTC)


def trading_date(now: datetime) -> date:
    """Label of the trading day containing `now`: the New York date of its closing rollover."""
    return next_rollover(now).astimezone(NEW_YORK).date()


@lru_cache(maxsize=64)
def _weekday_time(text: str) -> tuple[int, time]:
    day, _, hhmm = text.strip().partition(" ")
    h, m = (int(x) for x in hhmm.split(":"))
    return _WEEKDAYS.index(day.lower()), time(h, m)


def fx_market_open(now: datetime, sessions: SessionsConfig) -> bool:
    """Inside the FX week (Sunday 17:00 - Friday 17:00 New York by default) and not a holiday."""
    tz = ZoneInfo(sessions.fx_week.timezone)
    local = _aware(now).astimezone(tz)
    open_day, open_t = _weekday_time(sessions.fx_week.open)
    close_day, close_t = _weekday_time(sessions.fx_week.close)
    minute_of_week = local.weekday() * 1440 + local.hour * 60 + local.minute
    open_m = open_day * 1440 + open_t.hour * 60 + open_t.minute
    close_m = close_day * 1440 + close_t.hour * 60 + close_t.minute
    in_week = (open_m <= minute_of_week or minute_of_week < close_m) if open_m > close_m else (
        open_m <= minute_of_week < close_m)
    if not in_week:
        return False
    return trading_date(now).isoformat() not in sessions.holidays


def window_open(windows: Iterable[TimeWindow], tz_name: str, now: datetime) -> bool:
    local = _aware(now).astimezone(ZoneInfo(tz_name)).time()
    return any(w.contains(local) for w in windows)


@lru_cache(maxsize=256)
def _parsed(windows: tuple[str, ...]) -> tuple[TimeWindow, ...]:
    return tuple(parse_windows(list(windows)))


def session_open(sessions: SessionsConfig, name: str, now: datetime) -> bool:
    """Is the named session/killzone open at `now` in its own zone?"""
    s = sessions.sessions.get(name)
    if s is None:
        return False
    return window_open(_parsed(tuple(s.windows)), s.timezone, now)


def any_session_open(sessions: SessionsConfig, names: Iterable[str], now: datetime) -> bool:
    return any(session_open(sessions, n, now) for n in names)


def active_hours_open(limits: GroupLimits, now: datetime) -> bool:
    """A group without `active_hours` is always active; otherwise its windows in its own zone."""
    if not limits.active_hours:
        return True
    return window_open(_parsed(tuple(limits.active_hours)), limits.active_hours_timezone, now)


def news_blackout(spec: SymbolSpec, news: NewsCalendar, now: datetime,
                  impact: frozenset[str] = frozenset({"high"})) -> NewsEvent | None:
    """The first high-impact event of the symbol's base or quote currency whose window holds `now`."""
    before = timedelta(minutes=news.window_before_minutes)
    after = timedelta(minutes=news.window_after_minutes)
    for ev in news.events:
        if ev.impact in impact and ev.currency in (spec.base, spec.quote) and \
                ev.time - before <= now <= ev.time + after:
            return ev
    return None
