"""Emergency procedures: flatten with retries through disconnects, emergency stop, risk reduction."""

from __future__ import annotations

from multiaccount.domain import Position, Scope, Severity, Side, TradingState
from multiaccount.domain.ports import RecordingEventSink
from multiaccount.risk.emergency import (
    EMERGENCY_ALERT_TEXT,
    EmergencyContext,
    RiskedPosition,
    emergency_rebalance,
    emergency_stop,
    flatten_account,
    flatten_accounts,
    plan_risk_reduction,
)
from tests.fixtures.realtime import FakeIncidents, FakePool, FakeStates, make_positions

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


def test_emergency_stop_when_close_all_configured_then_halts_flattens_alerts_and_records_timeline(
        fake_pool, fake_states, clock):
    # Arrange
    sink, incidents = RecordingEventSink(), FakeIncidents()
    # Act
    report = emergency_stop(_ctx(fake_pool, fake_states, sink, incidents, clock), "firm drawdown 21%", "alice")
    # Assert
    assert report.ok and report.halted and report.alerted
    assert fake_states.get(Scope.firm()) is TradingState.HALTED
    assert fake_pool.positions() == []
    [alert] = sink.of_kind("emergency_stop")
    assert alert.severity is Severity.CRITICAL and alert.title == EMERGENCY_ALERT_TEXT
    incident = incidents.incidents[report.incident_id]
    kinds = [e["kind"] for e in incident["entries"]]
    assert kinds == ["detected", "action", "action", "alert", "done"]
    assert incident["actor"] == "alice" and "firm drawdown 21%" in incident["title"]


def test_emergency_stop_when_close_all_disabled_then_positions_stay_open(fake_pool, fake_states, clock):
    sink = RecordingEventSink()
    before = len(fake_pool.positions())
    report = emergency_stop(_ctx(fake_pool, fake_states, sink, None, clock, close_all=False), "test", "ops")
    assert report.flatten is None and report.halted
    assert len(fake_pool.positions()) == before
    assert fake_states.get(Scope.firm()) is TradingState.HALTED


def test_emergency_stop_when_store_down_then_still_halts_and_flattens(fake_pool, fake_states, clock):
    class DownIncidents(FakeIncidents):
        def open(self, *a, **k):
            raise ConnectionError("store unavailable")

    report = emergency_stop(_ctx(fake_pool, fake_states, RecordingEventSink(), DownIncidents(), clock), "x", "y")
    assert report.ok and report.incident_id is None
    assert [e.kind for e in report.timeline][-1] == "done"


def _risked(account: str, ticket: int, volume: float, risk: float) -> RiskedPosition:
    return RiskedPosition(Position(account, ticket, "EURUSD", Side.BUY, volume, 1.1, 1.09, None, 1.1, 0.0), risk)


def test_plan_risk_reduction_when_over_target_then_closes_largest_first_and_last_partially():
    # equity 100k, target 5% = 5k; risks 4k + 3k + 1k = 8k -> remove 3k: close 4k position partially? No:
    # largest first: 4k > 3k excess -> partial close of 0.75 of its volume (rounded up to step)
    positions = [_risked("A", 1, 2.0, 4000), _risked("B", 2, 1.0, 3000), _risked("C", 3, 1.0, 1000)]
    steps = plan_risk_reduction(positions, 100_000, 0.05)
    assert [(s.ticket, s.volume) for s in steps] == [(1, 1.5)]
    assert abs(steps[0].risk_removed - 3000) < 1e-6
    assert steps[0].side_to_close == "sell"


def test_plan_risk_reduction_when_within_target_then_no_steps():
    assert plan_risk_reduction([_risked("A", 1, 1.0, 1000)], 100_000, 0.05) == ()


def test_emergency_rebalance_when_over_threshold_then_reduces_then_rebalances():
    pool = FakePool([r.position for r in [_risked("A", 1, 2.0, 4000), _risked("B", 2, 1.0, 12000)]])
    calls = []
    report = emergency_rebalance(positions=[_risked("A", 1, 2.0, 4000), _risked("B", 2, 1.0, 12000)],
                                 total_equity=100_000, threshold=0.15, target_risk=0.10, pool=pool, plan_id="p1",
                                 rebalance=lambda: calls.append("rebalanced") or "plan-ok")
    assert report.total_risk_before == 0.16
    assert [s.ticket for s in report.reduction] == [2]
    assert all(i.reduce_only for i in pool.sent)
    assert calls == ["rebalanced"] and report.rebalance_result == "plan-ok"
