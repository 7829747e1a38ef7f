from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multiaccount.domain import Scope, Severity, Side, TradingState
from multiaccount.risk import MarketData, RiskBaseline, RiskEngine, build_snapshot
from multiaccount.risk.reduction import plan_intents
from tests.fixtures.risk import baseline_at_initial, make_position, quotes_from_reference, seed_states


def snap_with(firm, market, clock, equity=None, positions=(), baseline=None, **kw):
    return build_snapshot(firm, seed_states(firm, equity=equity), list(positions), market,
                          baseline=baseline or baseline_at_initial(firm), now=clock.now(), **kw)


def test_assess_when_one_bad_read_then_no_flatten_and_second_read_flattens(seed_firm, risk_market, clock,
                                                                          state_service):
    engine = RiskEngine(seed_firm, state_service)
    bad = snap_with(seed_firm, risk_market, clock, equity={"SW_002": 89_000.0},
                    baseline=RiskBaseline(peaks={"SW_002": 100_000.0}, day_start={"SW_002": 89_500.0}))
    first = engine.assess(bad)
    assert first.flatten == [] and state_service.state(Scope.account("SW_002")) is TradingState.ACTIVE
    second = engine.assess(bad)
    assert second.flatten == [Scope.account("SW_002")]
    assert state_service.state(Scope.account("SW_002")) is TradingState.HALTED


def test_assess_when_bad_tick_then_good_read_then_counter_resets(seed_firm, risk_market, clock, state_service):
    engine = RiskEngine(seed_firm, state_service)
    base = RiskBaseline(peaks={"SW_002": 100_000.0}, day_start={"SW_002": 95_000.0})
    bad = snap_with(seed_firm, risk_market, clock, equity={"SW_002": 89_000.0}, baseline=base)
    good = snap_with(seed_firm, risk_market, clock, equity={"SW_002": 99_000.0}, baseline=base)
    for s in (bad, good, bad):
        result = engine.assess(s)
    assert result.flatten == []
    assert state_service.state(Scope.account("SW_002")) is TradingState.ACTIVE


def test_assess_when_firm_drawdown_at_emergency_threshold_then_stops_on_first_read(seed_firm, risk_market, clock,
                                                                                   state_service):
    equity = {a: float(c.account_info.initial_balance) * 0.8 for a, c in seed_firm.accounts.items()}
    engine = RiskEngine(seed_firm, state_service)
    res = engine.assess(snap_with(seed_firm, risk_market, clock, equity=equity,
                                  baseline=RiskBaseline(peaks={"firm": 1_000_000.0})))
    assert res.emergency and Scope.firm() in res.flatten
    assert state_service.state(Scope.firm()) is TradingState.HALTED
    assert state_service.events.of_kind("emergency_stop")


def test_assess_when_warning_then_scope_reducing_and_recovers_when_clean(seed_firm, risk_market, clock,
                                                                         state_service):
    engine = RiskEngine(seed_firm, state_service)
    warn = snap_with(seed_firm, risk_market, clock, equity={"SW_001": 95_800.0})  # 4.2 % daily loss
    engine.assess(warn)
    engine.assess(warn)
    assert state_service.state(Scope.account("SW_001")) is TradingState.REDUCING
    ok = snap_with(seed_firm, risk_market, clock, equity={"SW_001": 99_000.0})
    engine.assess(ok)
    engine.assess(ok)
    assert state_service.state(Scope.account("SW_001")) is TradingState.ACTIVE


def test_assess_when_daily_loss_critical_then_halted_until_next_rollover(seed_firm, risk_market, clock,
                                                                         state_service):
    engine = RiskEngine(seed_firm, state_service)
    s = snap_with(seed_firm, risk_market, clock, equity={"SW_003": 94_000.0})
    engine.assess(s)
    engine.assess(s)
    rec = state_service.repo.get(Scope.account("SW_003"))
    assert rec.state is TradingState.HALTED and "until=2026-12-01T22:00:00+00:00" in rec.reason


def test_assess_when_total_risk_above_limit_then_plan_cuts_largest_risk_first(seed_firm, risk_market, clock,
                                                                              state_service):
    ps = [make_position(a, s, Side.BUY, v, px, None) for a, s, v, px in [
        ("SW_001", "USDJPY", 40.0, 151.5), ("SW_002", "AUDUSD", 60.0, 0.655), ("EU_HF_001", "EURUSD", 10.0, 1.085),
        ("EU_HF_003", "USDJPY", 10.0, 151.5), ("RD_001", "USDCHF", 2.0, 0.885), ("SW_003", "USDCAD", 60.0, 1.365)]]
    engine = RiskEngine(seed_firm, state_service, limits=[lim for lim in RiskEngine(seed_firm).limits
                                                          if lim.name == "max_total_risk"])
    s = snap_with(seed_firm, risk_market, clock, positions=ps)
    assert s.firm_risk > 0.15
    engine.assess(s)
    res = engine.assess(s)
    cut = sum(step.risk_cut for step in res.reduction)
    assert s.firm_open_risk - cut <= 0.15 * s.firm_equity + 1e-6
    risks = [s.pos_risk[list(s.pos_ticket).index(step.ticket)] for step in res.reduction]
    assert risks == sorted(risks, reverse=True)
    intents = plan_intents(res.reduction, "plan-1")
    assert all(i.reduce_only and i.side is Side.SELL for i in intents)


def test_scenario_when_five_sigma_eurusd_drop_then_eurusd_longs_breach_and_engine_acts(seed_firm, clock,
                                                                                      state_service):
    quotes = quotes_from_reference(seed_firm)
    sigma = 1.085 * 0.07 / np.sqrt(252)
    shocked = {**quotes, "EURUSD": tuple(q - 5 * sigma for q in quotes["EURUSD"])}
    ps = [make_position("EU_HF_001", "EURUSD", Side.BUY, 10.0, 1.085, None),
          make_position("EU_HF_005", "EURUSD", Side.BUY, 10.0, 1.085, None)]
    loss = 10 * 100_000 * 5 * sigma
    equity = {"EU_HF_001": 120_000 - loss, "EU_HF_005": 120_000 - loss}
    engine = RiskEngine(seed_firm, state_service)
    s = build_snapshot(seed_firm, seed_states(seed_firm, equity=equity), ps,
                       MarketData.from_config(seed_firm.symbols, shocked), baseline=baseline_at_initial(seed_firm),
                       now=clock.now())
    engine.assess(s)
    res = engine.assess(s)
    assert s.account_daily_loss[s.account_index["EU_HF_001"]] > 0.1
    assert Scope.account("EU_HF_001") in res.flatten  # drawdown > 10 %: halted and flattened
    assert state_service.state(Scope.account("EU_HF_001")) is TradingState.HALTED
    assert state_service.effective("EU_HF_002") is TradingState.HALTED  # group daily loss halts the group


def test_scenario_when_correlated_gbpusd_eurusd_longs_then_reduce_most_correlated_first(seed_firm, risk_market,
                                                                                      clock, state_service):
    rng = np.random.default_rng(5)
    x = rng.normal(size=250)
    rets = pd.DataFrame({"EURUSD": x, "GBPUSD": 0.92 * x + 0.39 * rng.normal(size=250)})
    ps = [make_position("SW_001", "EURUSD", Side.BUY, 3.0, 1.085, 1.075),
          make_position("SW_002", "GBPUSD", Side.BUY, 2.0, 1.27, 1.26)]
    engine = RiskEngine(seed_firm, state_service)
    s = snap_with(seed_firm, risk_market, clock, positions=ps, symbol_returns=rets)
    assert s.firm_correlation_risk > 0.8
    engine.assess(s)
    res = engine.assess(s)
    fired = [v for v in res.fired if v.limit == "firm_correlation_threshold"]
    assert fired and fired[0].severity is Severity.CRITICAL
    assert len(res.reduction) == 1  # dropping one of the two leaves a single exposure
    assert state_service.state(Scope.firm()) is TradingState.REDUCING


def test_assess_when_violation_appears_then_one_event_per_violation(seed_firm, risk_market, clock, state_service):
    engine = RiskEngine(seed_firm, state_service)
    s = snap_with(seed_firm, risk_market, clock, equity={"SW_001": 95_800.0})
    engine.assess(s)
    engine.assess(s)
    events = state_service.events.of_kind("risk_violation")
    assert len([e for e in events if e.scope == Scope.account("SW_001")]) == 1
    assert events[0].data["limit_name"] == "max_daily_loss"


@pytest.mark.parametrize("reads", [1, 2, 3])
def test_debouncer_when_n_reads_then_ready_only_after_n(reads):
    from multiaccount.risk import Debouncer
    d = Debouncer()
    for _ in range(reads - 1):
        d.observe(["k"])
        assert not d.ready("k", reads)
    d.observe(["k"])
    assert d.ready("k", reads)
