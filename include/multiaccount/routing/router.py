"""Route one signal to every eligible account: eligibility, sizing, pre-trade checks, idempotent
client ids, concurrent fan-out through the terminal pool, and a per-account result.

`route` runs in phases so that the wall time is about one order round trip, whatever the number of
accounts (`benchmarks/bench_risk.py` "route" rows, `benchmarks/bench_realtime.py` "signal in"):

1. read: account states, positions and the symbol's live `symbol_info` in one concurrent pool read;
   quotes are read once per signal. In the realtime service states and positions come from the
   fleet view the 1 Hz monitor keeps (`read_fleet`, `realtime/fleetview.py`): only accounts written
   since its last read are read again, so the read is off the critical path.
2. size and check every eligible account in memory (pure and fast; no broker call per account).
3. reserve every client id in the ledger in ONE statement (`reserve_many`; all or nothing: a failed
   reserve sends nothing).
4. send everything in ONE concurrent fan-out (`pool.send_many`). The broker's own margin check is
   the one at `order_send` (MT5 answers 10019 NO_MONEY there anyway), recorded as REJECTED with its
   retcode. `order_check=True` (or a callable) adds the server's `order_check` before sending, run
   for all accounts concurrently, never one after another.
5. complete every ledger row in ONE statement (`complete_many`), after the acknowledgements.

Idempotency: each order's client id is `client_order_id(signal.id, account)`. The `OrderLedger`
reserves it before sending; a replayed or retried signal finds it reserved and opens nothing new
(DUPLICATE). Outcomes of unknown status are recorded as UNKNOWN and never resent here: reconcile
positions and deals first. Rejections before sending are not reserved, so a re-sent signal is
re-evaluated.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from multiaccount.config.loader import FirmConfig
from multiaccount.domain.clock import Clock
from multiaccount.domain.model import (
    AccountState,
    OrderIntent,
    OrderOutcome,
    OrderStatus,
    OrderType,
    Position,
    Scope,
    Side,
    TradingSignal,
    TradingState,
    client_order_id,
)
from multiaccount.domain.ports import OrderLedger
from multiaccount.risk.calendar import trading_day_start
from multiaccount.risk.market import MarketData
from multiaccount.risk.pretrade import PreTradeChecker, PreTradeContext, Proposal, check_signal, order_check_reason
from multiaccount.risk.snapshot import RiskBaseline, RiskSnapshot, build_snapshot
from multiaccount.risk.state import TradingStateService, most_severe
from multiaccount.routing.eligibility import eligible_accounts
from multiaccount.routing.pool import BrokerPool, positions_list, states_list
from multiaccount.sizing import size_position

log = logging.getLogger(__name__)
SUCCESS = (OrderStatus.FILLED, OrderStatus.PARTIAL, OrderStatus.PLACED)
UnitOfWork = Callable[[], AbstractContextManager[Any]]


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


@dataclass(frozen=True)
class FleetRead:
    """Phase 1: everything routing reads from the terminals for one signal, read once."""

    states: list[AccountState]
    positions: list[Position]
    symbol_info: Any  # live SymbolInfo of the signal's symbol (bid/ask, volume limits) or None
    trading_states: Mapping[Scope, TradingState]  # persisted states by scope, read once

    @property
    def connected(self) -> dict[str, bool]:
        return {s.account_id: s.connected for s in self.states}


@dataclass(frozen=True)
class Prepared:
    """Phase 2: one accepted order, sized and checked in memory, waiting to be reserved and sent."""

    intent: OrderIntent
    proposal: Proposal
    failover_for: tuple[str, ...]
    t_sized: float


def _ms(a: float, b: float) -> float:
    return round((b - a) * 1000.0, 3)


def effective_states(firm: FirmConfig, by_scope: Mapping[Scope, TradingState]) -> dict[str, TradingState]:
    """Every account's effective state (most severe of firm, group, account) from ONE read of the
    states, instead of three repository reads per account."""
    def of(scope: Scope) -> TradingState:
        return by_scope.get(scope, TradingState.ACTIVE)

    firm_state = of(Scope.firm())
    return {a: most_severe(firm_state, of(Scope.group(firm.group_of(a))), of(Scope.account(a)))
            for a in firm.accounts}


def ledger_unit_of_work(ledger: OrderLedger) -> UnitOfWork:
    """One transaction for a batch of ledger writes.

    The store's repositories (`Store.orders`) run inside the caller's open unit of work when there is
    one, and `_session()` is how a repository opens (or joins) it: twenty reserves inside it commit
    once instead of twenty times. Ledgers without one (in-memory) need no transaction."""
    session = getattr(ledger, "_session", None)
    return session if callable(session) else nullcontext


class SignalRouter:
    def __init__(self, firm: FirmConfig, pool: BrokerPool, ledger: OrderLedger, states: TradingStateService,
                 clock: Clock, *, checker: PreTradeChecker | None = None,
                 baseline: Callable[[], RiskBaseline] = RiskBaseline,
                 quotes: Callable[[], Mapping[str, tuple[float, float]]] = dict,
                 is_simulated: Callable[[str], bool] | None = None,
                 trades_today: Callable[[], Mapping[str, int]] | None = None,
                 order_check: Callable[[Proposal], object] | None | bool = False,
                 unit_of_work: UnitOfWork | None = None, max_workers: int = 64,
                 read_fleet: Callable[[], tuple[list[AccountState], list[Position]]] | None = None):
        """`order_check`: False/None (default) = our margin estimate before sending and the broker's
        margin check at `order_send`; True = also the server's `order_check` through the pool; a
        callable = a custom check. Either way the checks run concurrently for all accounts.
        `unit_of_work`: the transaction the ledger batches run in (default: the ledger's own).
        `read_fleet`: where account states and positions come from (default: the pool, read live)."""
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
        self.order_check = self.broker_order_check if order_check is True else (order_check or None)
        self.unit_of_work = unit_of_work or ledger_unit_of_work(ledger)
        self._max_workers = max_workers
        self.read_fleet = read_fleet
        self._executor: ThreadPoolExecutor | None = None
        self._info_account: str | None = None  # last terminal that answered symbol_info
        self._fills: dict[tuple[str, str], int] = {}  # (trading day, account) -> fills routed here

    # ---------------------------------------------------------------- helpers
    def _pool_threads(self) -> ThreadPoolExecutor:
        """Threads that only wait on terminals (reads, order_check): created once, on first use."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="route")
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _symbol_info_from(self, symbol: str, account_ids: list[str]):
        """Live `symbol_info` (bid/ask and volume limits) from the first terminal that answers."""
        for acc in account_ids:
            try:
                info = self.pool.call(acc, "symbol_info", symbol)
            except Exception as exc:  # noqa: BLE001 - a broker failure: try the next terminal
                log.warning("symbol_info %s on %s failed: %s", symbol, acc, exc)
                continue
            if info is not None:
                self._info_account = acc
                return info
        return None

    def _read(self, symbol: str) -> FleetRead:
        """Phase 1: account states, positions and symbol_info in one concurrent pool read; while the
        terminals answer, this thread reads the trading states (one read for every account).

        symbol_info goes to the terminal that answered last time (any terminal quotes the same
        market); only when it fails are the other connected terminals asked, one by one."""
        ex = self._pool_threads()
        known = symbol in self.firm.symbols.symbols
        first = self._info_account or next(iter(self.firm.accounts))
        f_info: Future | None = ex.submit(self._symbol_info_from, symbol, [first]) if known else None
        if self.read_fleet is not None:
            trading_states = self.states.states()
            states, positions = self.read_fleet()
        else:
            f_states = ex.submit(self.pool.account_states)
            f_positions = ex.submit(self.pool.positions)
            trading_states = self.states.states()
            states = states_list(f_states.result())
            positions = positions_list(f_positions.result())
        info = f_info.result() if f_info is not None else None
        if info is None and known:
            others = [s.account_id for s in states if s.connected and s.account_id != first]
            info = self._symbol_info_from(symbol, others)
        return FleetRead(states, positions, info, trading_states)

    def _quote(self, symbol: str, info, quotes: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
        q = quotes.get(symbol)
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

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self.unit_of_work():
            yield

    # ---------------------------------------------------------------- the verb
    def route(self, signal: TradingSignal, received_at: datetime | None = None) -> RoutingReport:
        t_received = time.perf_counter()
        now = self.clock.now()
        received_at = received_at or now
        read = self._read(signal.symbol)  # phase 1
        quotes = dict(self.quotes())
        quote = self._quote(signal.symbol, read.symbol_info, quotes)
        if quote:
            quotes[signal.symbol] = quote
        market = MarketData.from_config(self.firm.symbols, quotes)
        reason = check_signal(signal, self.firm, market, now)
        if reason is None and quote is None:
            reason = f"NO_QUOTE: signal={signal.id}, symbol={signal.symbol}"
        if reason is not None:
            log.info("signal %s rejected: %s", signal.id, reason)
            return RoutingReport(signal.id, received_at, [], reason)

        snapshot = build_snapshot(self.firm, read.states, read.positions, market, baseline=self.baseline(), now=now)
        effective = effective_states(self.firm, read.trading_states)
        elig = eligible_accounts(self.firm, signal, now, effective, read.connected, self.is_simulated)
        results: dict[str, AccountResult] = {a: AccountResult(a, OrderStatus.SKIPPED, r)
                                             for a, r in elig.skipped.items()}
        ctx = PreTradeContext(snapshot, now, effective, self._today_counts(now, read.positions))
        bid, ask = quote
        price = ask if signal.side is Side.BUY else bid
        entry = signal.entry if signal.order_type is not OrderType.MARKET and signal.entry else price
        limits = self._limits(read.symbol_info)

        prepared: list[Prepared] = []
        for target in elig.targets:  # phase 2: pure, in memory
            got = self._prepare(signal, target.account_id, target.failover_for,
                                client_order_id(signal.id, target.account_id), snapshot, ctx, market, entry, price,
                                effective[target.account_id], limits, t_received)
            if isinstance(got, AccountResult):
                results[got.account_id] = got
            else:
                prepared.append(got)
        prepared = self._broker_checked(prepared, results)
        prepared = self._reserved(prepared, results, now)  # phase 3
        self._send(signal, prepared, results, now, t_received)  # phases 4 and 5
        ordered = [results[a] for a in self.firm.accounts if a in results]
        return RoutingReport(signal.id, received_at, ordered)

    # ---------------------------------------------------------------- phases
    @staticmethod
    def _duplicate(account_id: str, cid: str, failover_for: tuple[str, ...]) -> AccountResult:
        return AccountResult(account_id, OrderStatus.DUPLICATE, f"DUPLICATE: client_id={cid}", cid,
                             failover_for=failover_for)

    def _broker_checked(self, prepared: list[Prepared], results: dict[str, AccountResult]) -> list[Prepared]:
        """The optional server `order_check`, for every accepted order at once (never in sequence).

        A refused order stays in the fan-out's pending risk: conservative, the other accounts were
        checked as if it would trade."""
        if self.order_check is None or not prepared:
            return prepared
        ex = self._pool_threads()
        futures = [ex.submit(self.order_check, p.proposal) for p in prepared]
        kept: list[Prepared] = []
        for p, fut in zip(prepared, futures):
            try:
                reason = order_check_reason(p.intent.account_id, fut.result())
            except Exception as exc:  # noqa: BLE001 - a broker failure is a recorded rejection
                reason = order_check_reason(p.intent.account_id, exc)
            if reason is None:
                kept.append(p)
                continue
            results[p.intent.account_id] = AccountResult(
                p.intent.account_id, OrderStatus.REJECTED, reason, p.intent.client_id,
                requested_volume=p.intent.volume, failover_for=p.failover_for, factors=p.intent.factors)
        return kept

    def _reserved(self, prepared: list[Prepared], results: dict[str, AccountResult], now: datetime) -> list[Prepared]:
        """Phase 3: reserve every client id in one transaction. The reserve is the idempotency
        guard: an id already there (a replayed signal, a racing retry) is a DUPLICATE, never sent.
        A replayed account was sized like a new one, so its risk sits in this fan-out's pending risk:
        conservative, the others were checked as if it would trade again."""
        if not prepared:
            return prepared
        with self._transaction():
            won = self.ledger.reserve_many([p.intent for p in prepared], now)
        kept = []
        for p, ok in zip(prepared, won):
            if ok:
                kept.append(p)
            else:
                results[p.intent.account_id] = self._duplicate(p.intent.account_id, p.intent.client_id,
                                                               p.failover_for)
        return kept

    def _send(self, signal: TradingSignal, prepared: list[Prepared], results: dict[str, AccountResult],
              now: datetime, t_received: float) -> None:
        """Phase 4: one concurrent fan-out; phase 5: every outcome recorded in one transaction, in which
        accounts refused before sending are also looked up: one this signal already reached (a replay)
        is reported DUPLICATE rather than with the refusal its re-evaluation met."""
        intents = [p.intent for p in prepared]
        refused = [r for r in results.values() if r.status is OrderStatus.REJECTED and r.client_id]
        if not intents and not refused:
            return
        t_sent = time.perf_counter()
        try:
            outcomes = self.pool.send_many(intents) if intents else []
        except Exception as exc:  # noqa: BLE001 - the orders may have gone out: never resend blindly
            log.exception("send_many failed for signal %s", signal.id)
            outcomes = [OrderOutcome(i.client_id, i.account_id, OrderStatus.UNKNOWN,
                                     reason=f"UNKNOWN_OUTCOME: send_many raised {type(exc).__name__}: {exc}; "
                                            "reconcile before any resend") for i in intents]
        t_ack = time.perf_counter()
        by_id = {o.client_id: o for o in outcomes}
        done = [(p, by_id.get(p.intent.client_id) or OrderOutcome(
            p.intent.client_id, p.intent.account_id, OrderStatus.UNKNOWN, reason="NO_OUTCOME: pool returned none"))
            for p in prepared]
        completed_at = self.clock.now()
        with self._transaction():
            self.ledger.complete_many([outcome for _, outcome in done], completed_at)
            replayed = [r for r in refused if self.ledger.get(r.client_id) is not None]
        for r in replayed:
            results[r.account_id] = self._duplicate(r.account_id, r.client_id, r.failover_for)
        day = trading_day_start(now).isoformat()
        for p, outcome in done:
            results[p.intent.account_id] = self._result(signal, p.intent, outcome, p.failover_for, t_received,
                                                        p.t_sized, t_sent, t_ack)
            if outcome.status in SUCCESS:
                key = (day, p.intent.account_id)
                self._fills[key] = self._fills.get(key, 0) + 1

    def _prepare(self, signal: TradingSignal, acc: str, failover_for: tuple[str, ...], cid: str,
                 snapshot: RiskSnapshot, ctx: PreTradeContext, market: MarketData, entry: float, price: float,
                 state: TradingState, limits: dict[str, float], t_received: float) -> Prepared | AccountResult:
        """Phase 2 for one account: size, pre-trade check (in memory), build the intent."""
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
            return AccountResult(acc, OrderStatus.REJECTED, sized.reason or "ZERO_SIZE", cid,
                                 failover_for=failover_for, factors=sized.factors)
        proposal = Proposal(acc, signal.symbol, signal.side, sized.volume, entry, signal.stop,
                            signal_price=signal.entry, order_type=signal.order_type)
        reason = self.checker.accept(proposal, ctx)
        if reason is not None:
            return AccountResult(acc, OrderStatus.REJECTED, reason, cid, requested_volume=sized.volume,
                                 failover_for=failover_for, factors=sized.factors)
        rm = self.firm.accounts[acc].risk_management
        tp = signal.take_profit
        if tp is None:
            ratio = signal.take_profit_ratio or rm.take_profit_ratio
            tp = round(entry + signal.side.sign * ratio * abs(entry - signal.stop),
                       self.firm.symbol(signal.symbol).digits)
        t_sized = time.perf_counter()
        intent = OrderIntent(
            client_id=cid, account_id=acc, symbol=signal.symbol, side=signal.side, volume=sized.volume,
            order_type=signal.order_type, price=entry if signal.order_type is not OrderType.MARKET else price,
            sl=signal.stop, tp=tp, deviation=rm.max_slippage, signal_id=signal.id,
            factors={**sized.factors, "correlation_rho": rho, "trading_state": state.value,
                     "failover_for": ",".join(failover_for), "sized_ms": _ms(t_received, t_sized)})
        return Prepared(intent, proposal, failover_for, t_sized)

    def _correlation(self, signal: TradingSignal, acc: str, ctx: PreTradeContext) -> float:
        """Correlation of the new trade with the account's group exposure (0 when the group is flat)."""
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
