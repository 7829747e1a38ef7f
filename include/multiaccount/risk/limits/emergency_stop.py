"""Firm drawdown from the firm's peak equity against `emergency_stop_threshold`: an emergency stop
of everything, acting on the FIRST breaching read (no debounce)."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class EmergencyStop(Limit):
    name = "emergency_stop_threshold"
    code = "EMERGENCY_STOP"
    critical_action = Action.EMERGENCY_STOP

    def __init__(self, firm):
        super().__init__(firm)
        self.debounce_reads = 1

    def short_desc(self) -> str:
        return "Firm drawdown (1 - firm equity / firm peak) < emergency_stop_threshold; critical stops everything " \
               "on the first read."

    def evaluate(self, snapshot):
        return list(self.graded(Scope.firm(), snapshot.firm_drawdown,
                                self.firm.master.master_account.emergency_stop_threshold))
