"""Carry out a risk assessment at once: flatten, cut risk, emergency stop; record every effect.

`RiskEngine.assess` (risk package) already debounced the verdicts, changed trading states through
the one state service and announced violations to the alert sink. What it leaves to the caller is
the broker work (flatten scopes, reduction steps) and the emergency procedure. This module does
that work and writes one `RiskEvent` per effect (store + Redis, buffered when the store is down).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from multiaccount.config import FirmConfig
from multiaccount.domain import Clock, Scope, Severity
from multiaccount.domain.ports import DomainEvent, EventSink
from multiaccount.realtime.events import EventKind, RiskEvent, finite_or_none
from multiaccount.risk import RiskAssessment, Verdict
from multiaccount.risk.emergency import EmergencyContext, OrderPool, emergency_stop, flatten_accounts
from multiaccount.risk.reduction import plan_intents
from multiaccount.risk.state import scope_accounts

log = logging.getLogger(__name__)

MONITOR_ACTOR = "system:risk_monitor"


class EventWriter(Protocol):
    def append(self, event: RiskEvent) -> bool:
        ...


def verdict_event(v: Verdict, kind: str, at: Any, actor: str, **data: Any) -> RiskEvent:
    detail = {str(k): (x if isinstance(x, (str, int, float, bool)) or x is None else str(x))
              for k, x in (v.detail or {}).items()}
    return RiskEvent(kind=kind, severity=v.severity, scope=v.scope, title=f"{v.limit} {v.action.value} on {v.scope}",
                     at=at, limit=v.limit, measured=finite_or_none(v.measured), threshold=finite_or_none(v.threshold),
                     action=v.action.value, reason=v.reason, actor=actor,
                     data={**detail, **data, "until": v.until.isoformat() if v.until else None})


@dataclass
class AssessmentExecutor:
    firm: FirmConfig
    pool: OrderPool
    alerts: EventSink
    events: EventWriter
    clock: Clock
    emergency: EmergencyContext
    actor: str = MONITOR_ACTOR
    _warned: set = field(default_factory=set)
    _flat_scopes: set = field(default_factory=set)  # scopes verified flat after a flatten

    def execute(self, a: RiskAssessment) -> list[RiskEvent]:
        """Record and act on one assessment; each event is written as soon as it happens."""
        now = self.clock.now()
        out: list[RiskEvent] = []

        def emit(events: list[RiskEvent]) -> None:
            for e in events:
                self.events.append(e)
                out.append(e)

        emit(self._new_warnings(a, now))
        emit([verdict_event(v, EventKind.BREACH, now, self.actor) for v in a.fired
              if v.action.value != "emergency_stop"])
        emit([RiskEvent(kind=EventKind.STATE_CHANGE, severity=Severity.CRITICAL if rec.state.value == "HALTED"
                        else Severity.WARNING, scope=rec.scope, title=f"{rec.scope} -> {rec.state.value}", at=now,
                        action=rec.state.value, reason=rec.reason, actor=rec.actor, data={"version": rec.version})
              for rec in a.state_changes])
        flatten = list(a.flatten)
        if a.emergency:
            emit([self._emergency(a)])
            if self.emergency.close_all_positions:
                flatten = [s for s in flatten if s != Scope.firm()]  # the procedure flattened everything
        for scope in flatten:
            event = self._flatten(scope, now)
            if event is not None:
                emit([event])
        if a.reduction:
            emit([self._reduce(a, now)])
        return out

    def _new_warnings(self, a: RiskAssessment, now: Any) -> list[RiskEvent]:
        """A warning is written when it appears, not every second it persists."""
        current = {(*v.key, v.severity): v for v in a.verdicts if v.severity is Severity.WARNING}
        fresh = [v for k, v in current.items() if k not in self._warned]
        self._warned = set(current)
        return [verdict_event(v, EventKind.WARNING, now, self.actor) for v in fresh]

    def _emergency(self, a: RiskAssessment) -> RiskEvent:
        v = next((v for v in a.fired if v.action.value == "emergency_stop"), None)
        reason = v.reason if v else "EMERGENCY_STOP"
        report = emergency_stop(self.emergency, reason, self.actor)
        data = {"incident_id": report.incident_id, "halted": report.halted, "ok": report.ok,
                "flatten": report.flatten.summary() if report.flatten else "kept open",
                "still_open": {k: list(t) for k, t in (report.flatten.still_open if report.flatten else {}).items()}}
        if v is not None:
            return verdict_event(v, EventKind.EMERGENCY_STOP, self.clock.now(), self.actor, **data)
        return RiskEvent(kind=EventKind.EMERGENCY_STOP, severity=Severity.CRITICAL, scope=Scope.firm(),
                         title="emergency stop", at=self.clock.now(), reason=reason, actor=self.actor, data=data)

    def _flatten(self, scope: Scope, now: Any) -> RiskEvent | None:
        """Close everything in the scope. While the breach persists the engine asks again every read: a
        scope already verified flat with nothing to close makes no new event or alert."""
        report = flatten_accounts(self.pool, scope_accounts(scope, self.firm),
                                  attempts=self.emergency.flatten_attempts,
                                  backoff_seconds=self.emergency.flatten_backoff_seconds)
        if report.flat and report.closed_count == 0 and scope in self._flat_scopes:
            return None
        if report.flat:
            self._flat_scopes.add(scope)
        else:
            self._flat_scopes.discard(scope)
        event = RiskEvent(kind=EventKind.FLATTEN, severity=Severity.CRITICAL, scope=scope,
                          title=f"flatten {scope}: {'flat' if report.flat else 'NOT FLAT'}", at=self.clock.now(),
                          action="flatten", reason=report.summary(), actor=self.actor,
                          data={"flat": report.flat, "closed": report.closed_count,
                                "still_open": {k: list(t) for k, t in report.still_open.items()},
                                "unreachable": list(report.unverified)})
        try:
            self.alerts.publish(DomainEvent(kind="flatten", severity=Severity.CRITICAL, scope=scope, title=event.title,
                                            detail=report.summary(), action="flatten", at=event.at,
                                            data={"limit_name": "flatten", "flat": report.flat}))
        except Exception:
            log.exception("flatten alert failed")
        return event

    def _reduce(self, a: RiskAssessment, now: Any) -> RiskEvent:
        plan_id = f"reduce:{now:%Y%m%dT%H%M%S}"
        intents = plan_intents(list(a.reduction), plan_id)
        try:
            outcomes = list(self.pool.send_many(intents))
            statuses = [o.status.value for o in outcomes]
        except Exception as exc:
            log.exception("reduction orders failed")
            statuses = [f"error: {exc}"]
        return RiskEvent(kind=EventKind.REDUCTION, severity=Severity.WARNING, scope=Scope.firm(),
                         title=f"risk reduction: {len(intents)} close(s)", at=self.clock.now(), action="reduce",
                         reason="; ".join(sorted({s.reason for s in a.reduction})), actor=self.actor,
                         data={"plan_id": plan_id, "steps": [{"account": s.account_id, "ticket": s.ticket,
                                                              "volume": s.close_volume} for s in a.reduction],
                               "outcomes": statuses})
