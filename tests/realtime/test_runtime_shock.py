"""The monitor on a simulated firm: a scripted shock halts, flattens and emergency-stops, with the
right states, alerts, events and incident; a restart keeps the firm halted."""

from __future__ import annotations

from datetime import timedelta

from multiaccount.domain import Scope, TradingState
from multiaccount.realtime.runtime import build_runtime
from tests.fixtures.realtime import SHOCK_PLAN, open_positions


def _ticks(rt, clock, at_seconds: float, n: int = 2):
    t0 = rt._t0  # noqa: SLF001 - set by the test
    results = []
    for i in range(n):
        clock.set(t0 + timedelta(seconds=at_seconds + i))
        results.append(rt.monitor.tick())
    return results


def test_monitor_when_scripted_shock_then_daily_loss_halt_drawdown_flatten_and_emergency_stop(sim_runtime, clock):
    rt = sim_runtime
    rt._t0 = clock.now()
    open_positions(rt.brokers, SHOCK_PLAN)
    # before the shocks: all clean, baseline taken
    assert all(r.ok for r in _ticks(rt, clock, 0))
    assert rt.states.state(Scope.firm()) is TradingState.ACTIVE

    # shock 1: USDJPY -> EU_HF_003 daily loss ~6.5 % -> timed halt after 2 reads, positions kept
    first, second = _ticks(rt, clock, 12)
    assert rt.states.state(Scope.account("EU_HF_003")) is TradingState.HALTED
    assert not any(v.limit == "max_daily_loss" for v in first.assessment.fired)  # debounced
    assert "until=" in rt.states.repo.get(Scope.account("EU_HF_003")).reason
    assert rt.pool.positions("EU_HF_003"), "a daily-loss halt does not flatten"

    # shock 2: GBPUSD -> EU_HF_002 drawdown ~15 % -> halted and flattened
    _ticks(rt, clock, 22)
    assert rt.states.state(Scope.account("EU_HF_002")) is TradingState.HALTED
    assert rt.pool.positions("EU_HF_002") == []
    flat_events = [e for e in rt.events.since(0, 500) if e[1].kind == "flatten"]
    assert any(e.scope == Scope.account("EU_HF_002") and e.data["flat"] for _, e in flat_events)
    assert rt.states.state(Scope.firm()) is TradingState.ACTIVE

    # shock 3: EURUSD -> firm drawdown ~22 % -> emergency stop on the FIRST read
    [tick] = _ticks(rt, clock, 32, n=1)
    assert tick.assessment.emergency
    assert rt.states.state(Scope.firm()) is TradingState.HALTED
    assert rt.pool.positions() == []
    kinds = {e.kind for e in rt.alerts.events}
    assert {"state_change", "flatten", "emergency_stop"} <= kinds
    stop = [e for _, e in rt.events.since(0, 500) if e.kind == "emergency_stop"]
    assert len(stop) == 1 and stop[0].data["ok"]
    incident = rt.store.incidents.get(stop[0].data["incident_id"])
    assert [en.kind for en in incident.entries][:3] == ["opened", "detected", "action"]
    assert incident.entries[-1].text == "emergency stop complete"
    hb = rt.store.heartbeat.last("risk_monitor")
    assert hb.info["status"] == "ok" and hb.beats == 7


def test_restart_when_firm_halted_then_new_service_keeps_it_halted_until_explicit_resume(sim_runtime, clock,
                                                                                         seed_firm):
    rt = sim_runtime
    rt.emergency_stop("drill", "alice")
    # Act: a new process on the same store
    again = build_runtime(rt_app(rt, seed_firm, clock), pool=rt.pool, store=rt.store, alerts=rt.alerts,
                          publishers=[])
    again.monitor.tick()
    # Assert
    assert again.states.state(Scope.firm()) is TradingState.HALTED
    again.resume(Scope.firm(), "drill over", "alice")
    assert again.states.state(Scope.firm()) is TradingState.ACTIVE
    audit = [a.action for a in rt.store.audit.list()]
    assert sorted(audit) == ["emergency_stop", "resume"]  # newest first in the store


def rt_app(rt, firm, clock):
    from multiaccount.bootstrap import bootstrap

    return bootstrap(firm, clock=clock, store=rt.store, events=rt.alerts, fleet=object())
