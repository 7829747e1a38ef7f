"""Route one signal to every eligible account: eligibility, sizing, pre-trade checks, idempotent
client ids, concurrent fan-out through the terminal pool, and a per-account result.

Idempotency: each order's client id is `client_order_id(signal.id, account)`. The `OrderLedger`
reserves it before sending; a replayed or retried signal finds it reserved and opens nothing new
(DUPLICATE). Outcomes of unknown status are recorded as UNKNOWN and never resent here: reconcile
positions and deals first. Rejections are not reserved, so a re-sent signal is re-evaluated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from multiaccount.config.loader import FirmConfig
from multiaccount.domain.clock import Clock
from multiaccount.domain.model import (
    OrderIntent,
    OrderOutcome,
    OrderStatus,
    OrderType,
    Side,
    TradingSignal,
    TradingState,
    client_order_id,
)
from multiaccount.domain.ports import OrderLedger
from multiaccount.risk.calendar import trading_day_start
from multiaccount.risk.market import MarketData
from multiaccount.risk.pretrade import PreTradeChecker, PreTradeContext, Proposal, check_signal
from multiaccount.risk.snapshot import RiskBaseline, RiskSnapshot, build_snapshot
from multiaccount.risk.state import TradingStateService
from multiaccount.routing.eligibility import eligible_accounts
from multiaccount.routing.pool import BrokerPool, positions_list, states_list
from multiaccount.sizing import size_position

log = logging.getLogger(__name__)
SUCCESS = (OrderStatus.FILLED, OrderStatus.PARTIAL, OrderStatus.PLACED)


@dataclass(frozen=True)
class AccountResult:
    account_id: str
    status: OrderStatus
    reason: str = ""
    client_id: str | None = None
    volume: float = 0.0
    requested_volume: float = 0.0
    price: float | None = None
    ticket: int | None = None
    failover_for: tuple[str, ...] = ()
    factors: dict = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    slippage_points: float | None = None  # positive = adverse vs the signal price


@dataclass(frozen=True)
class RoutingReport:
    signal_id: str
    received_at: datetime
    results: list[AccountResult]
    reason: str | None = None  # signal-level rejection

    def by_account(self) -> dict[str, AccountResult]:
        return {r.account_id: r for r in self.results}

    def of_status(self, *status: OrderStatus) -> list[AccountResult]:
        return [r for r in self.results if r.status in status]


def _ms(a: float, b: float) -> float:
    return round((b - a) * 1000.0, 3)


class SignalRouter:
    def __init__(self, firm: FirmConfig, pool: BrokerPool, ledger: OrderLedger, states: TradingStateService,
                 clock: Clock, *, checker: PreTradeChecker | None = None,
                 baseline: Callable[[], RiskBaseline] = RiskBaseline,
                 quotes: Callable[[], Mapping[str, tuple[float, float]]] = dict,
                 is_simulated: Callable[[str], bool] | None = None,
                 trades_today: Callable[[], Mapping[str, int]] | None = None,
                 order_check: Callable[[Proposal], object] | None | bool = True):
        self.firm = firm
        self.pool = pool
        self.ledger = ledger
        self.states = states
        self.clock = clock
        self.checker = checker or PreTradeChecker(firm)
        self.baseline = baseline
        self.quotes = quotes
        self.is_simulated = is_simulated or getattr(pool, "is_simulated", None) or (lambda _a: False)
        self.trades_today = trades_today
        # True: Broker.check through the pool; a callable: custom; None/False: our margin estimate only
        self.order_check = self.broker_order_check if order_check is True else (order_check or None)
        self._fills: dict[tuple[str, str], int] = {}  # (trading day, account) -> fills routed here

    # ---------------------------------------------------------------- helpers
    def _symbol_info(self, symbol: str, account_ids: list[str]):
        """Live `symbol_info` (bid/ask and volume limits) from the first terminal that answers."""
        for acc in account_ids:
            try:
                info = self.pool.call(acc, "symbol_info", symbol)
            except Exception as exc:  # noqa: BLE001 - a broker failure: try the next terminal
                log.warning("symbol_info %s on %s failed: %s", symbol, acc, exc)
                continue
            if info is not None:
                return info
        return None

    def _quote(self, symbol: str, info) -> tuple[float, float] | None:
        q = dict(self.quotes()).get(symbol)
        if q:
            return q
        if info is not None and getattr(info, "bid", 0) > 0 and getattr(info, "ask", 0) > 0:
            return float(info.bid), float(info.ask)
        return None

    @staticmethod
    def _limits(info) -> dict[str, float]:
        return {k: float(getattr(info, k)) for k in ("volume_min", "volume_step", "volume_max")
                if info is not None and getattr(info, k, None)}

    def broker_order_check(self, p: Proposal):
        """order_check through the pool (Broker.check): the server's own margin/volume/stops verdict."""
        intent = OrderIntent(client_id=client_order_id("check", p.account_id), account_id=p.account_id,
                             symbol=p.symbol, side=p.side, volume=p.volume, order_type=p.order_type, price=p.price,
                             sl=p.stop)
        return self.pool.call(p.account_id, "check", intent)

    def _today_counts(self, now: datetime, positions) -> dict[str, int]:
        if self.trades_today is not None:
            return dict(self.trades_today())
        start = trading_day_start(now)
        day = start.isoformat()
        counts: dict[str, int] = {}
        for p in positions:
            if p.opened_at >= start:
                counts[p.account_id] = counts.get(p.account_id, 0) + 1
        for (d, acc), n in self._fills.items():
            if d == day:
                counts[acc] = max(counts.get(acc, 0), n)
        return counts

    # ---------------------------------------------------------------- the verb
    def route(self, signal: TradingSignal, received_at: datetime | None = None) -> RoutingReport:
        t_received = time.perf_counter()
        now = self.clock.now()
        received_at = received_at or now
        states_raw = states_list(self.pool.account_states())
        positions = positions_list(self.pool.positions())
        connected = {s.account_id: s.connected for s in states_raw}
        info = self._symbol_info(signal.symbol, [a for a, ok in connected.items() if ok]) \
            if signal.symbol in self.firm.symbols.symbols else None
        quote = self._quote(signal.symbol, info)
        quotes = dict(self.quotes())
        if quote:
            quotes[signal.symbol] = quote
        market = MarketData.from_config(self.firm.symbols, quotes)
        reason = check_signal(signal, self.firm, market, now)
        if reason is None and quote is None:
            reason = f"NO_QUOTE: signal={signal.id}, symbol={signal.symbol}"
        if reason is not None:
            log.info("signal %s rejected: %s", signal.id, reason)
            return RoutingReport(signal.id, received_at, [], reason)

        snapshot = build_snapshot(self.firm, states_raw, positions, market, baseline=self.baseline(), now=now)
        effective = {a: self.states.effective(a) for a in self.firm.accounts}
        elig = eligible_accounts(self.firm, signal, now, effective, connected, self.is_simulated)
        results: dict[str, AccountResult] = {a: AccountResult(a, OrderStatus.SKIPPED, r)
                                             for a, r in elig.skipped.items()}
        ctx = PreTradeContext(snapshot, now, effective, self._today_counts(now, positions),
                              order_check=self.order_check)
        bid, ask = quote
        price = ask if signal.side is Side.BUY else bid
        entry = signal.entry if signal.order_type is not OrderType.MARKET and signal.entry else price
        limits = self._limits(info)
        intents: list[tuple[OrderIntent, float, tuple[str, ...]]] = []
        for target in elig.targets:
            acc = target.account_id
            cid = client_order_id(signal.id, acc)
            if self.ledger.get(cid) is not None:
                results[acc] = AccountResult(acc, OrderStatus.DUPLICATE, f"DUPLICATE: client_id={cid}", cid,
                                             failover_for=target.failover_for)
                continue
            intent, result = self._prepare(signal, target.account_id, target.failover_for, cid, snapshot, ctx,
                                           market, entry, price, effective[acc], limits, t_received)
            if intent is None:
                results[acc] = result
                continue
            if not self.ledger.reserve(intent, now):
                results[acc] = AccountResult(acc, OrderStatus.DUPLICATE, f"DUPLICATE: client_id={cid}", cid,
                                             failover_for=target.failover_for)
                continue
            intents.append((intent, time.perf_counter(), target.failover_for))

        if intents:
            t_sent = time.perf_counter()
            outcomes = self.pool.send_many([i for i, _, _ in intents])
            t_ack = time.perf_counter()
            by_id = {o.client_id: o for o in outcomes}
            for intent, t_sized, fo in intents:
                outcome = by_id.get(intent.client_id) or OrderOutcome(
                    intent.client_id, intent.account_id, OrderStatus.UNKNOWN, reason="NO_OUTCOME: pool returned none")
                self.ledger.complete(outcome, self.clock.now())
                results[intent.account_id] = self._result(signal, intent, outcome, fo, t_received, t_sized, t_sent,
                                                          t_ack)
                if outcome.status in SUCCESS:
                    key = (trading_day_start(now).isoformat(), intent.account_id)
                    self._fills[key] = self._fills.get(key, 0) + 1
        ordered = [results[a] for a in self.firm.accounts if a in results]
        return RoutingReport(signal.id, received_at, ordered)

    def _prepare(self, signal: TradingSignal, acc: str, failover_for: tuple[str, ...], cid: str,
                 snapshot: RiskSnapshot, ctx: PreTradeContext, market: MarketData, entry: float, price: float,
                 state: TradingState, limits: dict[str, float], t_received: float
                 ) -> tuple[OrderIntent | None, AccountResult | None]:
        i = snapshot.account_index[acc]
        group = self.firm.group_of(acc)
        rho = self._correlation(signal, acc, ctx)
        sized = size_position(
            self.firm, acc, symbol=signal.symbol, side=signal.side, entry=entry, stop=signal.stop,
            strategy=signal.strategy, equity=float(snapshot.equity[i]),
            value_per_price_unit=market.value_per_price_unit(signal.symbol, snapshot.firm_currency), state=state,
            correlation=rho, drawdown=float(snapshot.account_drawdown[i]),
            group_equity=float(snapshot.group_equity[snapshot.group_index[group]]),
            firm_equity=snapshot.firm_equity, **limits)
        if not sized.ok:
            return None, AccountResult(acc, OrderStatus.REJECTED, sized.reason or "ZERO_SIZE", cid,
                                       failover_for=failover_for, factors=sized.factors)
        proposal = Proposal(acc, signal.symbol, signal.side, sized.volume, entry, signal.stop,
                            signal_price=signal.entry, order_type=signal.order_type)
        reason = self.checker.accept(proposal, ctx)
        if reason is not None:
            return None, AccountResult(acc, OrderStatus.REJECTED, reason, cid, requested_volume=sized.volume,
                                       failover_for=failover_for, factors=sized.factors)
        rm = self.firm.accounts[acc].risk_management
        tp = signal.take_profit
        if tp is None:
            ratio = signal.take_profit_ratio or rm.take_profit_ratio
            tp = round(entry + signal.side.sign * ratio * abs(entry - signal.stop), self.firm.symbol(signal.symbol).digits)
        intent = OrderIntent(
            client_id=cid, account_id=acc, symbol=signal.symbol, side=signal.side, volume=sized.volume,
            order_type=signal.order_type, price=entry if signal.order_type is not OrderType.MARKET else price,
            sl=signal.stop, tp=tp, deviation=rm.max_slippage, signal_id=signal.id,
            factors={**sized.factors, "correlation_rho": rho, "trading_state": state.value,
                     "failover_for": ",".join(failover_for), "sized_ms": _ms(t_received, time.perf_counter())})
        return intent, None

    def _correlation(self, signal: TradingSignal, acc: str, ctx: PreTradeContext) -> float:
        """Correlation of the new trade with the account's group exposure (0 when the group is flat)."""
        import math

        s = ctx.snapshot
        r = self.checker._group_exposure(self.firm.group_of(acc), ctx).copy()
        k = s.symbol_index[signal.symbol]
        r[k] = 0.0
        var = float(r @ s.symbol_corr @ r)
        return signal.side.sign * float(s.symbol_corr[k] @ r) / math.sqrt(var) if var > 0 else 0.0

    def _result(self, signal: TradingSignal, intent: OrderIntent, outcome: OrderOutcome, failover_for,
                t_received: float, t_sized: float, t_sent: float, t_ack: float) -> AccountResult:
        ref = signal.entry if signal.entry is not None else intent.price
        slip = None
        if outcome.price and ref:
            slip = round((outcome.price - ref) * intent.side.sign / self.firm.symbol(intent.symbol).point, 2)
        ack_ms = outcome.latency_ms if outcome.latency_ms is not None else _ms(t_sent, t_ack)
        latency = {"received_to_sized": _ms(t_received, t_sized), "sized_to_sent": _ms(t_sized, t_sent),
                   "sent_to_acknowledged": round(ack_ms, 3), "total": _ms(t_received, t_ack)}
        return AccountResult(intent.account_id, outcome.status, outcome.reason, intent.client_id, outcome.volume,
                             intent.volume, outcome.price, outcome.ticket, failover_for, intent.factors, latency, slip)
