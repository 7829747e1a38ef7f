"""Group open risk / group equity against the group's `max_group_risk`."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class MaxGroupRisk(Limit):
    name = "max_group_risk"
    code = "MAX_GROUP_RISK"
    breach_at_limit = False  # an exposure cap: at the cap is allowed
    critical_action = Action.REDUCTION_PLAN  # over a cap: cut back to it, do not halt the scope

    def short_desc(self) -> str:
        return "Summed open risk / summed equity of each group <= max_group_risk; critical cuts the group's largest risks back under the cap."

    def evaluate(self, snapshot):
        out = []
        for j, g in enumerate(snapshot.group_ids):
            out.extend(self.graded(Scope.group(g), snapshot.group_risk[j], self.firm.group_limits(g).max_group_risk))
        return out
