"""Margin level (equity / margin x 100, MT5 percent) against the broker's own `margin_so_call` x
`margin_level_buffer`, read per account, so we act before the broker's margin call / stop-out.
Lower is worse: warning below threshold / warn_fraction, critical below the threshold (REDUCING
and a reduction plan on the account)."""

from __future__ import annotations

import math

import numpy as np

from multiaccount.domain.model import Scope, Severity
from multiaccount.risk.limits.base import Limit, register
from multiaccount.risk.verdict import Action


@register
class MarginLevel(Limit):
    name = "margin_level"
    code = "MARGIN_LEVEL"
    critical_action = Action.REDUCTION_PLAN

    def short_desc(self) -> str:
        return "equity / margin x 100 > broker margin_so_call x margin_level_buffer; critical: cut largest risk."

    def evaluate(self, snapshot):
        buffer = self.firm.master.risk_controls.margin_level_buffer
        out = []
        floor = snapshot.margin_so_call * buffer / self.warn_fraction
        for i in np.flatnonzero(snapshot.reported & (snapshot.margin_level <= floor)):
            a = snapshot.account_ids[i]
            level = float(snapshot.margin_level[i])
            if not math.isfinite(level):
                continue
            threshold = float(snapshot.margin_so_call[i]) * buffer
            if level <= threshold:
                sev = Severity.CRITICAL
            elif level <= threshold / self.warn_fraction:
                sev = Severity.WARNING
            else:
                continue
            v = self.verdict(Scope.account(a), level, threshold, sev,
                             extra=f", so_call={snapshot.margin_so_call[i]:.0f}, buffer={buffer:g}")
            out.append(v)
        return out
