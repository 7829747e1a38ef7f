"""A plausible trading day for any firm, written into an `InMemorySource`.

Why: the page must be looked at (screenshots, `multiaccount dashboard --sample`) and tested before a
real store has a day of readings. Deterministic under `seed`; nothing here is used for decisions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from multiaccount.config import FirmConfig
from multiaccount.dashboard.data import AccountReading, EventRow, InMemorySource, TransferRow
from multiaccount.domain import Severity


def fill_sample(source: InMemorySource, firm: FirmConfig, now: datetime, *, seed: int = 7, steps: int = 96,
                step: timedelta = timedelta(minutes=5), disconnected: tuple[str, ...] = ()) -> None:
    """Correlated equity walks for every account ending at `now`, plus risk, events and a transfer."""
    rng = np.random.default_rng(seed)
    ids = list(firm.accounts)
    n = len(ids)
    common = rng.normal(0, 1, steps)
    group_factor = {g: rng.normal(0, 1, steps) for g in firm.groups}
    equity = {a: float(firm.accounts[a].account_info.initial_balance) for a in ids}
    peaks, day_start = dict(equity), dict(equity)
    start = now - step * steps
    for t in range(steps + 1):
        at = start + step * t
        for a in ids:
            if t:
                g = firm.group_of(a)
                shock = 0.5 * common[t - 1] + 0.6 * group_factor[g][t - 1] + 0.6 * rng.normal()
                equity[a] *= 1.0 + 0.0009 * shock
                peaks[a] = max(peaks[a], equity[a])
            if t < steps:
                source.history.append({"at": at, "account_id": a, "equity": equity[a]})
    for a in ids:
        spec = firm.accounts[a].trading_config
        balance = float(firm.accounts[a].account_info.initial_balance) * (1 + rng.normal(0, 0.004))
        risk = equity[a] * spec.risk_per_trade * rng.uniform(0.3, 2.5)
        source.put(AccountReading(
            account_id=a, balance=round(balance, 2), equity=round(equity[a], 2),
            margin=round(equity[a] * rng.uniform(0.02, 0.22), 2), day_start_equity=day_start[a],
            peak_equity=max(peaks[a], day_start[a] * 1.01), open_risk=round(risk, 2),
            connected=a not in disconnected, at=now, open_positions=int(rng.integers(0, 5))))
        symbols = [s for s in spec.specialization if s in firm.symbols.symbols] or sorted(
            s for s, sp in firm.symbols.symbols.items() if sp.is_cross)[:2]
        weights = rng.dirichlet(np.ones(len(symbols)))
        source.exposures.extend({"account_id": a, "symbol": s, "risk": round(risk * w, 2)}
                                for s, w in zip(symbols, weights))
    first = ids[0]
    source.violations.extend([
        EventRow(now - timedelta(minutes=42), Severity.WARNING, f"account:{first}", "max_account_risk",
                 f"MAX_ACCOUNT_RISK: account={first}, measured=0.061, warn_at=0.060, limit=0.075", 0.061, 0.075,
                 "reduce"),
        EventRow(now - timedelta(minutes=7), Severity.WARNING, f"group:{firm.group_of(first)}", "max_group_risk",
                 f"MAX_GROUP_RISK: group={firm.group_of(first)}, measured=0.066, warn_at=0.064, limit=0.080",
                 0.066, 0.08, "reduce"),
    ])
    source.incidents.append(EventRow(now - timedelta(hours=3), Severity.INFO, "firm", "connection_failure",
                                     f"{ids[-1]} terminal reconnected after 2 attempts (closed)"))
    if n >= 2:
        source.transfers.append(TransferRow("rb-1", now - timedelta(minutes=30), ids[-1], ids[0], "25000.00",
                                            firm.master.master_account.currency, "pending",
                                            "daily rebalance: waits for confirmation (live)"))
    source.heartbeats["risk_monitor"] = now - timedelta(seconds=1)
