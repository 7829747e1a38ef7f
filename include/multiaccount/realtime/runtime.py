"""The realtime service's object graph and its operations (used by the HTTP API and the CLI).

`build_runtime()` wires, on top of `bootstrap()`: the terminal pool, the trading state service
(risk package) over the store's state repository, the risk engine, the persisted baseline, the
buffered risk-event log (+ Redis when `MULTIACCOUNT_REDIS_URL` is set), the emergency context
and the 1 Hz monitor. Every operator operation (halt, resume, emergency stop, signal intake) is a
method here so the API, the CLI and tests share one implementation.

Restart safety: trading states live in the store, so a HALTED firm is still HALTED after a crash;
the baseline (peaks, start-of-day) is reloaded from kv; buffered events are replayed from the spill
file.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from multiaccount import paths
from multiaccount.config import FirmConfig
from multiaccount.domain import AccountState, Clock, Position, Scope, ScopeKind, TradingSignal, TradingState
from multiaccount.domain.ports import EventSink, RecordingEventSink, StateRecord
from multiaccount.realtime.actions import AssessmentExecutor
from multiaccount.realtime.baseline import BaselineKeeper
from multiaccount.realtime.eventlog import BufferedEventLog, EventPublisher, redis_publisher_from_env
from multiaccount.realtime.events import EventKind, RiskEvent
from multiaccount.realtime.monitor import HEARTBEAT_COMPONENT, RiskMonitor
from multiaccount.realtime.fleetview import FleetView
from multiaccount.realtime.pool import PoolPort
from multiaccount.realtime.upkeep import MonitorUpkeep
from multiaccount.risk import MarketData, RiskAssessment, RiskEngine, RiskSnapshot, TradingStateService, build_snapshot
from multiaccount.risk.emergency import EmergencyContext, EmergencyReport, emergency_stop

log = logging.getLogger(__name__)

SPILL_FILE = "realtime/risk_events_buffer.jsonl"


class StoreEventLog:
    """`RiskEventLog` over the store's `risk_events` repository (the event dict goes in the payload)."""

    def __init__(self, repo: Any):
        self.repo = repo

    def append(self, event: RiskEvent) -> int:
        d = event.to_dict()
        return self.repo.append({"kind": event.kind, "at": event.at, "severity": event.severity.value,
                                 "scope": str(event.scope), "payload": d})

    def since(self, cursor: int, limit: int = 100) -> list[tuple[int, RiskEvent]]:
        return [(row["id"], RiskEvent.from_dict(row["payload"])) for row in self.repo.since(cursor, limit)
                if "event_id" in row["payload"]]


class StateView:
    """A read-only `TradingStateRepository` over records read once (one signal's consistent view)."""

    def __init__(self, records: list[StateRecord]):
        self._by_scope = {r.scope: r for r in records}

    def get(self, scope: Scope) -> StateRecord:
        return self._by_scope.get(scope) or StateRecord(scope, TradingState.ACTIVE, "", "",
                                                        datetime.min.replace(tzinfo=UTC), 0)

    def all(self) -> list[StateRecord]:
        return list(self._by_scope.values())

    def set(self, *args: Any, **kwargs: Any) -> StateRecord:
        raise RuntimeError("StateView is read-only: change states through the runtime's state service")

    def history(self, scope: Scope | None = None, limit: int = 100) -> list[StateRecord]:
        return []


class NullEventLog:
    """Used when no store is configured: events still go to Redis and the logs."""

    def append(self, event: RiskEvent) -> int:
        log.info("risk event (no store): %s", event.to_dict())
        return 0

    def since(self, cursor: int, limit: int = 100) -> list[tuple[int, RiskEvent]]:
        return []


@dataclass
class Runtime:
    firm: FirmConfig
    clock: Clock
    store: Any
    states: TradingStateService
    alerts: EventSink
    pool: FleetView  # every read and write of the service goes through it (see realtime/fleetview.py)
    events: BufferedEventLog
    baseline: BaselineKeeper
    emergency_ctx: EmergencyContext
    publishers: list[EventPublisher] = field(default_factory=list)
    router_factory: Callable[[], Any] | None = None
    _route_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last_read: tuple[list[AccountState], list[Position], dict[str, tuple[float, float]]] | None = field(
        default=None, repr=False)

    # ---------------------------------------------------------------- monitor
    def read_snapshot(self) -> RiskSnapshot:
        """Read the whole fleet (which also renews the view signals are sized against) and measure it."""
        now = self.clock.now()
        states, positions = self.pool.refresh()
        quotes = {p.symbol: (p.price_current, p.price_current) for p in positions if p.price_current > 0}
        snap = build_snapshot(self.firm, states, positions, MarketData.from_config(self.firm.symbols, quotes),
                              baseline=self.baseline.current(now), now=now)
        self.baseline.update(snap)
        self._last_read = (states, positions, quotes)
        return snap

    @cached_property
    def engine(self) -> RiskEngine:
        return RiskEngine(self.firm, self.states, self.alerts)

    @cached_property
    def monitor(self) -> RiskMonitor:
        executor = AssessmentExecutor(self.firm, self.pool, self.alerts, self.events, self.clock, self.emergency_ctx)
        return RiskMonitor(read=self._read_and_release, engine=self.engine, executor=executor, events=self.events,
                           beat=self.beat, clock=self.clock, after=self._upkeep)

    @cached_property
    def upkeep(self) -> MonitorUpkeep:
        return MonitorUpkeep(self.firm, self.pool, self.store)

    def _upkeep(self, assessment: RiskAssessment) -> list[RiskEvent]:
        """Lifecycle rules and store bookkeeping from the positions this tick already read."""
        if self._last_read is None:
            return []
        states, positions, quotes = self._last_read
        return self.upkeep.run(assessment, states, positions, quotes, self.clock.now())

    def _read_and_release(self) -> RiskSnapshot:
        self.states.release_expired()  # a daily-loss halt ends at the next 17:00 New York
        return self.read_snapshot()

    def beat(self, at: datetime, info: dict[str, Any]) -> None:
        for pub in self.publishers:
            try:
                pub.beat(at, info)
            except Exception as exc:
                log.warning("redis heartbeat failed: %s", exc)
        if self.store is not None:
            self.store.heartbeat.beat(HEARTBEAT_COMPONENT, at, info)

    # ---------------------------------------------------------------- operator operations
    def _audit(self, actor: str, action: str, scope: Scope, detail: dict[str, Any]) -> None:
        if self.store is None:
            return
        try:
            self.store.audit.record(actor, action, str(scope), detail, at=self.clock.now())
        except Exception as exc:
            log.warning("audit write failed: %s", exc)

    def _record(self, kind: str, scope: Scope, title: str, reason: str, actor: str, **data: Any) -> RiskEvent:
        from multiaccount.domain import Severity

        sev = Severity.CRITICAL if kind in (EventKind.EMERGENCY_STOP,) or data.get("state") == "HALTED" \
            else Severity.INFO
        event = RiskEvent(kind=kind, severity=sev, scope=scope, title=title, at=self.clock.now(), reason=reason,
                          actor=actor, action=str(data.get("state", kind)), data=data)
        self.events.append(event)
        return event

    def halt(self, scope: Scope, reason: str, actor: str) -> TradingState:
        _require(reason, actor)
        self.states.halt(scope, f"MANUAL_HALT: {reason}", actor)
        self._audit(actor, "halt", scope, {"reason": reason})
        self._record(EventKind.STATE_CHANGE, scope, f"{scope} HALTED by {actor}", reason, actor, state="HALTED")
        return self.states.state(scope)

    def resume(self, scope: Scope, reason: str, actor: str) -> TradingState:
        """Explicit resume: the only way to lift HALTED; the state service rebases the baseline."""
        _require(reason, actor)
        self.states.resume(scope, actor, reason)
        self._audit(actor, "resume", scope, {"reason": reason})
        self._record(EventKind.STATE_CHANGE, scope, f"{scope} resumed by {actor}", reason, actor,
                     state=self.states.state(scope).value)
        return self.states.state(scope)

    def emergency_stop(self, reason: str, actor: str) -> EmergencyReport:
        _require(reason, actor)
        report = emergency_stop(self.emergency_ctx, reason, actor)
        self._audit(actor, "emergency_stop", Scope.firm(), {"reason": reason, "ok": report.ok,
                                                            "incident_id": report.incident_id})
        self._record(EventKind.EMERGENCY_STOP, Scope.firm(), f"EMERGENCY STOP by {actor}", reason, actor,
                     state="HALTED", incident_id=report.incident_id, ok=report.ok,
                     flatten=report.flatten.summary() if report.flatten else "kept open")
        return report

    def state_view(self) -> dict[str, Any]:
        recs = {str(r.scope): {"state": r.state.value, "reason": r.reason, "actor": r.actor,
                               "changed_at": r.changed_at.isoformat(), "version": r.version}
                for r in self.states.repo.all()}
        effective = {a: self.states.effective(a).value for a in self.firm.accounts}
        return {"firm": self.states.state(Scope.firm()).value, "scopes": recs, "effective": effective}

    def risk_view(self) -> dict[str, Any]:
        last = self.monitor.last
        snap = last.snapshot if last is not None else self.read_snapshot()
        return snapshot_view(snap, [v for v in last.verdicts] if last is not None else [])

    # ---------------------------------------------------------------- signals
    @cached_property
    def router(self) -> Any:
        if self.router_factory is not None:
            return self.router_factory()
        from multiaccount.routing import SignalRouter

        return SignalRouter(self.firm, self.pool, self.store.orders, self.states, self.clock,
                            baseline=lambda: self.baseline.current(self.clock.now()), read_fleet=self.pool.current)

    def warm_up(self) -> None:
        """Pay the one-off costs before the first signal instead of on it: build the router, read the
        fleet into the view, compile the state and ledger queries; then move everything built so far
        out of the garbage collector's reach (`gc.freeze`), so a full collection during a signal walks
        only what the service allocates from now on (measured: 100+ ms pauses without it)."""
        import gc

        self.router  # noqa: B018 - builds (and imports) the router
        self.pool.refresh()
        if self.store is not None:
            self.states.repo.all()
            self.store.orders.get("warm-up")
        gc.collect()
        gc.freeze()

    def submit_signal(self, signal: TradingSignal, source: str = "api") -> dict[str, Any]:
        """Idempotent by signal id: a replayed id returns what happened the first time, sends nothing.

        States are read once per signal (one query, `StateView`) rather than three reads per account;
        the routes are written in one statement after the orders are acknowledged."""
        received = self.clock.now()
        if self.store is not None and not self.store.signals.record(signal, received, source):
            routes = self.store.signals.routes(signal.id)
            return {"signal_id": signal.id, "duplicate": True,
                    "results": [{"account_id": r.account_id, "status": r.status, "reason": r.reason,
                                 "client_id": r.client_id, "volume": r.volume} for r in routes]}
        with self._route_lock:
            router = self.router
            live_states = router.states
            router.states = TradingStateService(StateView(self.states.repo.all()), self.alerts, self.clock,
                                                group_of=self.firm.group_of)
            try:
                report = router.route(signal, received)
            finally:
                router.states = live_states
        if self.store is not None and report.results:
            self.store.signals.record_routes(signal.id, [
                {"account_id": r.account_id, "status": r.status.value, "reason": r.reason, "client_id": r.client_id,
                 "volume": r.volume, "factors": {k: _plain(v) for k, v in (r.factors or {}).items()}}
                for r in report.results], at=self.clock.now())
        return {"signal_id": signal.id, "duplicate": False, "reason": report.reason,
                "results": [{"account_id": r.account_id, "status": r.status.value, "reason": r.reason,
                             "client_id": r.client_id, "volume": r.volume, "latency_ms": r.latency_ms}
                            for r in report.results]}

    def health(self) -> dict[str, Any]:
        m = self.monitor
        last = self.store.heartbeat.last(HEARTBEAT_COMPONENT) if self.store is not None else None
        return {"status": "ok" if not m.last_error else "degraded", "ticks": m.ticks,
                "last_beat": last.at.isoformat() if last is not None else None,
                "buffered_events": self.events.pending, "firm_state": self.states.state(Scope.firm()).value}


def _require(reason: str, actor: str) -> None:
    if not (reason or "").strip() or not (actor or "").strip():
        raise ValueError("reason and actor are required")


def _plain(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)


def snapshot_view(snap: RiskSnapshot, verdicts: list[Any]) -> dict[str, Any]:
    """A JSON view of the risk snapshot (API, CLI diagnostics)."""
    from multiaccount.realtime.events import finite_or_none as f

    accounts = {a: {"group": snap.group_of(a), "equity": f(snap.equity[i]), "connected": bool(snap.connected[i]),
                    "open_risk": f(snap.account_open_risk[i]), "risk": f(snap.account_risk[i]),
                    "daily_loss": f(snap.account_daily_loss[i]), "drawdown": f(snap.account_drawdown[i]),
                    "margin_use": f(snap.margin_use[i]), "positions": int(snap.position_count[i])}
                for i, a in enumerate(snap.account_ids)}
    groups = {g: {"equity": f(snap.group_equity[j]), "risk": f(snap.group_risk[j]),
                  "daily_loss": f(snap.group_daily_loss[j]), "drawdown": f(snap.group_drawdown[j]),
                  "max_correlation": f(snap.group_max_corr[j])} for j, g in enumerate(snap.group_ids)}
    return {"at": snap.at.isoformat(), "currency": snap.firm_currency,
            "firm": {"equity": f(snap.firm_equity), "open_risk": f(snap.firm_open_risk), "risk": f(snap.firm_risk),
                     "daily_loss": f(snap.firm_daily_loss), "drawdown": f(snap.firm_drawdown),
                     "correlation_risk": f(snap.firm_correlation_risk),
                     "daily_pnl": f(snap.firm_equity - snap.firm_day_start),
                     "connected": int(snap.connected.sum()), "accounts": len(snap.account_ids)},
            "groups": groups, "accounts": accounts,
            "verdicts": [{"scope": str(v.scope), "limit": v.limit, "severity": v.severity.value,
                          "action": v.action.value, "measured": f(v.measured), "threshold": f(v.threshold),
                          "reason": v.reason} for v in verdicts]}


def _default_pool(firm: FirmConfig, clock: Clock) -> PoolPort:
    """The brokers package's terminal pool (simulated state shared under MULTIACCOUNT_HOME/sim)."""
    from multiaccount.brokers.factory import build_pool
    from multiaccount.realtime.pool import TerminalPoolAdapter

    pool = build_pool(firm, clock=clock, scenario=os.environ.get("MULTIACCOUNT_SCENARIO") or None)
    return TerminalPoolAdapter(pool.start())


def build_runtime(app: Any = None, *, pool: PoolPort | None = None, store: Any = None,
                  alerts: EventSink | None = None, publishers: list[EventPublisher] | None = None,
                  spill_path: Any = None, flatten_backoff_seconds: float = 0.2) -> Runtime:
    """Wire the realtime service from `bootstrap()` (or the given app) plus the overrides.

    The pool is `pool`, else `app.extras["realtime_pool"]` (tests, the demo), else a started
    `TerminalPool` from the brokers package."""
    if app is None:
        from multiaccount.bootstrap import bootstrap

        app = bootstrap()
    firm, clock = app.firm, app.clock
    store = store if store is not None else app.store
    alerts = alerts if alerts is not None else (app.events or RecordingEventSink())
    states = TradingStateService(store.trading_states if store is not None else app.states, alerts, clock,
                                 group_of=firm.group_of)
    pool = pool if pool is not None else (getattr(app, "extras", {}).get("realtime_pool")
                                          or _default_pool(firm, clock))
    if not isinstance(pool, FleetView):
        pool = FleetView(pool, clock)
    if publishers is None:
        redis_pub = redis_publisher_from_env()
        publishers = [redis_pub] if redis_pub is not None else []
    inner = StoreEventLog(store.risk_events) if store is not None else NullEventLog()
    events = BufferedEventLog(inner, spill_path or (paths.home() / SPILL_FILE), publishers)
    baseline = BaselineKeeper(firm, store.kv if store is not None else None)
    states.on_resume(baseline.rebase)
    ctx = EmergencyContext(account_ids=list(firm.accounts), pool=pool, states=states, alerts=alerts,
                           incidents=store.incidents if store is not None else None, clock=clock,
                           close_all_positions=firm.master.master_account.emergency_close_all_positions,
                           flatten_backoff_seconds=flatten_backoff_seconds)
    return Runtime(firm, clock, store, states, alerts, pool, events, baseline, ctx, list(publishers))


def parse_scope(text: str, firm: FirmConfig) -> Scope:
    """`firm`, `group:NAME`, `account:ID`, checked against the configuration."""
    scope = Scope.parse(text)
    if scope.kind is ScopeKind.GROUP and scope.name not in firm.groups:
        raise ValueError(f"unknown group '{scope.name}' (known: {', '.join(firm.groups)})")
    if scope.kind is ScopeKind.ACCOUNT and scope.name not in firm.accounts:
        raise ValueError(f"unknown account '{scope.name}'")
    return scope
