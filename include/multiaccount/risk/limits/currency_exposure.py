"""Net open risk per currency (currency decomposition of every position) / firm equity against
`risk_matrix.json` currency_exposure_caps; critical: REDUCING + cut positions adding to that
currency's net side, largest first."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class CurrencyExposure(Limit):
    name = "currency_exposure_caps"
    code = "CURRENCY_EXPOSURE"
    breach_at_limit = False  # an exposure cap: at the cap is allowed
    critical_action = Action.REDUCTION_PLAN
    warning_action = Action.ALERT

    def short_desc(self) -> str:
        return "|net open risk on a currency| / firm equity <= its cap in risk_matrix.json."

    def evaluate(self, snapshot):
        if snapshot.firm_equity <= 0:
            return []
        out = []
        for ccy, cap in self.firm.risk_matrix.currency_exposure_caps.items():
            k = snapshot.currency_index.get(ccy)
            if k is None:
                continue
            net = float(snapshot.currency_risk[k])
            side = "long" if net > 0 else "short"
            out.extend(self.graded(Scope.firm(), abs(net) / snapshot.firm_equity, cap,
                                   subject=f"currency={ccy}", extra=f", side={side}", currency=ccy,
                                   direction=1.0 if net > 0 else -1.0))
        return out
