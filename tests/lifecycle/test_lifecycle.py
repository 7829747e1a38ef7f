"""Position lifecycle rules at their boundaries: DST, Friday close, trailing never backwards, partial close."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from multiaccount.domain import OrderOutcome, OrderStatus, Position, Side
from multiaccount.lifecycle import ActionKind, LifecycleApplier, plan_lifecycle, take_profit_from_ratio
from multiaccount.lifecycle.rules import DYNAMIC_STOP_ATR_MULTIPLE, TRAIL_THROTTLE
from multiaccount.risk.market import MarketData

TUE_0900 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def pos(account="EU_HF_001", symbol="EURUSD", side=Side.BUY, volume=1.0, open_=1.0850, sl=1.0800, tp=1.0950,
        opened=TUE_0900 - timedelta(hours=1), ticket=1) -> Position:
    return Position(account_id=account, ticket=ticket, symbol=symbol, side=side, volume=volume, price_open=open_,
                    sl=sl, tp=tp, price_current=open_, profit=0.0, opened_at=opened)


def market(firm, **quotes) -> MarketData:
    return MarketData.from_config(firm.symbols, {s: (b, b + 0.0001) for s, b in quotes.items()})


def test_plan_when_position_has_no_stop_then_dynamic_atr_stop_and_ratio_tp(seed_firm):
    m = market(seed_firm, EURUSD=1.0850)
    [a] = plan_lifecycle(seed_firm, {"EU_HF_001": [pos(sl=None, tp=None)]}, m, TUE_0900)
    assert a.kind is ActionKind.MODIFY and "MISSING_STOP" in a.reason and "MISSING_TP" in a.reason
    expected_sl = round(1.0850 - m.daily_range("EURUSD") * DYNAMIC_STOP_ATR_MULTIPLE, 5)
    assert a.sl == pytest.approx(expected_sl)
    assert a.tp == pytest.approx(round(take_profit_from_ratio(1.0850, expected_sl, Side.BUY, 2.0), 5))
    assert a.sl < 1.0850 < a.tp


def test_plan_when_fixed_stop_account_has_no_stop_then_fallback_multiple_used(seed_firm):
    m = market(seed_firm, GBPUSD=1.27)
    p = pos(account="SW_001", symbol="GBPUSD", side=Side.SELL, open_=1.27, sl=None, tp=None)
    [a] = plan_lifecycle(seed_firm, {"SW_001": [p]}, m, TUE_0900)
    multiple = seed_firm.master.risk_controls.fallback_stop_atr_multiple
    assert a.sl == pytest.approx(round(1.27 + m.daily_range("GBPUSD") * multiple, 5))
    assert a.tp < 1.27  # sell: take profit below entry


def test_plan_when_price_moves_in_favour_then_trailing_stop_tightens(seed_firm):
    p = pos(open_=1.0850, sl=1.0800)
    [a] = plan_lifecycle(seed_firm, {"EU_HF_001": [p]}, market(seed_firm, EURUSD=1.0900), TUE_0900)
    assert a.code == "TRAILING_STOP" and a.sl == pytest.approx(1.0850)
    assert a.tp == p.tp


def test_plan_when_price_moves_against_then_trailing_stop_never_loosens(seed_firm):
    p = pos(open_=1.0850, sl=1.0820)  # already tightened above the initial distance
    assert plan_lifecycle(seed_firm, {"EU_HF_001": [p]}, market(seed_firm, EURUSD=1.0830), TUE_0900) == []


def test_plan_when_trail_improvement_below_min_step_then_no_modify(seed_firm):
    p = pos(open_=1.0850, sl=1.0800)
    assert plan_lifecycle(seed_firm, {"EU_HF_001": [p]}, market(seed_firm, EURUSD=1.0860), TUE_0900) == []


def test_plan_when_trailed_recently_then_throttled(seed_firm):
    p = pos(open_=1.0850, sl=1.0800)
    m = market(seed_firm, EURUSD=1.0900)
    recent = {p.ticket: TUE_0900 - TRAIL_THROTTLE + timedelta(seconds=1)}
    assert plan_lifecycle(seed_firm, {"EU_HF_001": [p]}, m, TUE_0900, recent) == []
    old = {p.ticket: TUE_0900 - TRAIL_THROTTLE}
    assert len(plan_lifecycle(seed_firm, {"EU_HF_001": [p]}, m, TUE_0900, old)) == 1


def test_plan_when_account_has_no_trailing_then_stop_not_moved(seed_firm):
    p = pos(account="SW_003", symbol="EURUSD", open_=1.0850, sl=1.0800)  # SW_003 trailing_stop false
    assert plan_lifecycle(seed_firm, {"SW_003": [p]}, market(seed_firm, EURUSD=1.0950), TUE_0900) == []


@pytest.mark.parametrize("account, age, closes", [
    ("SW_002", timedelta(days=7), True), ("SW_002", timedelta(days=7) - timedelta(minutes=1), False),
    ("SW_003", timedelta(days=30), False), ("SW_003", timedelta(days=31), True),
    ("SW_001", timedelta(days=7), True),  # group's position_duration "1-7 days"
])
def test_plan_when_holding_period_reached_then_closed(seed_firm, account, age, closes):
    p = pos(account=account, opened=TUE_0900 - age, sl=1.0800, tp=1.0950)
    actions = plan_lifecycle(seed_firm, {account: [p]}, market(seed_firm, EURUSD=1.0850), TUE_0900)
    assert (any(a.code == "HOLDING_PERIOD" and a.kind is ActionKind.CLOSE for a in actions)) is closes


@pytest.mark.parametrize("now, closes", [
    # Same UTC wall time either side of the US DST change (Sunday 2026-11-01):
    (datetime(2026, 10, 29, 21, 50, tzinfo=UTC), False),  # EDT: rollover was 21:00 UTC, next is tomorrow
    (datetime(2026, 11, 2, 21, 50, tzinfo=UTC), True),  # EST: rollover at 22:00 UTC, 10 minutes away
    (datetime(2026, 11, 2, 21, 44, tzinfo=UTC), False),  # 16 minutes before: outside the lead
])
def test_plan_when_intraday_group_near_rollover_then_flat_dst_correct(seed_firm, now, closes):
    p = pos(opened=now - timedelta(hours=2))
    actions = plan_lifecycle(seed_firm, {"EU_HF_001": [p]}, market(seed_firm, EURUSD=1.0850), now)
    assert any(a.code == "INTRADAY_FLAT" for a in actions) is closes


def test_plan_when_swing_group_near_rollover_then_positions_held(seed_firm):
    now = datetime(2026, 11, 2, 21, 50, tzinfo=UTC)
    p = pos(account="SW_001", opened=now - timedelta(hours=2))
    assert not any(a.kind is not ActionKind.MODIFY for a in plan_lifecycle(
        seed_firm, {"SW_001": [p]}, market(seed_firm, EURUSD=1.0850), now))


FRIDAY_1640_NY = datetime(2026, 12, 4, 21, 40, tzinfo=UTC)  # EST: Friday close at 22:00 UTC


def test_plan_when_friday_close_then_flat_groups_close_and_hold_groups_keep(seed_firm):
    positions = {"RD_001": [pos(account="RD_001", ticket=7, opened=FRIDAY_1640_NY - timedelta(hours=3))],
                 "SW_001": [pos(account="SW_001", ticket=8, opened=FRIDAY_1640_NY - timedelta(hours=3))]}
    actions = plan_lifecycle(seed_firm, positions, market(seed_firm, EURUSD=1.0850), FRIDAY_1640_NY)
    assert [(a.account_id, a.code) for a in actions if a.kind is ActionKind.CLOSE] == [("RD_001", "WEEKEND_FLAT")]


def test_plan_when_thursday_same_time_then_no_weekend_action(seed_firm):
    thursday = FRIDAY_1640_NY - timedelta(days=1)
    positions = {"RD_001": [pos(account="RD_001", opened=thursday - timedelta(hours=3))]}
    assert plan_lifecycle(seed_firm, positions, market(seed_firm, EURUSD=1.0850), thursday) == []


def test_plan_when_weekend_reduce_policy_then_partial_close_rounded_to_step(seed_firm):
    groups = dict(seed_firm.groups)
    groups["swing_trading"] = groups["swing_trading"].model_copy(update={"weekend_exposure": "reduce"})
    firm = dataclasses.replace(seed_firm, groups=groups)
    p = pos(account="SW_002", volume=0.05, opened=FRIDAY_1640_NY - timedelta(hours=3))
    [a] = plan_lifecycle(firm, {"SW_002": [p]}, market(firm, EURUSD=1.0850), FRIDAY_1640_NY)
    assert a.kind is ActionKind.REDUCE and a.volume == pytest.approx(0.02)


class FakePool:
    def __init__(self):
        self.calls = []

    def call(self, account_id, method, *args, **kwargs):
        self.calls.append((account_id, method, args, kwargs))
        return OrderOutcome(kwargs.get("client_id", "m"), account_id, OrderStatus.FILLED, retcode=10009)


def test_applier_when_same_close_planned_twice_then_sent_once_with_deterministic_id(seed_firm):
    pool = FakePool()
    applier = LifecycleApplier(seed_firm, pool)
    now = datetime(2026, 11, 2, 21, 50, tzinfo=UTC)
    actions = plan_lifecycle(seed_firm, {"EU_HF_001": [pos(opened=now - timedelta(hours=1))]},
                             market(seed_firm, EURUSD=1.0850), now)
    applier.apply(actions, now)
    applier.apply(actions, now + timedelta(seconds=1))
    closes = [c for c in pool.calls if c[1] == "close"]
    assert len(closes) == 1
    assert closes[0][3]["deviation"] == seed_firm.accounts["EU_HF_001"].risk_management.max_slippage
    # a fresh applier (e.g. a rerun in another process) derives the same client id: the broker dedupes
    other = FakePool()
    LifecycleApplier(seed_firm, other).apply(actions, now)
    assert other.calls[0][3]["client_id"] == closes[0][3]["client_id"]


def test_applier_when_trailing_modified_then_throttle_remembers_ticket(seed_firm):
    pool = FakePool()
    applier = LifecycleApplier(seed_firm, pool)
    p = pos(open_=1.0850, sl=1.0800)
    m = market(seed_firm, EURUSD=1.0900)
    applier.apply(plan_lifecycle(seed_firm, {"EU_HF_001": [p]}, m, TUE_0900, applier.last_trail), TUE_0900)
    assert applier.last_trail[p.ticket] == TUE_0900
    later = TUE_0900 + timedelta(seconds=5)
    assert plan_lifecycle(seed_firm, {"EU_HF_001": [p]}, m, later, applier.last_trail) == []


NFP = datetime(2026, 12, 4, 13, 30, tzinfo=UTC)  # Non-Farm Payrolls in config/news_calendar.json


def test_plan_when_high_impact_news_ahead_then_stop_tightened_to_half_atr(seed_firm):
    p = pos(account="SW_003", open_=1.0850, sl=1.0800, opened=NFP - timedelta(hours=5))  # no trailing on SW_003
    m = market(seed_firm, EURUSD=1.0850)
    [a] = plan_lifecycle(seed_firm, {"SW_003": [p]}, m, NFP - timedelta(minutes=10))
    assert a.code == "NEWS_TIGHTEN" and "Non-Farm Payrolls" in a.reason
    assert a.sl == pytest.approx(round(1.0850 - 0.5 * m.daily_range("EURUSD"), 5))
    assert p.sl < a.sl < 1.0850 and a.tp == p.tp
    # next tick with the tightened stop: nothing more to do (no ratcheting)
    tightened = dataclasses.replace(p, sl=a.sl)
    assert plan_lifecycle(seed_firm, {"SW_003": [tightened]}, m, NFP - timedelta(minutes=9)) == []


def test_plan_when_news_window_not_open_or_passed_then_stop_kept(seed_firm):
    p = pos(account="SW_003", open_=1.0850, sl=1.0800, opened=NFP - timedelta(hours=5))
    m = market(seed_firm, EURUSD=1.0850)
    assert plan_lifecycle(seed_firm, {"SW_003": [p]}, m, NFP - timedelta(minutes=16)) == []
    assert plan_lifecycle(seed_firm, {"SW_003": [p]}, m, NFP + timedelta(minutes=5)) == []


def test_plan_when_stop_already_tight_before_news_then_not_loosened(seed_firm):
    p = pos(account="SW_003", open_=1.0850, sl=1.0835, opened=NFP - timedelta(hours=5))  # 15 points < half ATR
    assert plan_lifecycle(seed_firm, {"SW_003": [p]}, market(seed_firm, EURUSD=1.0850),
                          NFP - timedelta(minutes=5)) == []


def test_plan_when_news_based_stops_disabled_then_no_tightening(seed_firm):
    master = seed_firm.master.model_copy(update={"risk_controls": seed_firm.master.risk_controls.model_copy(
        update={"news_based_stops": False})})
    firm = dataclasses.replace(seed_firm, master=master)
    p = pos(account="SW_003", open_=1.0850, sl=1.0800, opened=NFP - timedelta(hours=5))
    assert plan_lifecycle(firm, {"SW_003": [p]}, market(firm, EURUSD=1.0850), NFP - timedelta(minutes=10)) == []
