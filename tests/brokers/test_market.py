"""The simulated market: determinism, correlation, market hours (DST), news spreads, scripted jumps."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from multiaccount.brokers.simulated.market import Market, PriceJump, is_market_open, last_close, rollovers_between

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def market(seed_firm):
    return Market(seed_firm.symbols, seed_firm.news, seed=7)


def test_quote_when_two_markets_share_a_seed_then_prices_are_identical(seed_firm, market):
    other = Market(seed_firm.symbols, seed_firm.news, seed=7)
    for minutes in (0, 17, 1440 * 3 + 5):
        t = T0 + timedelta(minutes=minutes, seconds=13)
        assert other.quote("GBPJPY", t) == market.quote("GBPJPY", t)


def test_quote_when_seed_differs_then_prices_differ(seed_firm, market):
    other = Market(seed_firm.symbols, seed_firm.news, seed=8)
    assert other.mid("EURUSD", T0 + timedelta(days=2)) != market.mid("EURUSD", T0 + timedelta(days=2))


def test_mid_when_at_anchor_then_equals_reference_price(seed_firm, market):
    assert market.mid("EURUSD", datetime(2026, 12, 1, tzinfo=UTC)) == pytest.approx(
        seed_firm.symbols.reference_prices["EURUSD"], rel=1e-12)


def test_returns_when_sampled_daily_then_usd_pairs_correlate_and_vols_match_config(seed_firm, market):
    names = ["EURUSD", "GBPUSD", "USDJPY"]
    logs = np.array([[math.log(market.mid(s, T0 + timedelta(days=d))) for s in names] for d in range(300)])
    r = np.diff(logs, axis=0)
    corr = np.corrcoef(r.T)
    assert corr[0, 1] > 0.4  # EUR and GBP share the USD factor
    assert corr[0, 2] < -0.4  # USDJPY has USD on the other side
    vols = r.std(axis=0) * math.sqrt(365.25)
    for name, vol in zip(names, vols):
        assert vol == pytest.approx(seed_firm.symbols.symbols[name].annual_volatility, rel=0.25)


@pytest.mark.parametrize(("utc", "open_"), [
    (datetime(2026, 12, 4, 21, 59, tzinfo=UTC), True),   # Friday 16:59 New York (EST)
    (datetime(2026, 12, 4, 22, 0, tzinfo=UTC), False),   # Friday 17:00 New York
    (datetime(2026, 12, 5, 12, 0, tzinfo=UTC), False),   # Saturday
    (datetime(2026, 12, 6, 21, 59, tzinfo=UTC), False),  # Sunday 16:59 EST
    (datetime(2026, 12, 6, 22, 0, tzinfo=UTC), True),    # Sunday 17:00 EST
    (datetime(2026, 7, 5, 21, 0, tzinfo=UTC), True),     # Sunday 17:00 EDT (summer: an hour earlier in UTC)
    (datetime(2026, 7, 5, 20, 59, tzinfo=UTC), False),
    (datetime(2026, 7, 3, 21, 0, tzinfo=UTC), False),    # Friday 17:00 EDT
])
def test_is_market_open_when_around_the_fx_week_edges_then_dst_correct(utc, open_):
    assert is_market_open(utc) is open_


def test_quote_when_weekend_then_frozen_at_friday_close_and_marked_closed(market):
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    friday_close = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
    q = market.quote("EURUSD", saturday)
    assert not q.open
    assert q.time == friday_close == last_close(saturday)
    assert market.mid("EURUSD", saturday) == market.mid("EURUSD", friday_close - timedelta(microseconds=0))
    assert market.mid("EURUSD", datetime(2026, 12, 6, 21, 0, tzinfo=UTC)) == market.mid("EURUSD", saturday)


def test_spread_when_high_impact_news_on_a_currency_then_widens_for_its_pairs_only(market):
    nfp = datetime(2026, 12, 4, 13, 30, tzinfo=UTC)
    calm = market.quote("EURUSD", nfp - timedelta(hours=2))
    news = market.quote("EURUSD", nfp + timedelta(minutes=5))
    cross = market.quote("EURGBP", nfp + timedelta(minutes=5))
    assert news.ask - news.bid == pytest.approx(4 * (calm.ask - calm.bid), abs=2e-5)
    assert market.spread_multiplier("EURGBP", nfp) == 1.0
    assert cross.ask > cross.bid


def test_mid_when_a_five_sigma_jump_is_scripted_then_price_moves_by_five_daily_sigmas(seed_firm):
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    base = Market(seed_firm.symbols, seed=7)
    shocked = Market(seed_firm.symbols, seed=7, jumps=(PriceJump("EURUSD", at, -5.0),))
    sigma = seed_firm.symbols.symbols["EURUSD"].annual_volatility / math.sqrt(252)
    after = at + timedelta(minutes=1)
    assert math.log(shocked.mid("EURUSD", after) / base.mid("EURUSD", after)) == pytest.approx(-5 * sigma)
    assert shocked.mid("EURUSD", at - timedelta(seconds=1)) == base.mid("EURUSD", at - timedelta(seconds=1))
    assert shocked.mid("GBPUSD", after) == base.mid("GBPUSD", after)


def test_rollovers_between_when_spanning_a_week_then_five_weekday_instants_at_17_new_york():
    rolls = rollovers_between(datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 12, 6, 23, tzinfo=UTC))
    assert [r.weekday() for r in rolls] == [0, 1, 2, 3, 4]
    assert all(r.hour == 22 for r in rolls)  # 17:00 EST


def test_day_paths_when_many_threads_ask_for_many_days_then_no_error_and_same_prices(seed_firm):
    """One Market is shared by a thread pool's terminals; its LRU of day paths is reordered and trimmed."""
    from concurrent.futures import ThreadPoolExecutor

    shared = Market(seed_firm.symbols, seed_firm.news, seed=7)
    times = [T0 + timedelta(days=d % 90, minutes=d) for d in range(600)]  # > the 64 kept paths: evictions

    def price(t: datetime) -> float:
        return shared._factors_at(t).sum()

    with ThreadPoolExecutor(8) as ex:
        got = list(ex.map(price, times))
    alone = Market(seed_firm.symbols, seed_firm.news, seed=7)
    assert got == [alone._factors_at(t).sum() for t in times]


def test_terminals_when_same_firm_and_seed_then_share_one_market_and_another_firm_gets_its_own(seed_firm):
    from multiaccount.brokers.simulated import SimulatedTerminal
    from multiaccount.config import load_firm

    a, b = SimulatedTerminal(seed_firm, seed=7), SimulatedTerminal(seed_firm, seed=7)
    assert a.market() is b.market()
    assert SimulatedTerminal(seed_firm, seed=8).market() is not a.market()
    assert SimulatedTerminal(load_firm(seed_firm.root), seed=7).market() is not a.market()
