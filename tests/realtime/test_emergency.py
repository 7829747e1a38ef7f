"""Emergency procedures: flatten with retries through disconnects, emergency stop, risk reduction."""

from __future__ import annotations

from multiaccount.domain import Scope, Severity, TradingState
import pytest

from multiaccount.domain.ports import InMemoryTradingStateRepository, RecordingEventSink
from multiaccount.risk import TradingStateService
from multiaccount.risk.emergency import (
    EMERGENCY_ALERT_TEXT,
    EmergencyContext,
    emergency_rebalance,
    emergency_stop,
    flatten_account,
    flatten_accounts,
)
from tests.fixtures.realtime import FakePool, make_positions

NO_SLEEP = lambda _s: None  # noqa: E731 - tests never sleep to move time


def test_flatten_when_terminal_disconnects_mid_flatten_then_retries_until_flat():
    # Arrange: the first two calls for EU_HF_001 fail with a disconnect
    pool = FakePool(make_positions(["EU_HF_001"], 4))
    pool.disconnects["EU_HF_001"] = 2
    # Act
    result = flatten_account(pool, "EU_HF_001", attempts=5, sleep=NO_SLEEP)
    # Assert
    assert result.flat
    assert sorted(result.closed) == [1001, 1002, 1003, 1004]
    assert pool.positions("EU_HF_001") == []
    assert any("no connection" in e for e in result.errors)


def test_flatten_when_positions_cannot_be_closed_then_reports_what_is_still_open():
    pool = FakePool(make_positions(["EU_HF_001", "SW_001"], 2))
    pool.stuck = {1002}
    report = flatten_accounts(pool, ["EU_HF_001", "SW_001"], attempts=3, sleep=NO_SLEEP)
    assert not report.flat
    assert report.still_open == {"EU_HF_001": (1002,)}
    assert report.closed_count == 3
    assert "NOT_FLAT" in report.summary() and "1002" in report.summary()


def test_flatten_when_terminal_never_comes_back_then_reports_last_known_open_tickets():
    pool = FakePool(make_positions(["EU_HF_001"], 2))
    pool.disconnects["EU_HF_001"] = 99
    result = flatten_account(pool, "EU_HF_001", attempts=3, sleep=NO_SLEEP)
    assert not result.flat and not result.verified and result.attempts == 3
    assert len(result.errors) == 3
    report = flatten_accounts(pool, ["EU_HF_001"], attempts=1, sleep=NO_SLEEP)
    assert report.unverified == ("EU_HF_001",) and "unreachable" in report.summary()


def _ctx(pool, states, sink, incidents, clock, close_all=True) -> EmergencyContext:
    return EmergencyContext(account_ids=["EU_HF_001", "EU_HF_002", "SW_001"], pool=pool, states=states,
                            alerts=sink, incidents=incidents, clock=clock, close_all_positions=close_all,
                            flatten_backoff_seconds=0.0)


@pytest.fixture
def fake_states(clock) -> TradingStateService:
    """The real state service over the in-memory repository."""
    return TradingStateService(InMemoryTradingStateRepository(), RecordingEventSink(), clock)


@pytest.fixture
def incidents():
    from multiaccount.store import Store

    return Store.open().incidents


def test_emergency_stop_when_close_all_configured_then_halts_flattens_alerts_and_records_timeline(
        rt_pool, fake_states, clock, incidents):
    # Arrange
    sink = RecordingEventSink()
    # Act
    report = emergency_stop(_ctx(rt_pool, fake_states, sink, incidents, clock), "firm drawdown 21%", "alice")
    # Assert
    assert report.ok and report.halted and report.alerted
    assert fake_states.state(Scope.firm()) is TradingState.HALTED
    assert rt_pool.positions() == []
    [alert] = sink.of_kind("emergency_stop")
    assert alert.severity is Severity.CRITICAL and alert.title == EMERGENCY_ALERT_TEXT
    incident = incidents.get(report.incident_id)
    assert [e.kind for e in incident.entries] == ["opened", "detected", "action", "action", "alert", "done"]
    assert incident.opened_by == "alice" and "firm drawdown 21%" in incident.title


def test_emergency_stop_when_close_all_disabled_then_positions_stay_open(rt_pool, fake_states, clock):
    sink = RecordingEventSink()
    before = len(rt_pool.positions())
    report = emergency_stop(_ctx(rt_pool, fake_states, sink, None, clock, close_all=False), "test", "ops")
    assert report.flatten is None and report.halted
    assert len(rt_pool.positions()) == before
    assert fake_states.state(Scope.firm()) is TradingState.HALTED


def test_emergency_stop_when_store_down_then_still_halts_and_flattens(rt_pool, fake_states, clock):
    class DownIncidents:
        def open(self, *a, **k):
            raise ConnectionError("store unavailable")

    report = emergency_stop(_ctx(rt_pool, fake_states, RecordingEventSink(), DownIncidents(), clock), "x", "y")
    assert report.ok and report.incident_id is None
    assert [e.kind for e in report.timeline][-1] == "done"


def test_emergency_rebalance_when_over_threshold_then_reduces_largest_risk_then_rebalances(sim_runtime, clock):
    from tests.fixtures.realtime import SHOCK_PLAN, open_positions

    open_positions(sim_runtime.brokers, SHOCK_PLAN)
    snap = sim_runtime.read_snapshot()
    calls = []
    threshold = snap.firm_risk * 0.5
    report = emergency_rebalance(snap, threshold=threshold, target_risk=threshold * 0.5, pool=FakePool(),
                                 plan_id="p1", rebalance=lambda: calls.append("rebalanced") or "plan-ok")
    assert report.total_risk_before == snap.firm_risk
    cut = sum(s.risk_cut for s in report.reduction)
    assert cut >= snap.firm_open_risk - threshold * 0.5 * snap.firm_equity - 1e-6
    assert report.reduction[0].risk_cut == max(s.risk_cut for s in report.reduction)
    assert calls == ["rebalanced"] and report.rebalance_result == "plan-ok"


def test_emergency_rebalance_when_under_threshold_then_only_rebalances(sim_runtime):
    snap = sim_runtime.read_snapshot()
    report = emergency_rebalance(snap, threshold=0.5, target_risk=0.1, pool=FakePool(), plan_id="p2")
    assert report.reduction == () and report.outcomes == ()
