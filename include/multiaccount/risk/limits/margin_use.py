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
        for i in self.candidates(snapshot.margin_use, limit, snapshot.reported):
            out.extend(self.graded(Scope.account(snapshot.account_ids[i]), snapshot.margin_use[i], limit))
        return out
