"""Position sizing (the seed's formula), every factor reported for the audit trail.

    size = base x correlation x performance x group allocation x strategy weight x state
    base = equity x risk_per_trade / loss per lot at the stop (account currency)

rounded DOWN to the volume step, capped by `max_position_size` and the symbol's `volume_max`.
Zero (with a reason) when the stop is missing/invalid or the size falls below `volume_min`.

- correlation = 1 - 0.5 x max(0, rho): rho is the new trade's correlation with the group's existing
  exposure (pretrade), so a trade that duplicates the book gets half size; uncorrelated gets full.
- performance = clip(1 - drawdown / max_drawdown_per_account, 0.25, 1): size shrinks as the account
  approaches its drawdown halt.
- group allocation = clip(target group equity / actual group equity, 0.5, 1): an over-allocated
  group (drifted above target) trades smaller until rebalanced; never enlarged.
- strategy weight = strategy_allocation[signal.strategy] (0 when the account does not run it).
- state = 0.5 when the account's effective state is REDUCING (the seed's reduce_risk(account, 0.5)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from multiaccount.config.loader import FirmConfig
from multiaccount.domain.model import Side, TradingState

REDUCING_FACTOR = 0.5


@dataclass(frozen=True)
class SizingResult:
    volume: float
    factors: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # why the volume is zero (coded), None when sized
    risk_amount: float = 0.0  # account-currency loss at the stop for `volume`

    @property
    def ok(self) -> bool:
        return self.volume > 0


def round_down(volume: float, step: float) -> float:
    """Floor to the volume step in decimal, so float noise (0.7 / 0.01 = 69.999...) never loses a step."""
    if volume <= 0 or not math.isfinite(volume):
        return 0.0
    st = Decimal(str(step))
    v = (Decimal(repr(volume)) / st).quantize(Decimal("1e-9")).to_integral_value(rounding=ROUND_FLOOR) * st
    return float(v)


def correlation_adjustment(rho: float) -> float:
    return 1.0 - 0.5 * max(0.0, min(1.0, rho)) if math.isfinite(rho) else 0.5


def performance_adjustment(drawdown: float, max_drawdown: float) -> float:
    if not math.isfinite(drawdown):
        return 0.25
    return min(1.0, max(0.25, 1.0 - max(0.0, drawdown) / max_drawdown))


def group_adjustment(target_equity: float | None, group_equity: float | None) -> float:
    if not target_equity or not group_equity or group_equity <= 0:
        return 1.0
    return min(1.0, max(0.5, target_equity / group_equity))


def size_position(firm: FirmConfig, account_id: str, *, symbol: str, side: Side, entry: float, stop: float | None,
                  strategy: str, equity: float, value_per_price_unit: float, state: TradingState =
                  TradingState.ACTIVE, correlation: float = 0.0, drawdown: float = 0.0,
                  group_equity: float | None = None, firm_equity: float | None = None,
                  volume_max: float | None = None, volume_step: float | None = None,
                  volume_min: float | None = None) -> SizingResult:
    """Size one order for one account. `value_per_price_unit` = account-currency P&L of 1 lot moving
    1.0 in price (`MarketData.value_per_price_unit`). Symbol limits default to symbols.json and are
    overridden by the broker's live `symbol_info` when given."""
    acc = firm.accounts[account_id]
    spec = firm.symbol(symbol)
    step = volume_step or spec.volume_step
    vmin = volume_min or spec.volume_min
    vmax = volume_max or spec.volume_max
    if stop is None or not math.isfinite(stop) or stop <= 0 or not math.isfinite(entry) or entry <= 0:
        return SizingResult(0.0, {}, f"NO_STOP: account={account_id}, stop={stop}")
    distance = (entry - stop) * side.sign
    if distance <= 0:
        return SizingResult(0.0, {}, f"INVALID_STOP: account={account_id}, side={side.value}, entry={entry}, "
                                     f"stop={stop}")
    if equity <= 0 or not math.isfinite(equity):
        return SizingResult(0.0, {}, f"NO_EQUITY: account={account_id}, equity={equity}")
    loss_per_lot = distance * value_per_price_unit
    risk_per_trade = acc.trading_config.risk_per_trade
    group = firm.group_of(account_id)
    target = firm.group_limits(group).allocation_percentage * firm_equity if firm_equity else None
    factors = {
        "equity": equity,
        "risk_per_trade": risk_per_trade,
        "loss_per_lot": loss_per_lot,
        "base": equity * risk_per_trade / loss_per_lot,
        "correlation": correlation_adjustment(correlation),
        "performance": performance_adjustment(drawdown, firm.master.risk_controls.max_drawdown_per_account),
        "group_allocation": group_adjustment(target, group_equity),
        "strategy_weight": float(acc.strategy_allocation.get(strategy, 0.0)),
        "state": REDUCING_FACTOR if state is TradingState.REDUCING else (0.0 if state is TradingState.HALTED else 1.0),
    }
    raw = factors["base"] * factors["correlation"] * factors["performance"] * factors["group_allocation"] * \
        factors["strategy_weight"] * factors["state"]
    cap = min(acc.trading_config.max_position_size, vmax)
    factors["raw"] = raw
    factors["cap"] = cap
    volume = round_down(min(raw, cap), step)
    factors["volume_step"] = step
    if factors["strategy_weight"] <= 0:
        return SizingResult(0.0, factors, f"NO_STRATEGY_WEIGHT: account={account_id}, strategy={strategy}")
    if volume < vmin:
        return SizingResult(0.0, factors, f"BELOW_MIN_VOLUME: account={account_id}, raw={raw:.4f}, min={vmin}")
    return SizingResult(volume, factors, None, volume * loss_per_lot)
