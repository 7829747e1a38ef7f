from __future__ import annotations

from datetime import UTC, datetime

import pytest

from multiaccount.risk.calendar import (
    active_hours_open,
    fx_market_open,
    news_blackout,
    next_rollover,
    session_open,
    trading_day_start,
)


@pytest.mark.parametrize(("now", "start"), [
    # winter (EST, UTC-5): rollover 22:00 UTC
    (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), datetime(2026, 11, 30, 22, 0, tzinfo=UTC)),
    (datetime(2026, 12, 1, 22, 0, tzinfo=UTC), datetime(2026, 12, 1, 22, 0, tzinfo=UTC)),
    # summer (EDT, UTC-4): rollover 21:00 UTC
    (datetime(2026, 7, 1, 20, 59, tzinfo=UTC), datetime(2026, 6, 30, 21, 0, tzinfo=UTC)),
    (datetime(2026, 7, 1, 21, 0, tzinfo=UTC), datetime(2026, 7, 1, 21, 0, tzinfo=UTC)),
])
def test_trading_day_start_when_dst_or_not_then_17_new_york(now, start):
    assert trading_day_start(now) == start


def test_next_rollover_when_new_york_switches_to_winter_time_then_shifts_one_hour_in_utc():
    # US DST ends Sunday 2026-11-01; Friday 30 Oct rollover at 21:00 UTC, Monday 2 Nov at 22:00 UTC
    assert next_rollover(datetime(2026, 10, 30, 12, tzinfo=UTC)) == datetime(2026, 10, 30, 21, tzinfo=UTC)
    assert next_rollover(datetime(2026, 11, 2, 12, tzinfo=UTC)) == datetime(2026, 11, 2, 22, tzinfo=UTC)


@pytest.mark.parametrize(("now", "open_"), [
    # London killzone 07:00-10:00 Europe/London. UK DST ends Sunday 2026-10-25.
    (datetime(2026, 10, 23, 6, 30, tzinfo=UTC), True),    # Friday before: BST, 07:30 London
    (datetime(2026, 10, 23, 9, 30, tzinfo=UTC), False),   # 10:30 London
    (datetime(2026, 10, 26, 6, 30, tzinfo=UTC), False),   # Monday after: GMT, 06:30 London
    (datetime(2026, 10, 26, 9, 30, tzinfo=UTC), True),    # 09:30 London
    # UK DST starts Sunday 2026-03-29
    (datetime(2026, 3, 27, 6, 30, tzinfo=UTC), False),    # Friday before: GMT
    (datetime(2026, 3, 30, 6, 30, tzinfo=UTC), True),     # Monday after: BST 07:30
])
def test_london_killzone_when_around_last_sunday_of_october_and_march_then_follows_uk_dst(seed_firm, now, open_):
    assert session_open(seed_firm.sessions, "london_killzone", now) is open_


def test_fx_market_when_weekend_then_closed_and_sunday_evening_new_york_then_open(seed_firm):
    s = seed_firm.sessions
    assert fx_market_open(datetime(2026, 12, 4, 21, 59, tzinfo=UTC), s)      # Fri 16:59 NY
    assert not fx_market_open(datetime(2026, 12, 4, 22, 0, tzinfo=UTC), s)   # Fri 17:00 NY
    assert not fx_market_open(datetime(2026, 12, 5, 12, 0, tzinfo=UTC), s)   # Saturday
    assert not fx_market_open(datetime(2026, 12, 6, 21, 59, tzinfo=UTC), s)  # Sun 16:59 NY
    assert fx_market_open(datetime(2026, 12, 6, 22, 0, tzinfo=UTC), s)       # Sun 17:00 NY


def test_fx_market_when_christmas_trading_day_then_closed(seed_firm):
    # trading day 2026-12-25 runs from Thu 24 Dec 17:00 NY to Fri 25 Dec 17:00 NY
    assert not fx_market_open(datetime(2026, 12, 25, 10, tzinfo=UTC), seed_firm.sessions)
    assert fx_market_open(datetime(2026, 12, 24, 15, tzinfo=UTC), seed_firm.sessions)


def test_active_hours_when_group_window_in_london_then_dst_correct(seed_firm):
    hf = seed_firm.group_limits("high_frequency")
    assert active_hours_open(hf, datetime(2026, 7, 1, 7, 30, tzinfo=UTC))       # 08:30 BST
    assert not active_hours_open(hf, datetime(2026, 12, 1, 7, 30, tzinfo=UTC))  # 07:30 GMT
    assert active_hours_open(seed_firm.group_limits("swing_trading"), datetime(2026, 12, 1, 3, tzinfo=UTC))


def test_news_blackout_when_nfp_window_then_usd_pairs_blocked_and_others_not(seed_firm):
    at = datetime(2026, 12, 4, 13, 20, tzinfo=UTC)
    assert news_blackout(seed_firm.symbol("EURUSD"), seed_firm.news, at).title == "Non-Farm Payrolls"
    assert news_blackout(seed_firm.symbol("EURGBP"), seed_firm.news, at) is None
    assert news_blackout(seed_firm.symbol("EURUSD"), seed_firm.news, datetime(2026, 12, 4, 13, 46, tzinfo=UTC)) is None
