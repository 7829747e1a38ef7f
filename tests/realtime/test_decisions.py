"""The monitor's pure decision logic: debounce, act once per streak, emergency on first read."""

from __future__ import annotations

import pytest

from multiaccount.domain import Scope, Severity, TradingState
from multiaccount.realtime.decisions import DebounceState, decide
from multiaccount.risk.verdict import Action, Verdict

ACC = Scope.account("EU_HF_001")
FIRM = Scope.firm()
RANK_OF = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def verdict(action: Action, scope: Scope = ACC, limit: str = "account_drawdown", measured: float = 0.11,
            threshold: float = 0.10) -> Verdict:
    sev = Severity.WARNING if action is Action.ALERT else Severity.CRITICAL
    return Verdict(scope, limit, measured, threshold, sev, action, f"{limit.upper()}: measured={measured}")


def run(reads: list[list[Verdict]], reads_needed: int = 2) -> list[list[Action]]:
    """Feed reads through `decide`, applying each fired action's target state as the executor would."""
    state = DebounceState()
    states: dict[Scope, TradingState] = {}
    fired = []
    for vs in reads:
        d = decide(vs, state, states, reads_needed)
        state = d.state
        for a in d.actions:
            target = a.action.target_state
            if target is not None and RANK_OF[target] > RANK_OF[states.get(a.scope, TradingState.ACTIVE)]:
                states[a.scope] = target  # the executor never loosens a state
        fired.append([a.action for a in d.actions])
    return fired


def test_decide_when_state_change_did_not_stick_then_retries_next_read():
    # the executor failed to halt (store down): the state is still ACTIVE, so the next read acts again
    v = verdict(Action.HALT)
    d1 = decide([v], DebounceState(), {}, 1)
    d2 = decide([v], d1.state, {}, 1)
    assert [a.action for a in d2.actions] == [Action.HALT]


@pytest.mark.parametrize("reads_needed, breaching_reads, expected_fire_at", [
    (1, 3, 0), (2, 3, 1), (3, 3, 2), (3, 2, None),
])
def test_decide_when_hard_breach_persists_then_fires_once_after_reads_needed(reads_needed, breaching_reads,
                                                                            expected_fire_at):
    # Arrange
    reads = [[verdict(Action.HALT_AND_FLATTEN)] for _ in range(breaching_reads)]
    # Act
    fired = run(reads, reads_needed)
    # Assert
    fire_indices = [i for i, f in enumerate(fired) if f]
    assert fire_indices == ([] if expected_fire_at is None else [expected_fire_at])


def test_decide_when_breach_flickers_then_streak_resets_and_nothing_fires():
    reads = [[verdict(Action.HALT)], [], [verdict(Action.HALT)], [], [verdict(Action.HALT)]]
    assert run(reads, 2) == [[], [], [], [], []]


def test_decide_when_emergency_threshold_hit_then_fires_on_first_read():
    fired = run([[verdict(Action.EMERGENCY_STOP, FIRM, "emergency_stop", 0.21, 0.20)]], reads_needed=5)
    assert fired == [[Action.EMERGENCY_STOP]]


def test_decide_when_warning_persists_then_alerts_once_and_does_not_count_toward_hard_action():
    # a warning read followed by one hard read: the hard action needs 2 *hard* reads
    reads = [[verdict(Action.ALERT)], [verdict(Action.ALERT)], [verdict(Action.HALT)], [verdict(Action.HALT)]]
    assert run(reads, 2) == [[Action.ALERT], [], [], [Action.HALT]]


def test_decide_when_state_lifted_during_breach_then_acts_again():
    # Arrange: the halt fired; then someone resumed while the breach persists
    v = verdict(Action.HALT)
    d1 = decide([v], DebounceState(), {}, 2)
    d2 = decide([v], d1.state, {}, 2)
    assert [a.action for a in d2.actions] == [Action.HALT]
    d3 = decide([v], d2.state, {ACC: TradingState.HALTED}, 2)
    # Act
    d4 = decide([v], d3.state, {ACC: TradingState.ACTIVE}, 2)
    # Assert
    assert d3.actions == ()
    assert [a.action for a in d4.actions] == [Action.HALT]


def test_decide_when_several_actions_then_worst_first_and_worst_per_key():
    reads = [[verdict(Action.HALT, ACC, "daily_loss"), verdict(Action.REDUCE, ACC, "daily_loss"),
              verdict(Action.EMERGENCY_STOP, FIRM, "emergency_stop"), verdict(Action.REDUCE, FIRM, "total_risk")]]
    fired = run(reads * 3, 2)
    assert fired[0] == [Action.EMERGENCY_STOP]
    assert fired[1] == [Action.HALT, Action.REDUCE]
    assert fired[2] == []


def test_decide_when_reads_needed_invalid_then_raises():
    with pytest.raises(ValueError):
        decide([], DebounceState(), {}, 0)
