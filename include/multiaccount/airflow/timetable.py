"""`TradingDayTimetable`: the Airflow adapter over `calendar.DailySchedule`.

This module (in the Airflow seam `multiaccount.airflow`) lives in the
installed package so the scheduler, the DAG processor, the workers and the tests all resolve the
same qualified name `multiaccount.airflow.timetable.TradingDayTimetable` that the plugin
in `plugins/multiaccount_plugin.py` registers (a class defined in the plugins folder gets a
different module name per process, and serialization would not find it). Nothing else in
`multiaccount` imports this module; only `dags/`, `plugins/` and tests do.

Runs are trigger-style: a run's logical date is the firing instant itself (data interval of zero
length), so `trading_day_of(logical_date, tz)` is the day the procedure works on.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from airflow._shared.timezones.timezone import coerce_datetime, utcnow
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable

from multiaccount.procedures.calendar import DailySchedule, Rule, TradingCalendar


class TradingDayTimetable(Timetable):
    """Fire at a local wall-clock time on FX trading days (or the month's first), skipping holidays."""

    def __init__(self, at: str = "06:30", timezone: str = "Europe/London", rule: str = Rule.TRADING_DAY.value,
                 holidays: tuple[str, ...] | list[str] = ()):
        self.at = at
        self.timezone = timezone
        self.rule = Rule(rule)
        self.holidays = tuple(sorted(holidays))
        self.schedule = DailySchedule(time.fromisoformat(at), timezone, self.rule, TradingCalendar.of(self.holidays))
        self.description = self.schedule.describe()

    # -------------------------------------------------------------- serialization
    def serialize(self) -> dict[str, Any]:
        return {"at": self.at, "timezone": self.timezone, "rule": self.rule.value, "holidays": list(self.holidays)}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> TradingDayTimetable:
        return cls(data["at"], data["timezone"], data["rule"], tuple(data.get("holidays", ())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TradingDayTimetable) and self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(tuple(self.serialize().items().__repr__()))

    @property
    def summary(self) -> str:
        return f"{self.at} {self.timezone} ({self.rule.value})"

    def validate(self) -> None:
        self.schedule.next_after(utcnow())  # raises when the rule can never fire

    # -------------------------------------------------------------- scheduling
    def infer_manual_data_interval(self, *, run_after) -> DataInterval:
        """A manual run works on the instant it was triggered for (reruns pass the same date)."""
        return DataInterval.exact(coerce_datetime(run_after))

    def next_dagrun_info(self, *, last_automated_data_interval: DataInterval | None,
                         restriction: TimeRestriction) -> DagRunInfo | None:
        """Next firing; without catchup, the latest missed firing runs once (like cron triggers)."""
        if restriction.catchup:
            if last_automated_data_interval is not None:
                nxt = self.schedule.next_after(last_automated_data_interval.end)
            elif restriction.earliest is not None:
                nxt = self.schedule.next_after(restriction.earliest, inclusive=True)
            else:
                nxt = self.schedule.next_after(utcnow())
        else:
            now = utcnow()
            candidates = [self.schedule.latest_on_or_before(now) or self.schedule.next_after(now)]
            if last_automated_data_interval is not None:
                candidates.append(self.schedule.next_after(last_automated_data_interval.end))
            if restriction.earliest is not None:
                candidates.append(self.schedule.next_after(restriction.earliest, inclusive=True))
            nxt = max(candidates)
        if restriction.latest is not None and nxt > restriction.latest:
            return None
        return DagRunInfo.exact(coerce_datetime(nxt))
