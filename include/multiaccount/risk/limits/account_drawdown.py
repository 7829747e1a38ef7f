"""Account drawdown from its peak equity against `max_drawdown_per_account`; critical halts the
account and flattens it."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class MaxAccountDrawdown(Limit):
    name = "max_drawdown_per_account"
    code = "MAX_DRAWDOWN"
    critical_action = Action.HALT_AND_FLATTEN

    def short_desc(self) -> str:
        return "1 - equity / peak equity < max_drawdown_per_account; critical halts and flattens the account."

    def evaluate(self, snapshot):
        limit = self.firm.master.risk_controls.max_drawdown_per_account
        out = []
        for i in self.candidates(snapshot.account_drawdown, limit, snapshot.reported):
            out.extend(self.graded(Scope.account(snapshot.account_ids[i]), snapshot.account_drawdown[i], limit))
        return out
