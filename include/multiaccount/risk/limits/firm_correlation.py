"""Firm correlation risk (risk-weighted mean pairwise correlation of the signed per-symbol
exposure) against `firm_correlation_threshold` (0.80); critical: REDUCING and cut the most
correlated exposure first."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class FirmCorrelation(Limit):
    name = "firm_correlation_threshold"
    code = "FIRM_CORRELATION"
    critical_action = Action.REDUCE_CORRELATED
    warning_action = Action.ALERT

    def short_desc(self) -> str:
        return "Risk-weighted correlation of the firm's symbol exposures < 0.80; critical: cut most correlated first."

    def evaluate(self, snapshot):
        if not self.firm.master.risk_controls.correlation_monitoring:
            return []
        return list(self.graded(Scope.firm(), snapshot.firm_correlation_risk,
                                self.firm.master.risk_controls.firm_correlation_threshold))
