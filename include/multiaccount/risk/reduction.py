"""Risk-reduction plans: which positions to cut, and by how much, to bring a measure back within its
limit. Plans are pure (positions are only named); procedures/realtime execute them as reduce-only
close intents (`plan_intents`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from multiaccount.domain.model import OrderIntent, Side, client_order_id
from multiaccount.risk.snapshot import RiskSnapshot, correlation_risk


@dataclass(frozen=True)
class ReductionStep:
    account_id: str
    ticket: int
    symbol: str
    side: Side  # side of the open position
    close_volume: float
    risk_cut: float  # firm currency
    reason: str


def _round_up(x: float, step: float = 0.01) -> float:
    return round(math.ceil(x / step - 1e-9) * step, 8)


def cut_largest_first(snapshot: RiskSnapshot, candidates: np.ndarray, excess: float, reason: str,
                      contribution: np.ndarray | None = None, step: float = 0.01) -> list[ReductionStep]:
    """Cut candidate positions, largest contribution first, until `excess` (firm currency) is gone.
    The last cut may be partial (volume rounded up to the step)."""
    contrib = snapshot.pos_risk if contribution is None else contribution
    steps: list[ReductionStep] = []
    if excess <= 0 or candidates.size == 0:
        return steps
    order = candidates[np.argsort(-contrib[candidates], kind="stable")]
    for p in order:
        c = float(contrib[p])
        if c <= 0:
            break
        vol = float(snapshot.pos_volume[p])
        frac = min(1.0, excess / c)
        close = vol if frac >= 1.0 else min(vol, _round_up(vol * frac, step))
        cut = c * close / vol
        steps.append(ReductionStep(snapshot.account_ids[int(snapshot.pos_account[p])], int(snapshot.pos_ticket[p]),
                                   snapshot.pos_symbol[p], Side.BUY if snapshot.pos_sign[p] > 0 else Side.SELL,
                                   close, cut, reason))
        excess -= cut
        if excess <= 1e-9:
            break
    return steps


def total_risk_plan(snapshot: RiskSnapshot, limit: float, reason: str = "MAX_TOTAL_RISK") -> list[ReductionStep]:
    """Firm open risk back to `limit` x firm equity, largest position risk first (the seed's plan)."""
    excess = snapshot.firm_open_risk - limit * snapshot.firm_equity
    return cut_largest_first(snapshot, np.arange(snapshot.pos_risk.size), excess, reason)


def account_risk_plan(snapshot: RiskSnapshot, account_id: str, target_open_risk: float,
                      reason: str) -> list[ReductionStep]:
    i = snapshot.account_index[account_id]
    excess = float(snapshot.account_open_risk[i]) - target_open_risk
    return cut_largest_first(snapshot, snapshot.positions_of(account_id), excess, reason)


def group_risk_plan(snapshot: RiskSnapshot, group: str, limit: float, reason: str) -> list[ReductionStep]:
    """A group's open risk back to `limit` x group equity, largest position risk in the group first."""
    j = snapshot.group_index[group]
    members = [i for i in range(len(snapshot.account_ids)) if int(snapshot.account_group[i]) == j]
    candidates = np.flatnonzero(np.isin(snapshot.pos_account, members))
    excess = float(snapshot.group_risk[j] * snapshot.group_equity[j]) - limit * float(snapshot.group_equity[j])
    return cut_largest_first(snapshot, candidates, excess, reason)


def currency_plan(snapshot: RiskSnapshot, currency: str, cap: float, reason: str) -> list[ReductionStep]:
    """Cut positions whose leg in `currency` adds to its net side, largest first."""
    k = snapshot.currency_index[currency]
    net = float(snapshot.currency_risk[k])
    excess = abs(net) - cap * snapshot.firm_equity
    layout_leg = np.array([_leg(snapshot, s, currency) for s in snapshot.pos_symbol]) if snapshot.pos_symbol else \
        np.zeros(0)
    contrib = snapshot.pos_sign * layout_leg * snapshot.pos_risk * np.sign(net)
    return cut_largest_first(snapshot, np.flatnonzero(contrib > 0), excess, reason, contribution=contrib)


def _leg(snapshot: RiskSnapshot, symbol: str, currency: str) -> float:
    spec = snapshot.market.symbols.symbols.get(symbol)
    if spec is None:
        return 0.0
    return 1.0 if spec.base == currency else -1.0 if spec.quote == currency else 0.0


def block_plan(snapshot: RiskSnapshot, symbols: tuple[str, ...], cap: float, reason: str) -> list[ReductionStep]:
    members = set(symbols)
    cand = np.array([i for i, s in enumerate(snapshot.pos_symbol) if s in members], dtype=np.int64)
    gross = float(snapshot.pos_risk[cand].sum()) if cand.size else 0.0
    return cut_largest_first(snapshot, cand, gross - cap * snapshot.firm_equity, reason)


def correlated_plan(snapshot: RiskSnapshot, threshold: float, reason: str = "FIRM_CORRELATION"
                    ) -> list[ReductionStep]:
    """Repeatedly drop the symbol exposure contributing most to correlation risk (r_i x sum_j rho_ij r_j),
    cutting its positions on the net side largest first, until correlation risk <= threshold."""
    net = snapshot.symbol_net_risk.copy()
    corr = snapshot.symbol_corr
    steps: list[ReductionStep] = []
    sym_of_pos = np.array([snapshot.symbol_index.get(s, -1) for s in snapshot.pos_symbol], dtype=np.int64)
    while correlation_risk(net, corr) > threshold and np.count_nonzero(net) >= 2:
        off = corr - np.diag(np.diag(corr))
        contribution = net * (off @ net)
        k = int(np.argmax(contribution))
        if contribution[k] <= 0:
            break
        direction = np.sign(net[k])
        cand = np.flatnonzero((sym_of_pos == k) & (snapshot.pos_sign == direction))
        steps.extend(cut_largest_first(snapshot, cand, abs(float(net[k])), f"{reason}: most correlated "
                                       f"{snapshot.symbols[k]}"))
        net[k] = 0.0
    return steps


def plan_intents(steps: list[ReductionStep], plan_id: str) -> list[OrderIntent]:
    """Reduce-only close intents; the client id ties each to the plan so a re-sent plan never doubles."""
    return [OrderIntent(client_id=client_order_id(plan_id, s.account_id, f"close-{s.ticket}-{s.close_volume}"),
                        account_id=s.account_id, symbol=s.symbol, side=s.side.opposite, volume=s.close_volume,
                        position_ticket=s.ticket, reduce_only=True, signal_id=plan_id,
                        factors={"reason": s.reason, "risk_cut": s.risk_cut}) for s in steps]
