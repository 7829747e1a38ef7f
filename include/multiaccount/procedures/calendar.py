"""Trading calendar and wall-clock schedules for the procedures: pure, no Airflow.

Why here and not in a cron string: the procedures run at wall-clock times in their own markets
(06:30 London, 17:00 New York) on FX trading days only, and cron in one zone cannot express
"17:00 New York" for a scheduler that also needs "06:30 London" across two different DST switch
dates, nor skip the firm's configured holidays. The Airflow timetable
(`multiaccount.airflow.timetable`) is a thin adapter over `DailySchedule`, so the
scheduler, the CLI and the tests compute the same instants.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

# Far enough to cross any run of holidays + weekends; a schedule that finds nothing raises.
_SEARCH_DAYS = 400


class Rule(StrEnum):
    """Which local dates a schedule fires on."""

    TRADING_DAY = "trading_day"  # Monday-Friday, not a configured holiday
    FIRST_TRADING_DAY_OF_MONTH = "first_trading_day_of_month"


@dataclass(frozen=True)
class TradingCalendar:
    """FX trading days: Monday to Friday (the FX week is Sunday 17:00 to Friday 17:00 New York,
    so every weekday has a full session) minus the firm's holidays from `config/sessions.json`."""

    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, holidays: Iterable[str | date]) -> TradingCalendar:
        return cls(frozenset(h if isinstance(h, date) else date.fromisoformat(h) for h in holidays))

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def is_first_trading_day_of_month(self, day: date) -> bool:
        if not self.is_trading_day(day):
            return False
        d = day.replace(day=1)
        while d < day:
            if self.is_trading_day(d):
                return False
            d += timedelta(days=1)
        return True

    def previous_trading_day(self, day: date) -> date:
        d = day - timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if self.is_trading_day(d):
                return d
            d -= timedelta(days=1)
        raise ValueError(f"no trading day within {_SEARCH_DAYS} days before {day}")

    def matches(self, day: date, rule: Rule) -> bool:
        if rule is Rule.FIRST_TRADING_DAY_OF_MONTH:
            return self.is_first_trading_day_of_month(day)
        return self.is_trading_day(day)


@dataclass(frozen=True)
class DailySchedule:
    """Fire at local wall-clock `at` in `timezone` on the dates `rule` selects (DST-correct)."""

    at: time
    timezone: str
    rule: Rule = Rule.TRADING_DAY
    calendar: TradingCalendar = field(default_factory=TradingCalendar)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def occurrence(self, day: date) -> datetime:
        """The UTC instant of `at` on local `day` (zoneinfo applies that day's UTC offset)."""
        return datetime.combine(day, self.at, tzinfo=self.zone).astimezone(UTC)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def next_after(self, instant: datetime, *, inclusive: bool = False) -> datetime:
        """First firing strictly after `instant` (or at it, when `inclusive`)."""
        day = self.local_date(instant) - timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if self.calendar.matches(day, self.rule):
                at = self.occurrence(day)
                if at > instant or (inclusive and at == instant):
                    return at
            day += timedelta(days=1)
        raise ValueError(f"{self.describe()}: no firing within {_SEARCH_DAYS} days after {instant}")

    def latest_on_or_before(self, instant: datetime) -> datetime | None:
        day = self.local_date(instant) + timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if self.calendar.matches(day, self.rule):
                at = self.occurrence(day)
                if at <= instant:
                    return at
            day -= timedelta(days=1)
        return None

    def firings(self, start: datetime, count: int) -> list[datetime]:
        out, t = [], start
        for _ in range(count):
            t = self.next_after(t)
            out.append(t)
        return out

    def describe(self) -> str:
        what = "first trading day of the month" if self.rule is Rule.FIRST_TRADING_DAY_OF_MONTH else "trading days"
        n = len(self.calendar.holidays)
        return f"{self.at:%H:%M} {self.timezone} on {what} (Mon-Fri, {n} holiday(s) skipped)"


def trading_day_of(logical_date: datetime, timezone: str) -> date:
    """The trading day a run works on: the local date of its logical date in the procedure's zone.

    Every procedure takes this date, never "today", so a rerun next week recomputes the same day.
    """
    if logical_date.tzinfo is None:
        raise ValueError("logical_date must be timezone-aware")
    return logical_date.astimezone(ZoneInfo(timezone)).date()


def load_holidays(config_dir: Path | str | None = None) -> tuple[str, ...]:
    """Holidays from `sessions.json` only: cheap enough for DAG parse time (no whole-firm load)."""
    from multiaccount.config import default_config_dir

    root = Path(config_dir) if config_dir is not None else default_config_dir()
    path = root / "sessions.json"
    if not path.exists():
        return ()
    raw = json.loads(path.read_text(encoding="utf-8"))
    return tuple(sorted(str(date.fromisoformat(h)) for h in raw.get("holidays", [])))


# The procedures' wall-clock times: one table, used by the DAGs, the CLI and the docs.
STARTUP_AT = (time(6, 30), "Europe/London")  # before the London open (07:00 killzone, 08:00 session)
END_OF_DAY_AT = (time(17, 0), "America/New_York")  # the FX rollover
MONTHLY_REVIEW_AT = (time(7, 0), "Europe/London")  # after startup, first trading day of the month
