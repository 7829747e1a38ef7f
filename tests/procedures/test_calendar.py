"""Trading-day schedules: DST in each zone, weekends, holidays, first trading day of the month."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from multiaccount.procedures.calendar import (
    END_OF_DAY_AT,
    STARTUP_AT,
    DailySchedule,
    Rule,
    TradingCalendar,
    load_holidays,
    trading_day_of,
)

CAL = TradingCalendar.of(["2026-12-25", "2027-01-01"])


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_startup_when_london_clocks_go_forward_then_utc_time_moves_an_hour_earlier():
    s = DailySchedule(*STARTUP_AT, calendar=CAL)
    # Europe/London springs forward on Sunday 2026-03-29.
    assert s.firings(utc(2026, 3, 26, 12), 3) == [utc(2026, 3, 27, 6, 30), utc(2026, 3, 30, 5, 30),
                                                  utc(2026, 3, 31, 5, 30)]


def test_end_of_day_when_new_york_dst_ends_before_london_then_each_zone_keeps_its_wall_clock():
    eod = DailySchedule(*END_OF_DAY_AT, calendar=CAL)
    start = DailySchedule(*STARTUP_AT, calendar=CAL)
    # New York falls back 2026-11-01, London already did on 2026-10-25.
    assert eod.firings(utc(2026, 10, 29, 23), 2) == [utc(2026, 10, 30, 21), utc(2026, 11, 2, 22)]
    assert start.next_after(utc(2026, 10, 30, 7)) == utc(2026, 11, 2, 6, 30)


@pytest.mark.parametrize("after, expected", [
    (utc(2026, 12, 4, 7), utc(2026, 12, 7, 6, 30)),      # Friday after startup -> Monday (weekend skipped)
    (utc(2026, 12, 24, 7), utc(2026, 12, 28, 6, 30)),    # Christmas holiday + weekend skipped
    (utc(2026, 12, 31, 7), utc(2027, 1, 4, 6, 30)),      # New Year holiday + weekend skipped
])
def test_next_startup_when_weekend_or_holiday_follows_then_it_is_skipped(after, expected):
    assert DailySchedule(*STARTUP_AT, calendar=CAL).next_after(after) == expected


@pytest.mark.parametrize("day, first", [
    (date(2027, 1, 4), True),   # Jan 1 holiday, 2-3 weekend
    (date(2027, 1, 1), False),
    (date(2026, 8, 3), True),   # Aug 1-2 weekend
    (date(2026, 12, 1), True),
    (date(2026, 12, 2), False),
])
def test_first_trading_day_of_month_when_checked_then_weekends_and_holidays_shift_it(day, first):
    assert CAL.is_first_trading_day_of_month(day) is first


def test_monthly_schedule_when_iterated_then_fires_once_per_month_on_first_trading_day():
    s = DailySchedule(time(7), "Europe/London", Rule.FIRST_TRADING_DAY_OF_MONTH, CAL)
    fired = s.firings(utc(2026, 11, 15), 3)
    assert [f.date() for f in fired] == [date(2026, 12, 1), date(2027, 1, 4), date(2027, 2, 1)]


def test_trading_day_of_when_eod_fires_then_it_is_the_new_york_date():
    assert trading_day_of(utc(2026, 12, 1, 22), "America/New_York") == date(2026, 12, 1)
    assert trading_day_of(utc(2026, 12, 1, 22), "Asia/Tokyo") == date(2026, 12, 2)


def test_load_holidays_when_seed_config_then_reads_sessions_json():
    assert load_holidays() == ("2026-12-25", "2027-01-01")
