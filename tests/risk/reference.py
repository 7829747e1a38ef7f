"""A plain, loop-by-loop reference of the risk snapshot maths, written independently of the
vectorised code, so tests can compare the two."""

from __future__ import annotations

import math


def rate(firm, quotes, frm: str, to: str) -> float:
    if frm == to:
        return 1.0
    for name, s in firm.symbols.symbols.items():
        bid, ask = quotes.get(name, (firm.symbols.reference_prices[name],) * 2)
        mid = (bid + ask) / 2
        if (s.base, s.quote) == (frm, to):
            return mid
        if (s.base, s.quote) == (to, frm):
            return 1 / mid
    return rate(firm, quotes, frm, "USD") * rate(firm, quotes, "USD", to)


def position_risk(firm, quotes, p) -> float:
    spec = firm.symbol(p.symbol)
    bid, ask = quotes[p.symbol]
    close = bid if p.side.value == "buy" else ask
    if p.sl:
        dist = (close - p.sl) if p.side.value == "buy" else (p.sl - close)
    else:
        mid = (bid + ask) / 2
        dist = firm.master.risk_controls.fallback_stop_atr_multiple * mid * spec.annual_volatility / math.sqrt(252)
    dist = max(dist, 0.0)
    return p.volume * spec.contract_size * rate(firm, quotes, spec.quote, "USD") * dist


def reference(firm, states, positions, quotes, day_start, peaks):
    eq = {s.account_id: s.equity for s in states}
    risk = {a: 0.0 for a in firm.accounts}
    ccy: dict[str, float] = {}
    for p in positions:
        r = position_risk(firm, quotes, p)
        risk[p.account_id] += r
        spec = firm.symbol(p.symbol)
        sgn = 1 if p.side.value == "buy" else -1
        ccy[spec.base] = ccy.get(spec.base, 0.0) + sgn * r
        ccy[spec.quote] = ccy.get(spec.quote, 0.0) - sgn * r
    out = {"account_risk": {}, "daily_loss": {}, "drawdown": {}, "group_risk": {}}
    for a in firm.accounts:
        out["account_risk"][a] = risk[a] / eq[a]
        out["daily_loss"][a] = (day_start[a] - eq[a]) / day_start[a]
        out["drawdown"][a] = 1 - eq[a] / max(peaks[a], eq[a])
    for g, d in firm.groups.items():
        out["group_risk"][g] = sum(risk[a] for a in d.accounts) / sum(eq[a] for a in d.accounts)
    out["firm_risk"] = sum(risk.values()) / sum(eq.values())
    out["currency"] = ccy
    return out
