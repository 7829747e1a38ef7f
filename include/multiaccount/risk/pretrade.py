"""Pre-trade checks in the DESIGN order, short-circuiting at the first failure.

Order: state, session/active hours, news, account/group/total risk after the trade, correlation,
daily trades, concurrent trades, margin (order_check), slippage. Each check returns None or a
machine-readable reason that starts with an upper-case code and carries the numbers, e.g.
`MAX_GROUP_RISK: group=high_frequency, after=0.083, limit=0.080`. A rejection is a result, never an
exception. A `PendingRisk` overlay carries the trades already accepted in the same fan-out, so four
accounts that each fit alone cannot breach their group's limit together.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from multiaccount.config.loader import FirmConfig
from multiaccount.domain.model import OrderType, Side, TradingSignal, TradingState
from multiaccount.risk.calendar import active_hours_open, any_session_open, fx_market_open, news_blackout, \
    trading_date
from multiaccount.risk.market import MarketData
from multiaccount.risk.snapshot import RiskSnapshot

ReducingPolicy = Literal["half_size", "reduce_only"]
OrderCheck = Callable[["Proposal"], Any]


@dataclass(frozen=True)
class Proposal:
    """One order to check: who, what, how much, at what price and stop."""

    account_id: str
    symbol: str
    side: Side
    volume: float
    price: float  # expected execution price
    stop: float
    reduce_only: bool = False
    signal_price: float | None = None  # the signal's entry, for the slippage check
    order_type: OrderType = OrderType.MARKET


@dataclass
class PendingRisk:
    """Risk accepted earlier in the same fan-out (not yet in the snapshot)."""

    account_risk: dict[str, float] = field(default_factory=dict)
    group_risk: dict[str, float] = field(default_factory=dict)
    firm_risk: float = 0.0
    account_margin: dict[str, float] = field(default_factory=dict)
    account_trades: dict[str, int] = field(default_factory=dict)
    currency_risk: dict[str, float] = field(default_factory=dict)
    symbol_risk: dict[str, float] = field(default_factory=dict)  # signed
    symbol_gross: dict[str, float] = field(default_factory=dict)

    def add(self, p: Proposal, group: str, risk: float, margin: float, base: str, quote: str) -> None:
        s = p.side.sign
        self.account_risk[p.account_id] = self.account_risk.get(p.account_id, 0.0) + risk
        self.group_risk[group] = self.group_risk.get(group, 0.0) + risk
        self.firm_risk += risk
        self.account_margin[p.account_id] = self.account_margin.get(p.account_id, 0.0) + margin
        self.account_trades[p.account_id] = self.account_trades.get(p.account_id, 0) + 1
        self.currency_risk[base] = self.currency_risk.get(base, 0.0) + s * risk
        self.currency_risk[quote] = self.currency_risk.get(quote, 0.0) - s * risk
        self.symbol_risk[p.symbol] = self.symbol_risk.get(p.symbol, 0.0) + s * risk
        self.symbol_gross[p.symbol] = self.symbol_gross.get(p.symbol, 0.0) + risk


@dataclass
class PreTradeContext:
    snapshot: RiskSnapshot
    now: datetime
    states: Mapping[str, TradingState]  # effective state per account
    trades_today: Mapping[str, int] = field(default_factory=dict)
    order_check: OrderCheck | None = None
    pending: PendingRisk = field(default_factory=PendingRisk)
    group_position_risk: dict[str, np.ndarray] = field(default_factory=dict)  # cache: signed risk per symbol


def trade_risk(market: MarketData, p: Proposal, ccy: str = "USD") -> float:
    """Loss in firm currency if the stop is hit from the expected execution price."""
    return p.volume * market.value_per_price_unit(p.symbol, ccy) * abs(p.price - p.stop)


def trade_margin(firm: FirmConfig, market: MarketData, p: Proposal, ccy: str = "USD", leverage: int | None = None
                 ) -> float:
    spec = market.spec(p.symbol)
    return p.volume * spec.contract_size * market.rate(spec.base, ccy) / (leverage or firm.symbols.leverage)


def check_signal(signal: TradingSignal, firm: FirmConfig, market: MarketData, now: datetime) -> str | None:
    """Signal-level validation before any account is considered."""
    if signal.expires is not None and signal.expires <= now:
        return f"SIGNAL_EXPIRED: signal={signal.id}, expires={signal.expires.isoformat()}, now={now.isoformat()}"
    if signal.symbol not in firm.symbols.symbols:
        return f"UNKNOWN_SYMBOL: signal={signal.id}, symbol={signal.symbol}"
    for name in ("stop", "entry", "take_profit"):
        v = getattr(signal, name)
        if v is not None and not (math.isfinite(v) and v > 0):
            return f"INVALID_PRICE: signal={signal.id}, field={name}, value={v}"
    bid, ask = market.bid_ask(signal.symbol)
    ref = signal.entry if signal.entry is not None else (ask if signal.side is Side.BUY else bid)
    if (ref - signal.stop) * signal.side.sign <= 0:
        return f"INVALID_STOP: signal={signal.id}, side={signal.side.value}, stop={signal.stop}, price={ref}"
    spec = firm.symbol(signal.symbol)
    distance_points = abs(ref - signal.stop) / spec.point
    if distance_points < spec.trade_stops_level:
        return f"STOP_TOO_CLOSE: signal={signal.id}, points={distance_points:.0f}, min={spec.trade_stops_level}"
    return None


def order_check_reason(account_id: str, result: Any) -> str | None:
    """The broker's `order_check` verdict as a coded reason (None = accepted).

    `result` is what the check returned (an `OrderOutcome`, an MT5 `OrderCheckResult`, None) or the
    exception it raised; a broker failure is a recorded rejection, not a crash. Shared by the
    in-line check below and the router's concurrent check, so both word a refusal the same way."""
    if isinstance(result, BaseException):
        return f"MARGIN_CHECK: account={account_id}, error={type(result).__name__}: {result}"
    code = getattr(result, "retcode", 0) if result is not None else 0
    status = str(getattr(result, "status", ""))
    if status in ("rejected", "unknown") or code not in (0, 10009, None):
        comment = getattr(result, "reason", "") or getattr(result, "comment", "")
        return f"MARGIN_CHECK: account={account_id}, retcode={code}, comment={comment}"
    return None


class PreTradeChecker:
    """Fixed-order checks (Nautilus idiom). `check` returns None (accepted) or the first reason."""

    ORDER = ("state", "session", "news", "account_risk", "group_risk", "total_risk", "correlation",
             "daily_trades", "concurrent_trades", "margin", "slippage")

    def __init__(self, firm: FirmConfig, reducing_policy: ReducingPolicy = "half_size"):
        self.firm = firm
        self.reducing_policy = reducing_policy
        self._checks = [getattr(self, f"_check_{n}") for n in self.ORDER]
        self.ccy = firm.master.master_account.currency

    def check(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        if p.reduce_only:  # closing risk is always allowed, even HALTED
            return None
        for fn in self._checks:
            reason = fn(p, ctx)
            if reason is not None:
                return reason
        return None

    def accept(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        """Check and, when accepted, add the trade to the fan-out's pending risk."""
        reason = self.check(p, ctx)
        if reason is None and not p.reduce_only:
            m = ctx.snapshot.market
            spec = m.spec(p.symbol)
            ctx.pending.add(p, self.firm.group_of(p.account_id), trade_risk(m, p, self.ccy),
                            trade_margin(self.firm, m, p, self.ccy), spec.base, spec.quote)
        return reason

    # ---------------------------------------------------------------- checks, in order
    def _check_state(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        state = ctx.states.get(p.account_id, TradingState.ACTIVE)
        if state is TradingState.HALTED:
            return f"STATE_HALTED: account={p.account_id}, state=HALTED"
        if state is TradingState.REDUCING and self.reducing_policy == "reduce_only":
            return f"STATE_REDUCING: account={p.account_id}, state=REDUCING, reduce_only=false"
        # limits already breached this read block new risk even before the debounced state change
        s, rc, ma = ctx.snapshot, self.firm.master.risk_controls, self.firm.master.master_account
        i = s.account_index[p.account_id]
        j = int(s.account_group[i])
        for label, value, limit, code in (
                (f"account={p.account_id}", s.account_daily_loss[i], ma.max_daily_loss, "MAX_DAILY_LOSS"),
                (f"group={s.group_ids[j]}", s.group_daily_loss[j], ma.max_daily_loss, "MAX_DAILY_LOSS"),
                ("firm", s.firm_daily_loss, ma.max_daily_loss, "MAX_DAILY_LOSS"),
                (f"account={p.account_id}", s.account_drawdown[i], rc.max_drawdown_per_account, "MAX_DRAWDOWN"),
                ("firm", s.firm_drawdown, ma.emergency_stop_threshold, "EMERGENCY_STOP")):
            if value >= limit:
                return f"{code}: {label}, measured={value:.3f}, limit={limit:.3f}"
        return None

    def _check_session(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        now = ctx.now
        sessions = self.firm.sessions
        if not fx_market_open(now, sessions):
            day = trading_date(now).isoformat()
            what = f"holiday={day}" if day in sessions.holidays else \
                f"fx_week={sessions.fx_week.open}-{sessions.fx_week.close} {sessions.fx_week.timezone}"
            return f"MARKET_CLOSED: now={now.isoformat()}, {what}"
        names = self.firm.accounts[p.account_id].trading_config.trading_sessions
        if not any_session_open(sessions, names, now):
            return f"OUTSIDE_SESSION: account={p.account_id}, sessions={','.join(names)}, now={now.isoformat()}"
        group = self.firm.group_of(p.account_id)
        limits = self.firm.group_limits(group)
        if not active_hours_open(limits, now):
            return (f"OUTSIDE_ACTIVE_HOURS: group={group}, hours={','.join(limits.active_hours or [])} "
                    f"{limits.active_hours_timezone}, now={now.isoformat()}")
        return None

    def _check_news(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        if not self.firm.accounts[p.account_id].risk_management.news_filter:
            return None
        ev = news_blackout(self.firm.symbol(p.symbol), self.firm.news, ctx.now)
        if ev is None:
            return None
        return (f"NEWS_WINDOW: symbol={p.symbol}, event={ev.title} ({ev.currency}) at {ev.time.isoformat()}, "
                f"window=-{self.firm.news.window_before_minutes}/+{self.firm.news.window_after_minutes}min")

    def _new_risk(self, p: Proposal, ctx: PreTradeContext) -> float:
        return trade_risk(ctx.snapshot.market, p, self.ccy)

    def _check_account_risk(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        s = ctx.snapshot
        i = s.account_index[p.account_id]
        after = (s.account_open_risk[i] + ctx.pending.account_risk.get(p.account_id, 0.0) + self._new_risk(p, ctx))
        ratio = after / s.equity[i] if s.equity[i] > 0 else math.inf
        if ratio > s.account_risk_cap[i]:
            return f"MAX_ACCOUNT_RISK: account={p.account_id}, after={ratio:.3f}, limit={s.account_risk_cap[i]:.3f}"
        return None

    def _check_group_risk(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        s = ctx.snapshot
        group = self.firm.group_of(p.account_id)
        j = s.group_index[group]
        after = s.group_open_risk[j] + ctx.pending.group_risk.get(group, 0.0) + self._new_risk(p, ctx)
        ratio = after / s.group_equity[j] if s.group_equity[j] > 0 else math.inf
        limit = self.firm.group_limits(group).max_group_risk
        if ratio > limit:
            return f"MAX_GROUP_RISK: group={group}, after={ratio:.3f}, limit={limit:.3f}"
        return None

    def _check_total_risk(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        s = ctx.snapshot
        after = s.firm_open_risk + ctx.pending.firm_risk + self._new_risk(p, ctx)
        ratio = after / s.firm_equity if s.firm_equity > 0 else math.inf
        limit = self.firm.master.master_account.max_total_risk
        if ratio > limit:
            return f"MAX_TOTAL_RISK: firm, after={ratio:.3f}, limit={limit:.3f}"
        return None

    def _group_exposure(self, group: str, ctx: PreTradeContext) -> np.ndarray:
        cached = ctx.group_position_risk.get(group)
        if cached is None:
            s = ctx.snapshot
            j = s.group_index[group]
            mask = s.account_group[s.pos_account] == j
            cached = np.zeros(len(s.symbols))
            for k in np.flatnonzero(mask):
                si = s.symbol_index.get(s.pos_symbol[k])
                if si is not None:
                    cached[si] += s.pos_sign[k] * s.pos_risk[k]
            ctx.group_position_risk[group] = cached
        return cached

    def _check_correlation(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        s = ctx.snapshot
        new = self._new_risk(p, ctx)
        spec = self.firm.symbol(p.symbol)
        eq = s.firm_equity
        # (a) correlation of the new trade with the group's existing (and pending) exposure
        if self.firm.master.risk_controls.correlation_monitoring:
            group = self.firm.group_of(p.account_id)
            r = self._group_exposure(group, ctx).copy()
            for sym, v in ctx.pending.symbol_risk.items():  # pending is firm-wide; conservative
                r[s.symbol_index[sym]] += v
            k = s.symbol_index[p.symbol]
            r_other = r.copy()
            r_other[k] = 0.0
            var = float(r_other @ s.symbol_corr @ r_other)
            if var > 0:
                rho = p.side.sign * float(s.symbol_corr[k] @ r_other) / math.sqrt(var)
                cap = self.firm.risk_matrix.new_trade_max_correlation
                if rho > cap:
                    return f"CORRELATION: group={group}, symbol={p.symbol}, corr={rho:.2f}, limit={cap:.2f}"
        if eq <= 0:
            return None
        # (b) currency exposure caps after the trade (currency decomposition)
        for ccy, leg in ((spec.base, 1.0), (spec.quote, -1.0)):
            cap = self.firm.risk_matrix.currency_exposure_caps.get(ccy)
            if cap is None:
                continue
            ci = s.currency_index.get(ccy)
            cur = (float(s.currency_risk[ci]) if ci is not None else 0.0) + ctx.pending.currency_risk.get(ccy, 0.0)
            after = abs(cur + leg * p.side.sign * new) / eq
            if after > cap and after > abs(cur) / eq:
                return f"CURRENCY_EXPOSURE: currency={ccy}, after={after:.3f}, limit={cap:.3f}"
        # (c) correlated symbol blocks
        for block in self.firm.risk_matrix.symbol_correlation_caps:
            if p.symbol in block.symbols:
                gross = sum(float(s.symbol_gross_risk[s.symbol_index[x]]) + ctx.pending.symbol_gross.get(x, 0.0)
                            for x in block.symbols if x in s.symbol_index)
                after = (gross + new) / eq
                if after > block.max_combined_risk:
                    return (f"SYMBOL_BLOCK_RISK: block={block.name}, after={after:.3f}, "
                            f"limit={block.max_combined_risk:.3f}")
        return None

    def _check_daily_trades(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        done = ctx.trades_today.get(p.account_id, 0) + ctx.pending.account_trades.get(p.account_id, 0)
        limit = self.firm.accounts[p.account_id].trading_config.max_daily_trades
        if done >= limit:
            return f"MAX_DAILY_TRADES: account={p.account_id}, today={done}, limit={limit}"
        return None

    def _check_concurrent_trades(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        s = ctx.snapshot
        open_now = int(s.position_count[s.account_index[p.account_id]]) + \
            ctx.pending.account_trades.get(p.account_id, 0)
        limit = self.firm.accounts[p.account_id].trading_config.max_concurrent_trades
        if open_now >= limit:
            return f"MAX_CONCURRENT_TRADES: account={p.account_id}, open={open_now}, limit={limit}"
        return None

    def _check_margin(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        s = ctx.snapshot
        rc = self.firm.master.risk_controls
        i = s.account_index[p.account_id]
        need = trade_margin(self.firm, s.market, p, self.ccy)
        after_margin = s.margin[i] + ctx.pending.account_margin.get(p.account_id, 0.0) + need
        eq = s.equity[i]
        use = after_margin / eq if eq > 0 else math.inf
        if use > rc.margin_call_threshold:
            return f"MARGIN_USE: account={p.account_id}, after={use:.3f}, limit={rc.margin_call_threshold:.3f}"
        level = eq * 100.0 / after_margin if after_margin > 0 else math.inf
        floor = s.margin_so_call[i] * rc.margin_level_buffer
        if level < floor:
            return f"MARGIN_LEVEL: account={p.account_id}, after={level:.1f}, limit={floor:.1f}"
        if ctx.order_check is not None:
            try:
                res = ctx.order_check(p)
            except Exception as exc:  # a broker failure is a recorded rejection, not a crash
                return order_check_reason(p.account_id, exc)
            return order_check_reason(p.account_id, res)
        return None

    def _check_slippage(self, p: Proposal, ctx: PreTradeContext) -> str | None:
        if p.signal_price is None or p.order_type is not OrderType.MARKET:
            return None
        spec = self.firm.symbol(p.symbol)
        adverse = (p.price - p.signal_price) * p.side.sign / spec.point
        limit = self.firm.accounts[p.account_id].risk_management.max_slippage
        if adverse > limit:
            return f"SLIPPAGE: account={p.account_id}, symbol={p.symbol}, points={adverse:.1f}, limit={limit}"
        return None
