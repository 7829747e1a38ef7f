"""The accelerated fleet simulation: the realtime service, the lifecycle rules and the procedures
running together over simulated time (issue 14).

One `FleetSimulation.run()` steps a `ManualClock` from `start` over `days` trading days. Each step:

1. the clock moves (the simulated terminals evaluate stops, take profits, swaps and scenario shocks
   up to the new instant on their own one-minute grid);
2. at 06:30 London on a trading day `daily_startup` runs, as plain procedure functions in-process
   (or its Airflow DAG through `dag.test()` with `use_dags=True`);
3. the realtime Runtime's monitor tick runs (read, assess, act, beat) - called directly, so 1 Hz at
   any speed is deterministic. While a hard-action breach is pending the driver keeps ticking at
   1 s simulated intervals, exactly like the 1 Hz service, so debounce is measured in real reads;
4. the lifecycle rules are planned on the open positions and applied through the pool;
5. during sessions the seeded generator proposes signals, routed through `Runtime.submit_signal`
   (signal + routes recorded, orders reserved in the ledger, fan-out through the pool);
6. at 17:00 New York `end_of_day` runs;
7. snapshots, positions and deals are recorded in the store every `record_every`, RSS sampled.

Steps are `step` long while a killzone is open, `quiet_step` (default `step`) while only sessions
are, and `idle_step` otherwise; every procedure instant, scenario event instant, a pre-close instant
ten minutes before each 17:00 New York rollover (lifecycle closes while the market is open) and, with
`flatten_at_end`, one minute before the final rollover (everything closed) is a step boundary. All
parts share one `InstantReadCache` over the pool, so repeated reads of one instant cost one terminal
read. `speed` paces the run to at most that many simulated seconds per wall second (None: as fast as
possible).
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from multiaccount.brokers.simulated.scenarios import (
    DisconnectEvent,
    LatencyEvent,
    PriceJumpEvent,
    RequoteStormEvent,
    Scenario,
    TimeoutEvent,
)
from multiaccount.config import FirmConfig
from multiaccount.domain import AccountState, ManualClock, Position, Scope, TradingState
from multiaccount.lifecycle import LifecycleApplier, plan_lifecycle
from multiaccount.procedures.calendar import END_OF_DAY_AT, STARTUP_AT, DailySchedule, TradingCalendar
from multiaccount.realtime.fleetview import read_separately
from multiaccount.risk.calendar import any_session_open, fx_market_open
from multiaccount.risk.market import MarketData
from multiaccount.simulation.fleet import InstantReadCache, PoolFleet, SimulationSink, StoreRecorder
from multiaccount.simulation.report import (
    BreachTracker,
    MemoryProbe,
    OrderTally,
    SimulationReport,
    memory_verdict,
    state_reader,
)
from multiaccount.simulation.signals import SignalGenerator

log = logging.getLogger(__name__)

MONITOR_HZ = 1.0
MAX_DENSE_TICKS = 10  # 1 Hz re-reads per step while a breach is pending (debounce needs 2)
ACTOR = "system:simulation"
FLATTEN_LEAD = timedelta(minutes=1)  # `flatten_at_end` closes this long before the final rollover
PRECLOSE_LEAD = timedelta(minutes=10)  # a step inside the lifecycle's rollover/weekend leads every day
EOD_STEPS = ("close_day_positions", "calculate_daily_performance", "generate_daily_report",
             "backup_account_states", "arm_overnight_monitoring")
HISTORY_EOD_STEPS = ("close_day_positions",)  # generate_month batches the performance, skips reports


_POSITION_CHANGING = {"flatten", "reduction", "emergency_stop"}


class _ReadThrough:
    """The realtime pool port, remembering the monitor's last bulk positions read: the lifecycle step
    of the same instant plans on it instead of reading every terminal again (unless the tick acted)."""

    def __init__(self, inner: Any):
        self.inner = inner  # realtime.pool.TerminalPoolAdapter over brokers.pool.TerminalPool
        self._positions: dict[str, list[Position]] | None = None

    def positions(self, account_id: str | None = None) -> list[Position]:
        if account_id is not None:
            return self.inner.positions(account_id)
        by_account = self.inner.inner.positions()  # reachable accounts only, flat ones with []
        self._positions = by_account
        return [p for ps in by_account.values() for p in ps]

    def last_positions(self) -> dict[str, list[Position]] | None:
        return self._positions

    def read(self, accounts: Any = None) -> tuple[dict[str, Any], dict[str, list[Position]]]:
        """The monitor's fleet read (`realtime.fleetview`): through `positions()` above (remembered) and
        the instant cache, not the adapter's batched read that would bypass both."""
        return read_separately(self, accounts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass(frozen=True)
class SimulationOptions:
    """How to run the fleet; every field has the week's default."""

    start: datetime = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Monday, before the London startup
    days: int = 5  # trading days (each ends at its 17:00 New York rollover)
    step: timedelta = timedelta(minutes=1)  # while any session is open
    quiet_step: timedelta | None = None  # while sessions but no killzone are open (None: `step`)
    idle_step: timedelta = timedelta(minutes=10)  # outside every session (the monitor still watches)
    sessions_only: bool = False  # skip the hours outside every session (coarse history runs)
    speed: float | None = None  # pace to at most this many simulated seconds per wall second
    seed: int = 7  # the signal generator's seed
    market_seed: int | None = None  # simulated market seed; None = the terminals' default (shared)
    scenario: Scenario | str | Path | None = None
    signals_per_symbol_per_hour: float = 1.0
    stop_multiple: float = 0.35  # stop distance in daily ranges
    record_every: timedelta = timedelta(minutes=15)
    procedures: bool = True
    startup: bool = True  # run daily_startup (when `procedures`)
    eod_steps: tuple[str, ...] = EOD_STEPS  # the end_of_day steps run in-process, in this order
    use_dags: bool = False  # run daily_startup / end_of_day through dag.test() instead of in-process
    pool_size: int | None = None
    memory_every_steps: int = 5
    signal_prefix: str = "sim"
    flatten_at_end: bool = False  # close every position one minute before the final rollover (history: end flat)

    def scenario_model(self) -> Scenario | None:
        if self.scenario is None or isinstance(self.scenario, Scenario):
            return self.scenario
        return Scenario.load(self.scenario)


def trading_window(options: SimulationOptions, firm: FirmConfig) -> tuple[datetime, datetime]:
    """(start, end): end is the `days`-th trading-day rollover (17:00 New York) after start."""
    cal = TradingCalendar.of(firm.sessions.holidays)
    eod = DailySchedule(END_OF_DAY_AT[0], END_OF_DAY_AT[1], calendar=cal)
    t = options.start
    for _ in range(max(1, options.days)):
        t = eod.next_after(t)
    return options.start, t


def _scenario_instants(scenario: Scenario | None) -> list[datetime]:
    out: list[datetime] = []
    for e in (scenario.events if scenario else []):
        if isinstance(e, PriceJumpEvent):
            out.append(e.at)
        if isinstance(e, DisconnectEvent | RequoteStormEvent | LatencyEvent | TimeoutEvent):
            out.extend(x for x in (e.start, e.end) if x is not None)
    return out


@dataclass
class _Procedures:
    """daily_startup / end_of_day as the CLI runs them (same step functions, same order)."""

    app: Any
    firm: FirmConfig
    use_dags: bool = False
    eod_steps: tuple[str, ...] = EOD_STEPS
    runs: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)

    def _run(self, name: str, at: datetime, timezone: str) -> Any:
        from multiaccount.procedures.common import RunInfo

        return RunInfo.create(instant=at, timezone=timezone, run_id=f"sim:{name}:{at:%Y%m%dT%H%M}",
                              known_accounts=list(self.firm.accounts))

    def daily_startup(self, at: datetime) -> None:
        if self.use_dags:
            return self._dag("daily_startup", at)
        from multiaccount.procedures import daily_startup as d

        run = self._run("daily_startup", at, STARTUP_AT[1]).to_dict()
        results = []
        for a in run["accounts"]:
            try:
                results.append(d.verify_connection(run, a, app=self.app))
            except Exception as exc:  # reported by summarize_connections, as in the DAG
                results.append({"account_id": a, "connected": False, "error": str(exc)})
        self._steps("daily_startup", [
            lambda: d.summarize_connections(run, results, app=self.app),
            lambda: d.overnight_pnl(run, app=self.app),
            lambda: d.check_risk_violations(run, app=self.app),
            lambda: d.check_rebalance_need(run, app=self.app),
            lambda: d.start_session(run, app=self.app)])

    def end_of_day(self, at: datetime) -> None:
        if self.use_dags:
            return self._dag("end_of_day", at)
        from multiaccount.procedures import end_of_day as e

        run = self._run("end_of_day", at, END_OF_DAY_AT[1]).to_dict()
        steps: dict[str, Callable[[], Any]] = {
            "close_day_positions": lambda: [e.close_day_positions(run, a, app=self.app) for a in run["accounts"]],
            "calculate_daily_performance": lambda: e.calculate_daily_performance(run, app=self.app),
            "generate_daily_report": lambda: e.generate_daily_report(run, app=self.app),
            "backup_account_states": lambda: e.backup_account_states(run, app=self.app),
            "arm_overnight_monitoring": lambda: e.arm_overnight_monitoring(run, app=self.app)}
        self._steps("end_of_day", [steps[name] for name in self.eod_steps])

    def _steps(self, name: str, steps: list[Callable[[], Any]]) -> None:
        self.runs[name] += 1
        for step in steps:
            try:
                step()
            except Exception as exc:  # a failed step is a recorded failure, like a failed task
                log.warning("%s step failed: %s", name, exc)
                self.failures[name] += 1
                return

    def _dag(self, dag_id: str, at: datetime) -> None:
        """Run the DAG with `dag.test()` in this process; its tasks get this simulation's app."""
        from multiaccount.simulation.dags import run_dag_test

        self.runs[dag_id] += 1
        if not run_dag_test(dag_id, at, self.app):
            self.failures[dag_id] += 1


class FleetSimulation:
    """Wire the fleet (pool, runtime, router, lifecycle, procedures, recorder) and run it."""

    def __init__(self, firm: FirmConfig, store: Any, options: SimulationOptions | None = None, *,
                 progress: Callable[[datetime, datetime, datetime], None] | None = None):
        self.firm = firm
        self.store = store
        self.options = options or SimulationOptions()
        self.progress = progress
        self.scenario = self.options.scenario_model()
        self.start, self.end = trading_window(self.options, firm)
        self.clock = ManualClock(self.start)

    # ---------------------------------------------------------------- wiring
    @contextmanager
    def _wired(self) -> Iterator[dict[str, Any]]:
        from multiaccount.bootstrap import bootstrap
        from multiaccount.brokers.factory import build_pool
        from multiaccount.realtime.pool import TerminalPoolAdapter
        from multiaccount.realtime.runtime import build_runtime
        from multiaccount.routing import SignalRouter

        o = self.options
        # simulated time must not wait on wall-clock backoff: one quick retry, no sleeping
        raw = build_pool(self.firm, clock=self.clock, mode="simulated", seed=o.market_seed, scenario=self.scenario,
                         pool_mode="thread", size=o.pool_size, reconnect_attempts=2, reconnect_backoff=0.0)
        raw.start()
        pool = InstantReadCache(raw, self.clock)  # every part below reads and writes through it
        try:
            sink = SimulationSink(self.store)
            adapter = _ReadThrough(TerminalPoolAdapter(pool))
            app = bootstrap(self.firm, clock=self.clock, fleet=PoolFleet(pool), store=self.store, events=sink)
            runtime = build_runtime(app, pool=adapter, store=self.store, alerts=sink, publishers=[],
                                    flatten_backoff_seconds=0.0)
            # The driver's StoreRecorder writes snapshots/positions/deals every `record_every` (one unit
            # of work, only accounts that traded); the monitor's upkeep doing it again on every tick
            # (ten position upserts per tick) cost most of a coarse run. Its lifecycle rules and
            # violation rows stay as in the service.
            runtime.upkeep.snapshot_every = timedelta(days=36500)
            runtime.router_factory = lambda: SignalRouter(
                self.firm, adapter, self.store.orders, runtime.states, self.clock,
                baseline=lambda: runtime.baseline.current(self.clock.now()),
                is_simulated=lambda _a: True)  # every terminal here is simulated: research accounts trade
            yield {"pool": pool, "reader": adapter, "app": app, "runtime": runtime, "sink": sink}
        finally:
            raw.stop()

    # ---------------------------------------------------------------- schedule
    def _any_session(self, at: datetime) -> bool:
        names = {s for acc in self.firm.accounts.values() for s in acc.trading_config.trading_sessions}
        return fx_market_open(at, self.firm.sessions) and any_session_open(self.firm.sessions, names, at)

    def _killzone(self, at: datetime) -> bool:
        """Is a killzone (a session named `*killzone*`, where the high-frequency accounts trade) open?"""
        names = {s for acc in self.firm.accounts.values() for s in acc.trading_config.trading_sessions
                 if "killzone" in s}
        return any_session_open(self.firm.sessions, names, at)

    def _step_at(self, at: datetime, session: bool) -> timedelta:
        o = self.options
        if not session:
            return o.idle_step
        if o.quiet_step is not None and not self._killzone(at):
            return o.quiet_step
        return o.step

    def _events(self) -> dict[datetime, set[str]]:
        cal = TradingCalendar.of(self.firm.sessions.holidays)
        out: dict[datetime, set[str]] = {}
        o = self.options
        kinds = (("startup", STARTUP_AT),) if o.procedures and o.startup else ()
        for kind, (at, tz) in (*kinds, ("eod", END_OF_DAY_AT)):
            sched = DailySchedule(at, tz, calendar=cal)
            t = sched.next_after(self.start, inclusive=True)
            while t <= self.end:
                if kind == "eod":
                    # a step inside the lifecycle's leads, so intraday/weekend closes happen while the
                    # market is open even at coarse steps (Friday 17:00 New York is already closed)
                    out.setdefault(t - PRECLOSE_LEAD, set()).add("preclose")
                    if o.procedures:
                        out.setdefault(t, set()).add(kind)
                else:
                    out.setdefault(t, set()).add(kind)
                t = sched.next_after(t)
        if o.flatten_at_end:
            out.setdefault(self.end - FLATTEN_LEAD, set()).add("flatten")
        for t in _scenario_instants(self.scenario):
            if self.start < t <= self.end:
                out.setdefault(t, set()).add("scenario")
        out.setdefault(self.end, set()).add("end")
        return out

    def _next(self, t: datetime, instants: list[datetime]) -> datetime:
        o = self.options
        session = self._any_session(t)
        nxt = t + self._step_at(t, session)
        if o.sessions_only and not session:
            probe = t
            while probe < nxt + timedelta(days=3) and not self._any_session(probe):
                probe += timedelta(minutes=5)
            nxt = max(nxt, probe)
        upcoming = next((i for i in instants if i > t), self.end)
        return min(nxt, upcoming)

    # ---------------------------------------------------------------- the run
    def run(self) -> SimulationReport:
        with self._wired() as w:
            return self._run(w)

    def _run(self, w: dict[str, Any]) -> SimulationReport:
        o = self.options
        pool, runtime, reader = w["pool"], w["runtime"], w["reader"]
        states_of = state_reader(runtime.states)
        procedures = _Procedures(w["app"], self.firm, o.use_dags, o.eod_steps)
        lifecycle = LifecycleApplier(self.firm, pool)
        generator = SignalGenerator(self.firm, o.seed, per_symbol_per_hour=o.signals_per_symbol_per_hour,
                                    stop_multiple=o.stop_multiple, id_prefix=o.signal_prefix)
        recorder = StoreRecorder(self.store, pool, sorted(self.firm.accounts), self.start)
        tally, breaches, memory = OrderTally(), BreachTracker(), MemoryProbe()
        lifecycle_counts: Counter = Counter()
        halts: list[dict[str, str]] = []
        emergency = monitor_errors = 0
        tick_ms: list[float] = []
        step_ms: list[float] = []
        no_stop_max = open_max = 0
        ledger_since = self.clock.now()
        events = self._events()
        instants = sorted(events)
        start_states = pool.account_states()
        last_record = None
        flattened = False
        signals_until: datetime | None = None
        steps = 0
        wall0 = time.perf_counter()
        t = self.start
        while True:
            s0 = time.perf_counter()
            self.clock.set(t)
            kinds = events.get(t, set())
            if "startup" in kinds:
                procedures.daily_startup(t)
            session = self._any_session(t)
            if session or not o.sessions_only or kinds:
                # ---- monitor at 1 Hz while a breach is pending
                acted = False
                for dense in range(MAX_DENSE_TICKS):
                    if dense:
                        self.clock.advance(1.0 / MONITOR_HZ)
                    k0 = time.perf_counter()
                    result = runtime.monitor.tick()
                    tick_ms.append((time.perf_counter() - k0) * 1000)
                    monitor_errors += int(not result.ok)
                    if result.assessment is None:
                        break
                    a = result.assessment
                    emergency += int(a.emergency)
                    halts.extend({"scope": str(r.scope), "reason": r.reason, "at": r.changed_at.isoformat()}
                                 for r in a.state_changes if r.state is TradingState.HALTED)
                    acted = acted or any(e.kind in _POSITION_CHANGING for e in result.events)
                    if not breaches.observe(self.clock.now(), a.verdicts, states_of):
                        break
                now = self.clock.now()
                positions = reader.last_positions() if not acted else None
                if positions is None:
                    positions = pool.positions()
                market = self._market(pool, positions)
                actions = plan_lifecycle(self.firm, positions, market, now, lifecycle.last_trail)
                applied = lifecycle.apply(actions, now)
                recorder.touch(act.account_id for act, _ in applied)
                lifecycle_counts.update(act.code for act, _ in applied)
                acknowledged_before = tally.acknowledged
                if "flatten" in kinds:
                    self._flatten_all(pool, recorder)
                    flattened = True
                if session and not flattened and runtime.states.state(Scope.firm()) is not TradingState.HALTED:
                    since = signals_until if signals_until is not None else t - o.step
                    for signal in generator.signals(since, now, self._quotes_fn(pool, market)):
                        routed = runtime.submit_signal(signal, source="simulation")
                        tally.add(routed)
                        recorder.touch(r["account_id"] for r in routed.get("results", [])
                                       if r["status"] in ("filled", "partial", "placed"))
                signals_until = now  # the next step's signals are the minutes after this one's
                if "preclose" in kinds and tally.acknowledged != acknowledged_before:
                    # what this step just opened inside the rollover/weekend lead is closed now, as the
                    # service's next 5 s lifecycle pass would, not left to a market closed at 17:00
                    positions = pool.positions()
                    again = lifecycle.apply(plan_lifecycle(self.firm, positions, self._market(pool, positions), now,
                                                           lifecycle.last_trail), now)
                    recorder.touch(act.account_id for act, _ in again)
                    lifecycle_counts.update(act.code for act, _ in again)
                    applied = applied + again
                if applied or flattened or tally.acknowledged != acknowledged_before:
                    positions = pool.positions()
                open_now = [p for ps in positions.values() for p in ps]
                open_max = max(open_max, len(open_now))
                no_stop_max = max(no_stop_max, sum(1 for p in open_now if not p.sl))
                if "eod" in kinds:
                    procedures.end_of_day(now)
                if last_record is None or now - last_record >= o.record_every or kinds & {"eod", "end", "flatten"}:
                    states = pool.account_states()
                    # the rollover's record is the day's closing valuation: stamped inside the day it
                    # values, as end_of_day does (`procedures._shared.valuation_at`)
                    recorder.record(now, states, positions if "eod" not in kinds else pool.positions(),
                                    stamp_before=now - timedelta(seconds=1) if "eod" in kinds else None)
                    last_record = now
            steps += 1
            if steps % o.memory_every_steps == 0:
                memory.sample()
            step_ms.append((time.perf_counter() - s0) * 1000)
            if self.progress is not None:
                self.progress(self.start, self.clock.now(), self.end)
            self._pace(wall0, self.clock.now())
            if self.clock.now() >= self.end:
                break
            t = self._next(self.clock.now(), instants)
        memory.sample()
        wall = time.perf_counter() - wall0
        end_states = pool.account_states()
        ledger = self._ledger_audit(pool, ledger_since)
        return self._report(tally, breaches, memory, lifecycle_counts, halts, emergency, tick_ms, step_ms,
                            no_stop_max, open_max, steps, wall, start_states, end_states, ledger, procedures,
                            runtime, monitor_errors)

    def _flatten_all(self, pool: Any, recorder: StoreRecorder) -> None:
        """Close everything still open while the market still is (ids from the ticket, so a rerun closes
        nothing twice); the step's record then stores the flat book."""
        for a in sorted(self.firm.accounts):
            for outcome in pool.close_positions(a, client_prefix=f"{self.options.signal_prefix}-end"):
                if outcome.status.value not in ("filled", "partial", "duplicate"):
                    log.warning("closing %s at the end failed: %s", a, outcome.reason)
        recorder.touch(self.firm.accounts)

    def _pace(self, wall0: float, now: datetime) -> None:
        if not self.options.speed:
            return
        due = (now - self.start).total_seconds() / self.options.speed
        ahead = due - (time.perf_counter() - wall0)
        if ahead > 0:
            time.sleep(ahead)

    # ---------------------------------------------------------------- market and accounting
    def _market(self, pool: Any, positions: dict[str, list[Position]]) -> MarketData:
        quotes = {}
        for p in (p for ps in positions.values() for p in ps):
            quotes.setdefault(p.symbol, None)
        return MarketData.from_config(self.firm.symbols, {s: q for s in quotes
                                                          if (q := self._quote(pool, s)) is not None})

    def _quote(self, pool: Any, symbol: str) -> tuple[float, float] | None:
        for acc in sorted(self.firm.accounts):
            try:
                info = pool.call(acc, "symbol_info", symbol)
            except Exception:  # disconnected terminal: ask the next one
                continue
            if info.bid > 0 and info.ask > 0:
                return info.bid, info.ask
        return None

    def _quotes_fn(self, pool: Any, market: MarketData) -> Callable[[str], MarketData]:
        def priced(symbol: str) -> MarketData:
            if symbol in market.quotes:
                return market
            q = self._quote(pool, symbol)
            return MarketData.from_config(self.firm.symbols, {symbol: q} if q else {})
        return priced

    def _ledger_audit(self, pool: Any, since: datetime) -> dict[str, int]:
        """Cross-check the order ledger against the brokers: nothing pending, every fill has its deal."""
        rows = [r for r in self.store.orders.list(since=since - timedelta(seconds=1))]
        deal_orders: dict[str, set[int]] = {}
        missing = 0
        for r in rows:
            if r.status not in ("filled", "partial"):
                continue
            if r.account_id not in deal_orders:
                try:
                    deals = pool.call(r.account_id, "deals", since - timedelta(days=1))
                except Exception:
                    deals = []
                deal_orders[r.account_id] = {d.order for d in deals} | {d.position_id for d in deals}
            if r.ticket is None or r.ticket not in deal_orders[r.account_id]:
                missing += 1
        return {"sent": len(rows), "pending": sum(1 for r in rows if r.status == "pending"),
                "fills_without_deal": missing}

    def _report(self, tally: OrderTally, breaches: BreachTracker, memory: MemoryProbe, lifecycle: Counter,
                halts: list[dict[str, str]], emergency: int, tick_ms: list[float], step_ms: list[float],
                no_stop_max: int, open_max: int, steps: int, wall: float, start_states: dict[str, AccountState],
                end_states: dict[str, AccountState], ledger: dict[str, int], procedures: _Procedures,
                runtime: Any, monitor_errors: int = 0) -> SimulationReport:
        bounded, q2, q4 = memory_verdict(memory.samples)
        pnl: dict[str, float] = {}
        for a, st in end_states.items():
            g = self.firm.group_of(a)
            before = start_states.get(a)
            if before is not None and before.connected and st.connected:
                pnl[g] = round(pnl.get(g, 0.0) + st.equity - before.equity, 2)
        mb = 1024 * 1024
        debounce = self.firm.master.risk_controls.debounce_reads / MONITOR_HZ
        return SimulationReport(
            accounts=len(self.firm.accounts), start=self.start.isoformat(), end=self.clock.now().isoformat(),
            simulated_seconds=(self.clock.now() - self.start).total_seconds(), wall_seconds=round(wall, 3),
            steps=steps, monitor_ticks=len(tick_ms), signals=tally.signals, signals_rejected=tally.signals_rejected,
            routed=tally.routed, acknowledged=tally.acknowledged, rejected=tally.rejected,
            rejected_without_reason=tally.rejected_without_reason, unknown=tally.unknown,
            duplicates=tally.duplicate, skipped=tally.skipped,
            rejection_reasons=dict(tally.reasons + tally.signal_reasons), ledger_sent=ledger["sent"],
            ledger_pending=ledger["pending"], fills_without_deal=ledger["fills_without_deal"],
            positions_without_stop_max=no_stop_max, positions_open_max=open_max,
            longest_unhandled_breach_seconds=breaches.longest_seconds,
            longest_unhandled_breach=breaches.longest_key, debounce_window_seconds=debounce,
            breaches_handled=breaches.handled, emergency_stops=emergency, halts=tuple(halts),
            lifecycle_actions=dict(lifecycle),
            procedures={**{k: v for k, v in procedures.runs.items()},
                        **{f"{k}_failed": v for k, v in procedures.failures.items()}},
            pnl_by_group=pnl, equity_start=round(sum(s.equity for s in start_states.values()), 2),
            equity_end=round(sum(s.equity for s in end_states.values()), 2),
            final_states={str(r.scope): r.state.value for r in runtime.states.repo.all()},
            rss_samples_mb=tuple(round(x / mb, 1) for x in memory.samples), rss_second_quarter_mb=round(q2 / mb, 1),
            rss_last_quarter_mb=round(q4 / mb, 1), memory_bounded=bounded,
            tick_p50_ms=round(statistics.median(tick_ms), 3) if tick_ms else 0.0,
            tick_p99_ms=round(_p99(tick_ms), 3), step_p99_ms=round(_p99(step_ms), 3), monitor_errors=monitor_errors)


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def simulate(firm: FirmConfig, store: Any = None, options: SimulationOptions | None = None,
             progress: Callable[[datetime, datetime, datetime], None] | None = None) -> SimulationReport:
    """Run the fleet simulation on `firm` (store: the configured one when None)."""
    if store is None:
        from multiaccount.store import Store

        store = Store.open()
    return FleetSimulation(firm, store, options, progress=progress).run()
