"""Firm open risk / firm equity against `max_total_risk`; critical produces a reduction plan
(largest position risk first) as in the seed's `_emergency_risk_reduction`."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class MaxTotalRisk(Limit):
    name = "max_total_risk"
    code = "MAX_TOTAL_RISK"
    breach_at_limit = False  # an exposure cap: at the cap is allowed
    critical_action = Action.REDUCTION_PLAN

    def short_desc(self) -> str:
        return "Firm open risk / firm equity <= max_total_risk; critical: REDUCING + cut largest risks first."

    def evaluate(self, snapshot):
        return list(self.graded(Scope.firm(), snapshot.firm_risk, self.firm.master.master_account.max_total_risk))
