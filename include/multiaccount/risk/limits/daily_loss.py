"""Loss since the 17:00 New York rollover, as a fraction of start-of-day equity (floating P&L
counts), per account, group and firm, against `max_daily_loss`. Critical: nothing new until the
next rollover (`until`)."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.calendar import next_rollover
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class MaxDailyLoss(Limit):
    name = "max_daily_loss"
    code = "MAX_DAILY_LOSS"
    critical_action = Action.HALT_UNTIL

    def short_desc(self) -> str:
        return "(start-of-day equity - equity) / start-of-day equity < max_daily_loss per account, group, firm; " \
               "critical halts new trades until the next 17:00 New York."

    def evaluate(self, snapshot):
        limit = self.firm.master.master_account.max_daily_loss
        until = next_rollover(snapshot.at)
        out = []
        for i in self.candidates(snapshot.account_daily_loss, limit, snapshot.reported):
            out.extend(self.graded(Scope.account(snapshot.account_ids[i]), snapshot.account_daily_loss[i], limit,
                                   until=until))
        for j, g in enumerate(snapshot.group_ids):
            out.extend(self.graded(Scope.group(g), snapshot.group_daily_loss[j], limit, until=until))
        out.extend(self.graded(Scope.firm(), snapshot.firm_daily_loss, limit, until=until))
        return out
