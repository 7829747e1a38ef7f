"""Position lifecycle rules: what must happen to open positions as time passes.

Pure functions of (config, positions, market, now, throttle state) returning `LifecycleAction`s; the
realtime service applies them every few seconds and the end-of-day procedure at the rollover.
Rules, each with a reason code:

- `MISSING_STOP` / `MISSING_TP`: a position without a stop gets one (fixed: the fallback stop
  distance; dynamic: ATR x `DYNAMIC_STOP_ATR_MULTIPLE`), one without a take profit gets
  `take_profit_ratio` x stop distance. No position is left without a stop.
- `TRAILING_STOP`: accounts with `trailing_stop` trail at the position's initial stop distance,
  only ever tightening, only when the stop improves by at least `TRAIL_MIN_STEP` of that distance,
  at most once per `TRAIL_THROTTLE` per position (the broker is not flooded).
- `HOLDING_PERIOD`: positions older than the account's `max_holding_period` (else the group's
  `position_duration`) are closed.
- `INTRADAY_FLAT`: groups configured `intraday` close everything in the `ROLLOVER_LEAD` before
  17:00 New York.
- `WEEKEND_FLAT` / `WEEKEND_REDUCE`: in the `WEEKEND_LEAD` before the Friday close, groups with
  `weekend_exposure` flat close everything, reduce halve each position (rounded to the volume step).
- `NEWS_TIGHTEN`: with `news_based_stops`, inside the window before a high-impact event of one of
  the symbol's currencies (news calendar), a stop further than `NEWS_STOP_ATR_MULTIPLE` x ATR from
  the market is tightened to that distance (never loosened; stable from tick to tick), so a news
  spike costs at most a fraction of a normal day's range. Positions are kept, not closed: closing every position
  before each release would churn the book.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from multiaccount.config import FirmConfig
from multiaccount.domain import Position, Side
from multiaccount.risk.calendar import NEW_YORK, news_blackout, next_rollover
from multiaccount.risk.market import MarketData

DYNAMIC_STOP_ATR_MULTIPLE = 1.5
TRAIL_MIN_STEP = 0.25
TRAIL_THROTTLE = timedelta(seconds=30)
ROLLOVER_LEAD = timedelta(minutes=15)
WEEKEND_LEAD = timedelta(minutes=30)
NEWS_STOP_ATR_MULTIPLE = 0.5


class ActionKind(StrEnum):
    MODIFY = "modify"  # TRADE_ACTION_SLTP
    CLOSE = "close"  # full close
    REDUCE = "reduce"  # partial close of `volume`


@dataclass(frozen=True)
class LifecycleAction:
    kind: ActionKind
    account_id: str
    ticket: int
    symbol: str
    reason: str  # machine-readable code with numbers
    sl: float | None = None
    tp: float | None = None
    volume: float | None = None

    @property
    def code(self) -> str:
        return self.reason.split(":", 1)[0]


def take_profit_from_ratio(entry: float, stop: float, side: Side, ratio: float) -> float:
    """TP at `ratio` x the stop distance on the profit side of entry."""
    return entry + side.sign * abs(entry - stop) * ratio


def initial_stop(firm: FirmConfig, account_id: str, symbol: str, side: Side, entry: float,
                 market: MarketData) -> float:
    """Stop for a position that has none: dynamic = ATR x 1.5; fixed = the configured fallback ATR multiple."""
    rm = firm.accounts[account_id].risk_management
    multiple = (DYNAMIC_STOP_ATR_MULTIPLE if rm.stop_loss_type == "dynamic"
                else firm.master.risk_controls.fallback_stop_atr_multiple)
    return entry - side.sign * market.daily_range(symbol) * multiple


def _round(price: float, digits: int) -> float:
    return round(price, digits)


def _max_holding(firm: FirmConfig, account_id: str) -> timedelta | None:
    own = firm.accounts[account_id].trading_config.max_holding
    return own if own is not None else firm.group_limits(firm.group_of(account_id)).max_holding


def _friday_close(now: datetime) -> datetime | None:
    """The Friday 17:00 New York close of the current FX week when `now` is on that Friday, else None."""
    local = now.astimezone(NEW_YORK)
    if local.weekday() != 4:
        return None
    return next_rollover(now)


def _volume_down(volume: float, step: float) -> float:
    return math.floor(volume / step + 1e-9) * step


def plan_lifecycle(firm: FirmConfig, positions: Mapping[str, list[Position]], market: MarketData, now: datetime,
                   last_trail: Mapping[int, datetime] | None = None) -> list[LifecycleAction]:
    """Every action the rules demand now; at most one action per position (closing wins over modifying)."""
    last_trail = last_trail or {}
    actions: list[LifecycleAction] = []
    rollover = next_rollover(now)
    friday_close = _friday_close(now)
    for account_id, plist in positions.items():
        if account_id not in firm.accounts:
            continue
        group_name = firm.group_of(account_id)
        group = firm.groups[group_name]
        acc = firm.accounts[account_id]
        holding = _max_holding(firm, account_id)
        for p in plist:
            spec = firm.symbols.symbols.get(p.symbol)
            digits = spec.digits if spec else 5
            age = now - p.opened_at
            if holding is not None and age >= holding:
                actions.append(LifecycleAction(ActionKind.CLOSE, account_id, p.ticket, p.symbol,
                                               f"HOLDING_PERIOD: age={age}, limit={holding}"))
                continue
            if group.intraday and rollover - now <= ROLLOVER_LEAD:
                actions.append(LifecycleAction(ActionKind.CLOSE, account_id, p.ticket, p.symbol,
                                               f"INTRADAY_FLAT: group={group_name}, rollover={rollover.isoformat()}"))
                continue
            if friday_close is not None and friday_close - now <= WEEKEND_LEAD:
                if group.weekend_exposure == "flat":
                    actions.append(LifecycleAction(ActionKind.CLOSE, account_id, p.ticket, p.symbol,
                                                   f"WEEKEND_FLAT: group={group_name}"))
                    continue
                if group.weekend_exposure == "reduce" and spec is not None:
                    half = _volume_down(p.volume / 2, spec.volume_step)
                    if half >= spec.volume_min:
                        actions.append(LifecycleAction(ActionKind.REDUCE, account_id, p.ticket, p.symbol,
                                                       f"WEEKEND_REDUCE: group={group_name}, volume={half}",
                                                       volume=half))
                        continue
            if spec is None:
                continue
            sl, tp = p.sl, p.tp
            reasons = []
            if not sl:
                sl = _round(initial_stop(firm, account_id, p.symbol, p.side, p.price_open, market), digits)
                reasons.append(f"MISSING_STOP: sl={sl}")
            if not tp:
                tp = _round(take_profit_from_ratio(p.price_open, sl, p.side, acc.risk_management.take_profit_ratio),
                            digits)
                reasons.append(f"MISSING_TP: tp={tp}")
            if not reasons and firm.master.risk_controls.news_based_stops:
                event = news_blackout(spec, firm.news, now)
                tightened = (_news_tighten(p, market, digits) if event is not None and now <= event.time
                             else None)
                if tightened is not None:
                    sl = tightened
                    reasons.append(f"NEWS_TIGHTEN: event={event.currency} {event.title} at "
                                   f"{event.time.isoformat()}, from={p.sl}, to={sl}")
            if not reasons and acc.risk_management.trailing_stop:
                trailed = _trail(p, market, now, last_trail.get(p.ticket), digits)
                if trailed is not None:
                    sl = trailed
                    reasons.append(f"TRAILING_STOP: from={p.sl}, to={sl}")
            if reasons:
                actions.append(LifecycleAction(ActionKind.MODIFY, account_id, p.ticket, p.symbol, "; ".join(reasons),
                                               sl=sl, tp=tp))
    return actions


def _news_tighten(p: Position, market: MarketData, digits: int) -> float | None:
    """A stop at NEWS_STOP_ATR_MULTIPLE x ATR behind the market, if that is tighter than the current one."""
    if p.sl is None:
        return None
    distance = market.daily_range(p.symbol) * NEWS_STOP_ATR_MULTIPLE
    bid, ask = market.bid_ask(p.symbol)
    exit_price = bid if p.side is Side.BUY else ask
    candidate = _round(exit_price - p.side.sign * distance, digits)
    return candidate if (candidate - p.sl) * p.side.sign > 0 else None


def _trail(p: Position, market: MarketData, now: datetime, last: datetime | None, digits: int) -> float | None:
    """New, tighter stop at the initial distance behind the market, or None (never loosens, throttled)."""
    if p.sl is None or (last is not None and now - last < TRAIL_THROTTLE):
        return None
    distance = abs(p.price_open - p.sl)
    if distance <= 0:
        return None
    bid, ask = market.bid_ask(p.symbol)
    exit_price = bid if p.side is Side.BUY else ask
    candidate = _round(exit_price - p.side.sign * distance, digits)
    improvement = (candidate - p.sl) * p.side.sign
    if improvement < TRAIL_MIN_STEP * distance:
        return None
    return candidate
