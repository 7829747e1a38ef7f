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
