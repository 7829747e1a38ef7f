"""Carry out what the monitor decided, at once: state changes, flattening, reductions, emergency stop.

Every effect is written as a `RiskEvent` (store + Redis, buffered when the store is down) and the
breach itself is published to the alert sink; state changes go through the one state service,
which audits and publishes its own state-change event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from multiaccount.config import FirmConfig
from multiaccount.domain import Clock, Scope, ScopeKind, Severity, TradingState
from multiaccount.domain.ports import EventSink
from multiaccount.realtime.decisions import STATE_RANK, PlannedAction
from multiaccount.realtime.events import EventKind, RiskEvent, finite_or_none
from multiaccount.risk.emergency import (
    EmergencyContext,
    OrderPool,
    RiskedPosition,
    emergency_stop,
    flatten_accounts,
    plan_risk_reduction,
    reduction_intents,
)
from multiaccount.risk.verdict import Action

log = logging.getLogger(__name__)

MONITOR_ACTOR = "risk_monitor"


class StatePort(Protocol):
    """Read all states and change one (the risk package's TradingStateService, adapted)."""

    def states(self) -> Mapping[Scope, TradingState]:
        ...

    def set_state(self, scope: Scope, state: TradingState, reason: str, actor: str) -> Any:
        ...


class EventWriter(Protocol):
    def append(self, event: RiskEvent) -> bool:
        ...


def accounts_in_scope(firm: FirmConfig, scope: Scope) -> list[str]:
    if scope.kind is ScopeKind.FIRM:
        return list(firm.accounts)
    if scope.kind is ScopeKind.GROUP:
        return firm.accounts_in(scope.name)
    return [scope.name]


def risked_positions(snapshot: Any, account_ids: Sequence[str], positions_by_ticket: Mapping[int, Any]
                     ) -> list[RiskedPosition]:
    """Join the snapshot's per-position open risk with the broker's positions (for a reduction plan)."""
    wanted = {snapshot.account_index[a] for a in account_ids if a in snapshot.account_index}
    out = []
    for i, ticket in enumerate(snapshot.pos_ticket):
        pos = positions_by_ticket.get(int(ticket))
        if pos is not None and int(snapshot.pos_account[i]) in wanted:
            out.append(RiskedPosition(pos, float(snapshot.pos_risk[i])))
    return out


@dataclass
class ActionExecutor:
    firm: FirmConfig
    states: StatePort
    pool: OrderPool
    alerts: EventSink
    events: EventWriter
    clock: Clock
    emergency: Callable[[], EmergencyContext]
    actor: str = MONITOR_ACTOR

    def execute(self, planned: PlannedAction, snapshot: Any = None) -> RiskEvent:
        """Do it now; returns the event describing what was done (already written)."""
        v = planned.verdict
        handler = {
            Action.ALERT: self._alert,
            Action.REDUCE: self._reduce,
            Action.REDUCE_CORRELATED: self._reduce_with_plan,
            Action.REDUCTION_PLAN: self._reduce_with_plan,
            Action.HALT: self._halt,
            Action.HALT_UNTIL: self._halt,
            Action.HALT_AND_FLATTEN: self._halt_and_flatten,
            Action.EMERGENCY_STOP: self._emergency_stop,
        }[v.action]
        try:
            kind, severity, data = handler(planned, snapshot)
        except Exception as exc:  # an action failing must be loud, never silent
            log.exception("monitor action failed", extra={"action": v.action.value, "scope": str(v.scope)})
            kind, severity, data = EventKind.MONITOR_ERROR, Severity.CRITICAL, {"error": str(exc)}
        event = RiskEvent(kind=kind, severity=severity, scope=v.scope, title=self._title(v), at=self.clock.now(),
                          limit=v.limit, measured=finite_or_none(v.measured), threshold=finite_or_none(v.threshold),
                          action=v.action.value, reason=v.reason, actor=self.actor,
                          data={**data, "reads": planned.reads, **_jsonable(getattr(v, "detail", {}))})
        self.events.append(event)
        if v.action is not Action.EMERGENCY_STOP:  # emergency_stop alerts itself
            try:
                self.alerts.publish(event.to_domain_event())
            except Exception:
                log.exception("alert publish failed")
        return event

    # -- handlers: return (event kind, severity, data)
    def _title(self, v: Any) -> str:
        return f"{v.limit} {v.action.value} on {v.scope}"

    def _alert(self, planned: PlannedAction, _snapshot: Any) -> tuple[str, Severity, dict]:
        return EventKind.WARNING, planned.verdict.severity, {}

    def _set(self, planned: PlannedAction, state: TradingState) -> dict:
        """Tighten the scope's state; never loosen it (REDUCE on a HALTED scope leaves it HALTED)."""
        v = planned.verdict
        current = self.states.states().get(v.scope, TradingState.ACTIVE)
        if STATE_RANK[current] >= STATE_RANK[state]:
            return {"state": current.value, "unchanged": True}
        reason = v.reason + (f" (until {v.until.isoformat()})" if getattr(v, "until", None) else "")
        self.states.set_state(v.scope, state, reason, self.actor)
        return {"state": state.value, "until": v.until.isoformat() if getattr(v, "until", None) else None}

    def _reduce(self, planned: PlannedAction, _snapshot: Any) -> tuple[str, Severity, dict]:
        return EventKind.BREACH, Severity.WARNING, self._set(planned, TradingState.REDUCING)

    def _halt(self, planned: PlannedAction, _snapshot: Any) -> tuple[str, Severity, dict]:
        return EventKind.BREACH, Severity.CRITICAL, self._set(planned, TradingState.HALTED)

    def _halt_and_flatten(self, planned: PlannedAction, _snapshot: Any) -> tuple[str, Severity, dict]:
        data = self._set(planned, TradingState.HALTED)
        ctx = self.emergency()
        report = flatten_accounts(self.pool, accounts_in_scope(self.firm, planned.scope),
                                  attempts=ctx.flatten_attempts, backoff_seconds=ctx.flatten_backoff_seconds)
        data.update(flat=report.flat, closed=report.closed_count, summary=report.summary(),
                    still_open={k: list(t) for k, t in report.still_open.items()})
        return EventKind.FLATTEN, Severity.CRITICAL, data

    def _reduce_with_plan(self, planned: PlannedAction, snapshot: Any) -> tuple[str, Severity, dict]:
        """REDUCING, then close the largest open risks in scope until back under the limit."""
        data = self._set(planned, TradingState.REDUCING)
        v = planned.verdict
        if snapshot is None or not v.threshold or v.measured <= v.threshold:
            return EventKind.BREACH, Severity.WARNING, data
        accounts = accounts_in_scope(self.firm, v.scope)
        by_ticket = {p.ticket: p for p in self.pool.positions() if p.account_id in set(accounts)}
        risked = risked_positions(snapshot, accounts, by_ticket)
        if v.action is Action.REDUCE_CORRELATED and (symbols := set(getattr(v, "detail", {}).get("symbols", ()))):
            risked = [r for r in risked if r.position.symbol in symbols]
        equity = sum(float(snapshot.equity[snapshot.account_index[a]]) for a in accounts
                     if a in snapshot.account_index)
        steps = plan_risk_reduction(risked, equity, float(v.threshold),
                                    lambda s: self.firm.symbol(s).volume_step if s in self.firm.symbols.symbols
                                    else 0.01)
        outcomes = self.pool.send_many(reduction_intents(steps, f"{v.limit}:{v.scope}:{self.clock.now():%Y%m%d%H%M%S}"))
        data.update(steps=[{"account": s.account_id, "ticket": s.ticket, "volume": s.volume} for s in steps],
                    outcomes=[o.status.value for o in outcomes])
        return EventKind.BREACH, Severity.WARNING, data

    def _emergency_stop(self, planned: PlannedAction, _snapshot: Any) -> tuple[str, Severity, dict]:
        report = emergency_stop(self.emergency(), planned.verdict.reason, self.actor)
        return EventKind.EMERGENCY_STOP, Severity.CRITICAL, {
            "incident_id": report.incident_id, "halted": report.halted, "ok": report.ok,
            "flatten": report.flatten.summary() if report.flatten else "kept open"}


def _jsonable(d: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, val in (d or {}).items():
        if isinstance(val, (str, int, float, bool)) or val is None:
            out[str(k)] = val
        elif isinstance(val, (list, tuple, set, frozenset)):
            out[str(k)] = [x if isinstance(x, (str, int, float, bool)) else str(x) for x in val]
        else:
            out[str(k)] = str(val)
    return out
