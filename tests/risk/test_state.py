from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from multiaccount.domain import Scope, TradingState


def test_escalate_when_lower_than_current_then_never_lowers_halted(state_service):
    acc = Scope.account("EU_HF_001")
    state_service.escalate(acc, TradingState.HALTED, "MAX_DRAWDOWN: ...")
    assert state_service.escalate(acc, TradingState.REDUCING, "warning") is None
    assert state_service.escalate(acc, TradingState.ACTIVE, "auto") is None
    assert state_service.state(acc) is TradingState.HALTED


def test_change_when_state_changes_then_persisted_with_reason_actor_time_and_event(state_service, clock):
    rec = state_service.escalate(Scope.group("high_frequency"), TradingState.REDUCING, "MAX_GROUP_RISK: x")
    hist = state_service.repo.history(Scope.group("high_frequency"))
    assert hist[0] == rec and rec.actor == "system:risk_engine" and rec.changed_at == clock.now()
    (ev,) = state_service.events.of_kind("state_change")
    assert ev.data["from"] == "ACTIVE" and ev.data["to"] == "REDUCING" and ev.detail == "MAX_GROUP_RISK: x"


def test_effective_state_when_group_halted_then_account_halted(state_service):
    state_service.escalate(Scope.group("swing_trading"), TradingState.HALTED, "x")
    state_service.escalate(Scope.account("SW_001"), TradingState.REDUCING, "y")
    assert state_service.effective("SW_001") is TradingState.HALTED
    assert state_service.effective("SW_002") is TradingState.HALTED
    assert state_service.effective("EU_HF_001") is TradingState.ACTIVE


def test_resume_when_explicit_then_lifts_halted_and_calls_rebase_hook(state_service):
    rebased = []
    state_service.on_resume(lambda scope, at: rebased.append((scope, at)))
    acc = Scope.account("SW_001")
    state_service.escalate(acc, TradingState.HALTED, "MAX_DRAWDOWN")
    rec = state_service.resume(acc, actor="cli:alice", reason="reviewed")
    assert rec.state is TradingState.ACTIVE and rec.actor == "cli:alice"
    assert rebased == [(acc, rec.changed_at)]


def test_resume_when_actor_is_the_risk_engine_then_refused(state_service):
    with pytest.raises(ValueError):
        state_service.resume(Scope.firm(), actor="system:risk_engine")


def test_release_expired_when_timed_halt_passed_then_active_and_untimed_halt_stays(state_service, clock):
    until = clock.now() + timedelta(hours=13)
    state_service.halt(Scope.account("SW_001"), "MAX_DAILY_LOSS: ...", "system:risk_engine", until=until)
    state_service.halt(Scope.account("SW_002"), "MAX_DRAWDOWN: ...", "system:risk_engine")
    assert state_service.release_expired(clock.now()) == []
    released = state_service.release_expired(until)
    assert [r.scope.name for r in released] == ["SW_001"]
    assert state_service.state(Scope.account("SW_002")) is TradingState.HALTED


def test_halt_when_untimed_after_timed_then_replaces_so_it_never_expires(state_service, clock):
    acc = Scope.account("SW_001")
    state_service.halt(acc, "MAX_DAILY_LOSS", "system:risk_engine", until=clock.now() + timedelta(hours=1))
    assert state_service.halt(acc, "MAX_DRAWDOWN", "system:risk_engine") is not None
    assert state_service.release_expired(datetime(2027, 1, 1, tzinfo=UTC)) == []
