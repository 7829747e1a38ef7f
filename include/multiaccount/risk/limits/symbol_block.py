"""Gross open risk of a block of correlated symbols / firm equity against `risk_matrix.json`
symbol_correlation_caps (e.g. euro_sterling_block <= 4 %); critical: REDUCING + cut the block's
largest risks first."""

from __future__ import annotations

from multiaccount.domain.model import Scope
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class SymbolBlockRisk(Limit):
    name = "symbol_correlation_caps"
    code = "SYMBOL_BLOCK_RISK"
    breach_at_limit = False  # an exposure cap: at the cap is allowed
    critical_action = Action.REDUCTION_PLAN
    warning_action = Action.ALERT

    def short_desc(self) -> str:
        return "Summed open risk on each correlated symbol block / firm equity <= max_combined_risk."

    def evaluate(self, snapshot):
        if snapshot.firm_equity <= 0:
            return []
        out = []
        for cap in self.firm.risk_matrix.symbol_correlation_caps:
            idx = [snapshot.symbol_index[s] for s in cap.symbols if s in snapshot.symbol_index]
            gross = float(snapshot.symbol_gross_risk[idx].sum()) if idx else 0.0
            out.extend(self.graded(Scope.firm(), gross / snapshot.firm_equity, cap.max_combined_risk,
                                   subject=f"block={cap.name}", block=cap.name, symbols=tuple(cap.symbols)))
        return out
