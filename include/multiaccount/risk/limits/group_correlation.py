"""Highest pairwise correlation of account returns (rolling `correlation_window`) inside a group
against the group's `max_correlation`; critical puts the group in REDUCING."""

from __future__ import annotations

import math

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class GroupCorrelation(Limit):
    name = "max_correlation"
    code = "MAX_CORRELATION"
    critical_action = Action.REDUCE

    def short_desc(self) -> str:
        return "Max pairwise correlation of account returns in a group < max_correlation; critical: REDUCING."

    def evaluate(self, snapshot):
        if not self.firm.master.risk_controls.correlation_monitoring:
            return []
        out = []
        for j, g in enumerate(snapshot.group_ids):
            cap = self.firm.group_limits(g).max_correlation
            measured = float(snapshot.group_max_corr[j])
            if cap is not None and math.isfinite(measured):
                out.extend(self.graded(Scope.group(g), measured, cap))
        return out
