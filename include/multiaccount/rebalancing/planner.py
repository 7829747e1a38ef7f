"""Transfer planning: greedy largest surplus to largest deficit, with margin and minimum-size rules.

Let e_i = equity_i - target_i (targets sum to firm equity, so the e_i sum to 0), m = `min_transfer`,
cap_i = what may leave account i without going under margin x (1 + buffer) (`AccountCapital.capacity`).
Each step takes the largest sendable surplus s (min of surplus and remaining capacity) and the largest
deficit d:
1. min(s, d) >= m: move min(s, d); the smaller side is settled.
2. one side < m <= the other: move exactly m (the minimum); the small side overshoots its target by
   less than m and is settled. A source that cannot send m (capacity) is settled where it is.
3. both < m: stop; every remaining gap is below m.

Properties (tested with hypothesis in tests/rebalancing/test_planner_properties.py):
- money is conserved: each transfer debits one account and credits another by the same amount;
- no account sends more than its capacity, so none goes under margin x (1 + buffer);
- no transfer is below m;
- at most n - 1 transfers: every transfer settles at least one account, and a pair never repeats;
- feasible (every account above target has cap_i >= e_i + m): afterwards every |e_i| < m. Proof:
  settled accounts sit at 0 or overshoot by < m; when one list empties, the other's remaining sum
  equals the overshoots of the opposite kind, which only happen once every gap on that side is < m.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from multiaccount.rebalancing.model import (
    AccountCapital,
    RiskReduction,
    Transfer,
    TransferPlan,
    cents,
    transfer_id,
)
from multiaccount.rebalancing.targets import largest_remainder, drifts

log = logging.getLogger(__name__)


def greedy_transfers(capital: Mapping[str, AccountCapital], targets: Mapping[str, Decimal], plan_key: str,
                     min_transfer: Decimal, margin_buffer: float) -> tuple[list[Transfer], list[str]]:
    """The transfers and the shortfalls (coded reasons a gap stays open). Deterministic: ties by id."""
    m = cents(min_transfer) if min_transfer > 0 else Decimal("0.01")
    surplus: dict[str, Decimal] = {}
    deficit: dict[str, Decimal] = {}
    cap: dict[str, Decimal] = {}
    for acc, target in targets.items():
        c = capital[acc]
        e = c.equity - target
        if e > 0:
            surplus[acc] = e
            cap[acc] = c.capacity(margin_buffer)
        elif e < 0:
            deficit[acc] = -e
    live = {a: capital[a].live for a in capital}
    transfers: list[Transfer] = []
    shortfalls: list[str] = []

    def settle_source(acc: str, why: str | None = None) -> None:
        left = surplus.pop(acc)
        if why and left >= m:
            shortfalls.append(f"{why}: account={acc}, surplus={left}, capacity={cap[acc]}")

    def send(src: str, dst: str, amount: Decimal) -> None:
        transfers.append(Transfer(transfer_id(plan_key, src, dst), src, dst, amount, live[src] or live[dst]))
        surplus[src] -= amount
        cap[src] -= amount
        deficit[dst] -= amount

    while surplus and deficit:
        src = max(surplus, key=lambda a: (min(surplus[a], cap[a]), a))
        dst = max(deficit, key=lambda a: (deficit[a], a))
        s = min(surplus[src], cap[src])
        d = deficit[dst]
        if s <= 0:
            settle_source(src, "MARGIN_CAPACITY")
            continue
        amount = min(s, d)
        if amount >= m:
            send(src, dst, amount)
        elif d >= m:  # the source's sendable part is below the minimum
            if cap[src] >= m:
                send(src, dst, m)
                surplus.pop(src)
            else:
                settle_source(src, "MARGIN_CAPACITY")
            continue
        elif s >= m:  # the deficit is below the minimum: send the minimum, overshooting it
            send(src, dst, m)
            deficit.pop(dst)
            if surplus[src] <= 0 or cap[src] <= 0:
                settle_source(src, "MARGIN_CAPACITY" if surplus[src] > 0 else None)
            continue
        else:
            break
        if deficit[dst] <= 0:
            deficit.pop(dst)
        if surplus[src] <= 0:
            surplus.pop(src)
        elif cap[src] <= 0:
            settle_source(src, "MARGIN_CAPACITY")
    for acc, d in sorted(deficit.items()):
        if d >= m:
            shortfalls.append(f"UNFUNDED_DEFICIT: account={acc}, deficit={d}")
    return transfers, shortfalls


def pool_targets(capital: Mapping[str, AccountCapital], targets: Mapping[str, Decimal],
                 pool_of: Callable[[str], str]) -> dict[str, Decimal]:
    """Targets rescaled so each pool's targets sum to the pool's own equity.

    Money cannot move between pools (a paper research account cannot fund a live one), so inside each
    pool the allocation shares are kept and the total is what the pool holds.
    """
    out: dict[str, Decimal] = {}
    for pool in sorted({pool_of(a) for a in targets}):
        members = {a: t for a, t in targets.items() if pool_of(a) == pool}
        equity = sum((capital[a].equity for a in members), Decimal(0))
        if sum(members.values(), Decimal(0)) <= 0:
            out.update({a: capital[a].equity for a in members})
        else:
            out.update(largest_remainder(equity.quantize(Decimal("0.01")), members))
    return out


def plan_transfers(capital: Mapping[str, AccountCapital], targets: Mapping[str, Decimal], *, plan_key: str,
                   created_at: datetime, min_transfer: Decimal, margin_buffer: float, threshold: float,
                   force: bool = False, reason: str = "rebalance",
                   pool_of: Callable[[str], str] | None = None) -> TransferPlan:
    """A plan toward `targets`. Without `force`, transfers are planned only when some account's drift
    exceeds `threshold` (`master.master_account.rebalance_threshold`). With `pool_of`, accounts of
    different pools (e.g. live and paper) never exchange money; targets are rescaled per pool."""
    allocation = dict(targets)
    if pool_of is not None:
        targets = pool_targets(capital, targets, pool_of)
    d = drifts(capital, targets)
    max_drift = max(d.values(), default=0.0)
    needed = max_drift > threshold
    transfers: list[Transfer] = []
    shortfalls: list[str] = []
    if needed or force:
        pools = sorted({pool_of(a) for a in targets}) if pool_of is not None else [None]
        for pool in pools:
            members = {a: t for a, t in targets.items() if pool is None or pool_of(a) == pool}
            ts, sf = greedy_transfers(capital, members, plan_key, min_transfer, margin_buffer)
            transfers += ts
            shortfalls += sf
    plan = TransferPlan(
        plan_key=plan_key, created_at=created_at, targets=dict(targets),
        before={a: capital[a].equity for a in targets}, transfers=tuple(transfers), drift=d, max_drift=max_drift,
        threshold=threshold, needed=needed, min_transfer=cents(min_transfer), margin_buffer=margin_buffer,
        shortfalls=tuple(shortfalls), reason=reason,
        extra={"allocation_targets": allocation} if pool_of is not None else {})
    log.info("rebalance plan %s: max_drift=%.4f threshold=%.4f transfers=%d moved=%s shortfalls=%d",
             plan_key, max_drift, threshold, len(transfers), plan.total_moved, len(shortfalls))
    return plan


def after_reductions(capital: Mapping[str, AccountCapital],
                     reductions: Iterable[RiskReduction]) -> dict[str, AccountCapital]:
    """Capital as it will be once the reductions are done: their margin is released (never below 0)."""
    out = dict(capital)
    for r in reductions:
        c = out[r.account_id]
        out[r.account_id] = replace(c, margin=max(Decimal(0), c.margin - r.margin_released))
    return out


def plan_emergency(capital: Mapping[str, AccountCapital], targets: Mapping[str, Decimal],
                   reductions: Sequence[RiskReduction], *, plan_key: str, created_at: datetime,
                   min_transfer: Decimal, margin_buffer: float,
                   pool_of: Callable[[str], str] | None = None) -> TransferPlan:
    """Emergency rebalance: risk reductions first, then transfers planned on the margin they free.

    Always plans (no drift threshold). The executor runs every reduction before any transfer and skips
    transfers out of an account whose reductions failed, since their capacity assumed them done.
    """
    reduced = after_reductions(capital, reductions)
    plan = plan_transfers(reduced, targets, plan_key=plan_key, created_at=created_at, min_transfer=min_transfer,
                          margin_buffer=margin_buffer, threshold=0.0, force=True, reason="emergency",
                          pool_of=pool_of)
    return replace(plan, reductions=tuple(reductions))
