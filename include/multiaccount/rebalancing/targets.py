"""Target capital per group and per account, and drift from it.

Group target = firm equity x the group's `allocation_percentage`. Inside a group the target splits
equally over every listed account, standby backups included (a backup must be funded to take over),
unless the caller passes weights. Targets are whole cents and sum exactly to firm equity (largest
remainder), so a plan that reaches them moves no money in or out of the firm.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal

from multiaccount.config import FirmConfig
from multiaccount.rebalancing.model import CENT, AccountCapital


def largest_remainder(total: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Split `total` (cents) in proportion to `weights`; the pieces sum exactly to `total`."""
    wsum = sum(weights.values(), Decimal(0))
    if wsum <= 0:
        raise ValueError("weights must sum to a positive number")
    raw = {k: total * w / wsum for k, w in weights.items()}
    floor = {k: v.quantize(CENT, rounding=ROUND_DOWN) for k, v in raw.items()}
    left = int(((total - sum(floor.values(), Decimal(0))) / CENT).to_integral_value())
    order = sorted(raw, key=lambda k: (-(raw[k] - floor[k]), k))
    for k in order[:left]:
        floor[k] += CENT
    return floor


def group_targets(firm: FirmConfig, firm_equity: Decimal) -> dict[str, Decimal]:
    weights = {g: Decimal(str(firm.group_limits(g).allocation_percentage)) for g in firm.groups}
    return largest_remainder(firm_equity.quantize(CENT), weights)


def account_targets(firm: FirmConfig, capital: Mapping[str, AccountCapital],
                    account_weights: Mapping[str, Decimal | float] | None = None) -> dict[str, Decimal]:
    """Target equity per account. `account_weights` (optional) sets relative shares inside a group."""
    firm_equity = sum((capital[a].equity for a in firm.accounts if a in capital), Decimal(0)).quantize(CENT)
    out: dict[str, Decimal] = {}
    for group, target in group_targets(firm, firm_equity).items():
        members = firm.accounts_in(group)
        w = {a: Decimal(str((account_weights or {}).get(a, 1))) for a in members}
        out.update(largest_remainder(target, w))
    return out


def drift(actual: Decimal, target: Decimal) -> float:
    """|actual - target| / target; an unfunded target with money on it counts as infinite drift."""
    if target <= 0:
        return 0.0 if actual <= 0 else float("inf")
    return float(abs(actual - target) / target)


def drifts(capital: Mapping[str, AccountCapital], targets: Mapping[str, Decimal]) -> dict[str, float]:
    return {a: drift(capital[a].equity if a in capital else Decimal(0), t) for a, t in targets.items()}


def group_drifts(firm: FirmConfig, capital: Mapping[str, AccountCapital],
                 targets: Mapping[str, Decimal]) -> dict[str, float]:
    out = {}
    for g in firm.groups:
        members = firm.accounts_in(g)
        actual = sum((capital[a].equity for a in members if a in capital), Decimal(0))
        out[g] = drift(actual, sum((targets[a] for a in members), Decimal(0)))
    return out
