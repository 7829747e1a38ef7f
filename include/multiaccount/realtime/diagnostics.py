"""The seed's `multi_account_diagnostics()`: connections n/N, total risk, P&L, max correlation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from multiaccount.domain import Scope
from multiaccount.realtime.monitor import HEARTBEAT_COMPONENT


@dataclass(frozen=True)
class Diagnostics:
    connected: int
    total: int
    total_risk: float
    daily_pnl: float
    currency: str
    max_correlation: float | None
    firm_state: str
    heartbeat_age: str | None
    accounts: list[dict[str, Any]]


def collect(rt: Any) -> Diagnostics:
    snap = rt.read_snapshot()
    corr = [float(c) for c in snap.group_max_corr if math.isfinite(c)]
    if snap.account_corr is not None and snap.account_corr.shape[0] >= 2:
        m = snap.account_corr.to_numpy(copy=True)
        for i in range(m.shape[0]):
            m[i, i] = math.nan
        corr += [float(x) for x in m.ravel() if math.isfinite(x)]
    age = None
    if rt.store is not None:
        hb = rt.store.heartbeat.last(HEARTBEAT_COMPONENT)
        if hb is not None:
            at = hb.at if hb.at.tzinfo else hb.at.replace(tzinfo=rt.clock.now().tzinfo)
            age = f"{(rt.clock.now() - at).total_seconds():.0f}s ago"
    accounts = [{"account": a, "group": snap.group_of(a), "connected": bool(snap.connected[i]),
                 "state": rt.states.effective(a).value, "equity": float(snap.equity[i]),
                 "risk": float(snap.account_risk[i]), "daily_loss": float(snap.account_daily_loss[i]),
                 "drawdown": float(snap.account_drawdown[i])} for i, a in enumerate(snap.account_ids)]
    return Diagnostics(connected=int(snap.connected.sum()), total=len(snap.account_ids),
                       total_risk=float(snap.firm_risk), daily_pnl=float(snap.firm_equity - snap.firm_day_start),
                       currency=snap.firm_currency, max_correlation=max(corr) if corr else None,
                       firm_state=rt.states.state(Scope.firm()).value, heartbeat_age=age, accounts=accounts)
