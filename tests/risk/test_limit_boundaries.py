"""At the limit: a loss limit is breached, an exposure cap is not (the pre-trade check accepts up to it)."""

from __future__ import annotations

import pytest

from multiaccount.domain import Severity
from multiaccount.risk.limits.daily_loss import MaxDailyLoss
from multiaccount.risk.limits.group_risk import MaxGroupRisk
from multiaccount.risk.limits.total_risk import MaxTotalRisk


@pytest.mark.parametrize("measured, expected", [(0.05, Severity.CRITICAL), (0.0499, Severity.WARNING),
                                                (0.04, Severity.WARNING), (0.039, None)])
def test_grade_when_loss_limit_reached_then_critical_at_the_limit(seed_firm, measured, expected):
    assert MaxDailyLoss(seed_firm).grade(measured, 0.05) is expected


@pytest.mark.parametrize("limit_cls", [MaxGroupRisk, MaxTotalRisk])
@pytest.mark.parametrize("measured, expected", [(0.08, Severity.WARNING), (0.0801, Severity.CRITICAL),
                                                (0.064, Severity.WARNING), (0.0639, None)])
def test_grade_when_exposure_cap_reached_then_critical_only_above_it(seed_firm, limit_cls, measured, expected):
    assert limit_cls(seed_firm).grade(measured, 0.08) is expected


def test_engine_when_group_over_its_risk_cap_then_reduction_plan_cuts_largest_group_position(
        seed_firm, risk_market, clock):
    from multiaccount.domain import Scope, Side, TradingState
    from multiaccount.domain.ports import InMemoryTradingStateRepository, RecordingEventSink
    from multiaccount.risk import RiskEngine, TradingStateService, build_snapshot
    from tests.fixtures.risk import baseline_at_initial, make_position, seed_states

    # research group cap 2 % of 100k = 2,000; RD_001 carries ~1,500 and RD_002 ~900 of stop risk
    positions = [make_position("RD_001", "EURUSD", Side.BUY, 1.5, 1.0850, 1.0750),
                 make_position("RD_002", "EURUSD", Side.BUY, 0.9, 1.0850, 1.0750),
                 make_position("SW_001", "EURUSD", Side.BUY, 2.0, 1.0850, 1.0750)]
    snap = build_snapshot(seed_firm, seed_states(seed_firm), positions, risk_market,
                          baseline=baseline_at_initial(seed_firm), now=clock.now())
    states = TradingStateService(InMemoryTradingStateRepository(), RecordingEventSink(), clock,
                                 group_of=seed_firm.group_of)
    engine = RiskEngine(seed_firm, states)
    for _ in range(seed_firm.master.risk_controls.debounce_reads):
        assessment = engine.assess(snap)
    steps = [s for s in assessment.reduction if s.reason.startswith("MAX_GROUP_RISK")]
    assert steps and steps[0].account_id == "RD_001"  # the largest risk in the group goes first
    assert {s.account_id for s in steps} <= {"RD_001", "RD_002"}  # nothing outside the group is cut
    assert sum(s.risk_cut for s in steps) >= snap.group_risk[snap.group_index["research"]] * 100_000 - 2_000 - 1e-6
    assert states.state(Scope.group("research")) is TradingState.REDUCING  # cut back, not halted
