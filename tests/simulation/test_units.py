"""Fast unit tests of the simulation's parts: the seeded signal generator and the trackers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from multiaccount.domain import Scope, Severity, TradingState
from multiaccount.risk.market import MarketData
from multiaccount.risk.verdict import Action, Verdict
from multiaccount.simulation.report import BreachTracker, OrderTally, memory_verdict
from multiaccount.simulation.signals import SignalGenerator

TUE_0700 = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def _priced(firm):
    market = MarketData.from_config(firm.symbols)
    return lambda _symbol: market


def test_generate_signals_when_steps_differ_then_same_signals_for_the_same_minutes(seed_firm):
    gen = SignalGenerator(seed_firm, seed=7, per_symbol_per_hour=6.0)
    end = TUE_0700 + timedelta(hours=3)
    coarse = gen.signals(TUE_0700, end, _priced(seed_firm))
    fine = []
    t = TUE_0700
    while t < end:
        fine.extend(gen.signals(t, t + timedelta(minutes=6), _priced(seed_firm)))
        t += timedelta(minutes=6)
    assert [s.id for s in coarse] and [s.id for s in coarse] == [s.id for s in fine]


def test_generate_signals_when_seed_changes_then_different_signals(seed_firm):
    end = TUE_0700 + timedelta(hours=3)
    a = SignalGenerator(seed_firm, seed=7, per_symbol_per_hour=6.0).signals(TUE_0700, end, _priced(seed_firm))
    b = SignalGenerator(seed_firm, seed=8, per_symbol_per_hour=6.0).signals(TUE_0700, end, _priced(seed_firm))
    assert {s.id.split("-", 1)[1] for s in a} != {s.id.split("-", 1)[1] for s in b}


def test_generate_signals_when_outside_every_session_then_none(seed_firm):
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert SignalGenerator(seed_firm, 7, per_symbol_per_hour=60.0).signals(
        saturday, saturday + timedelta(hours=2), _priced(seed_firm)) == []


def test_generate_signals_when_emitted_then_stop_on_the_loss_side_at_a_volatility_multiple(seed_firm):
    market = MarketData.from_config(seed_firm.symbols)
    sigs = SignalGenerator(seed_firm, 7, per_symbol_per_hour=6.0, stop_multiple=0.4).signals(
        TUE_0700, TUE_0700 + timedelta(hours=2), lambda _s: market)
    assert sigs
    strategies = {n for acc in seed_firm.accounts.values() for n, w in acc.strategy_allocation.items() if w > 0}
    for s in sigs:
        bid, ask = market.bid_ask(s.symbol)
        entry = ask if s.side.value == "buy" else bid
        distance = (entry - s.stop) * s.side.sign
        assert 0.4 * 0.74 <= distance / market.daily_range(s.symbol) <= 0.4 * 1.26
        assert s.strategy in strategies


def _verdict(action: Action, scope: Scope = Scope.account("SW_003")) -> Verdict:
    return Verdict(scope, "max_drawdown_per_account", 0.12, 0.10, Severity.CRITICAL, action, "MAX_DRAWDOWN: x")


def test_track_breach_when_acted_on_second_read_then_one_second_unhandled():
    tracker, states = BreachTracker(), {"state": TradingState.ACTIVE}
    assert tracker.observe(TUE_0700, [_verdict(Action.HALT_AND_FLATTEN)], lambda _s: states["state"])
    states["state"] = TradingState.HALTED
    assert tracker.observe(TUE_0700 + timedelta(seconds=1), [_verdict(Action.HALT_AND_FLATTEN)],
                           lambda _s: states["state"]) == []
    assert tracker.longest_seconds == 1.0 and tracker.handled == 1


def test_track_breach_when_never_acted_on_then_duration_grows():
    tracker = BreachTracker()
    for s in range(5):
        tracker.observe(TUE_0700 + timedelta(seconds=s), [_verdict(Action.HALT)], lambda _s: TradingState.ACTIVE)
    tracker.observe(TUE_0700 + timedelta(seconds=5), [], lambda _s: TradingState.ACTIVE)
    assert tracker.longest_seconds == 4.0 and tracker.handled == 0


def test_track_breach_when_only_a_warning_then_nothing_pending():
    alert = Verdict(Scope.firm(), "max_total_risk", 0.13, 0.15, Severity.WARNING, Action.ALERT, "MAX_TOTAL_RISK: x")
    assert BreachTracker().observe(TUE_0700, [alert], lambda _s: TradingState.ACTIVE) == []


def test_tally_when_results_mixed_then_routed_splits_into_acknowledged_and_rejected():
    tally = OrderTally()
    tally.add({"results": [{"status": "filled", "reason": "DONE"}, {"status": "rejected", "reason": "MAX_GROUP_RISK: x"},
                           {"status": "skipped", "reason": "NOT_SPECIALIZED: y"}, {"status": "rejected", "reason": ""}]})
    assert (tally.routed, tally.acknowledged, tally.rejected, tally.skipped) == (3, 1, 2, 1)
    assert tally.rejected_without_reason == 1 and tally.reasons["MAX_GROUP_RISK"] == 1


def test_memory_verdict_when_flat_then_bounded_and_when_growing_then_not():
    mb = 1024 * 1024
    assert memory_verdict([200 * mb] * 40)[0]
    assert not memory_verdict([200 * mb + i * 10 * mb for i in range(40)])[0]
