"""The Airflow timetable: next run times across a DST change and a weekend; serialization round trip."""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.timetables.base import DataInterval, TimeRestriction

from multiaccount.airflow.timetable import TradingDayTimetable


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_next_dagrun_when_friday_before_london_dst_then_monday_is_an_hour_earlier_in_utc():
    tt = TradingDayTimetable("06:30", "Europe/London", "trading_day", ("2026-12-25",))
    last = DataInterval(utc(2026, 3, 27, 6, 30), utc(2026, 3, 27, 6, 30))
    info = tt.next_dagrun_info(last_automated_data_interval=last,
                               restriction=TimeRestriction(utc(2026, 1, 1), None, catchup=True))
    assert info.run_after == utc(2026, 3, 30, 5, 30)
    assert info.logical_date == utc(2026, 3, 30, 5, 30)


def test_next_dagrun_when_first_run_then_starts_at_first_firing_on_or_after_start_date():
    tt = TradingDayTimetable("17:00", "America/New_York")
    info = tt.next_dagrun_info(last_automated_data_interval=None,
                               restriction=TimeRestriction(utc(2026, 3, 7), None, catchup=True))  # Saturday
    assert info.run_after == utc(2026, 3, 9, 21)  # Monday, New York already on EDT (switched 03-08)


def test_next_dagrun_when_past_end_date_then_none():
    tt = TradingDayTimetable()
    last = DataInterval(utc(2026, 12, 4, 6, 30), utc(2026, 12, 4, 6, 30))
    assert tt.next_dagrun_info(last_automated_data_interval=last,
                               restriction=TimeRestriction(utc(2026, 1, 1), utc(2026, 12, 6), True)) is None


def test_serialize_when_round_tripped_then_equal_and_registered_in_plugin():
    from airflow import plugins_manager

    tt = TradingDayTimetable("07:00", "Europe/London", "first_trading_day_of_month", ("2027-01-01",))
    assert TradingDayTimetable.deserialize(tt.serialize()) == tt
    registered = plugins_manager.get_timetables_plugins()
    assert registered["multiaccount.airflow.timetable.TradingDayTimetable"] is TradingDayTimetable
