"""Margin use (margin / equity) per account against `margin_call_threshold`; critical puts the
account in REDUCING."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class MarginUse(Limit):
    name = "margin_call_threshold"
    code = "MARGIN_USE"
    critical_action = Action.REDUCE

    def short_desc(self) -> str:
        return "margin / equity < margin_call_threshold per account; critical: REDUCING."

    def evaluate(self, snapshot):
        limit = self.firm.master.risk_controls.margin_call_threshold
        out = []
        for i, a in enumerate(snapshot.account_ids):
            if snapshot.reported[i]:
                out.extend(self.graded(Scope.account(a), snapshot.margin_use[i], limit))
        return out
