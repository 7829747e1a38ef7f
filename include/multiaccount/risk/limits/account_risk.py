"""Account open risk / equity against risk_per_trade x max_concurrent_trades (the account's own
budget: no more than its full complement of trades, each at its per-trade risk)."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class MaxAccountRisk(Limit):
    name = "max_account_risk"
    code = "MAX_ACCOUNT_RISK"
    breach_at_limit = False  # an exposure cap: at the cap is allowed
    critical_action = Action.REDUCTION_PLAN  # over a cap: cut back to it, do not halt the scope

    def short_desc(self) -> str:
        return "Account open risk / equity <= risk_per_trade x max_concurrent_trades; critical cuts the account's largest risks back under the cap."

    def evaluate(self, snapshot):
        out = []
        for i in self.candidates(snapshot.account_risk, snapshot.account_risk_cap, snapshot.reported):
            out.extend(self.graded(Scope.account(snapshot.account_ids[i]), snapshot.account_risk[i],
                                   snapshot.account_risk_cap[i]))
        return out
