"""The risk engine: evaluate every limit on a snapshot, debounce, and act through the one state service.

`evaluate` is pure (snapshot -> verdicts). `assess` is what the 1 Hz monitor and daily_startup call:
it debounces hard actions (`debounce_reads` consecutive breaching reads; the emergency stop acts on
the first read), escalates trading states, names scopes to flatten and builds reduction plans. It
never sends orders: callers execute `RiskAssessment.flatten` / `.reduction` through brokers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from multiaccount.config.loader import FirmConfig
from multiaccount.domain.model import Scope, ScopeKind, Severity, TradingState
from multiaccount.domain.ports import DomainEvent, EventSink, StateRecord
from multiaccount.risk import reduction
from multiaccount.risk.debounce import Debouncer
from multiaccount.risk.limits import Limit, build_limits
from multiaccount.risk.snapshot import RiskSnapshot
from multiaccount.risk.state import ENGINE_ACTOR, TradingStateService
from multiaccount.risk.verdict import Action, Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RiskAssessment:
    snapshot: RiskSnapshot
    verdicts: list[Verdict]
    fired: list[Verdict]  # verdicts whose action was taken this read (after debounce)
    state_changes: list[StateRecord] = field(default_factory=list)
    flatten: list[Scope] = field(default_factory=list)
    reduction: list[reduction.ReductionStep] = field(default_factory=list)
    emergency: bool = False

    @property
    def worst(self) -> Severity | None:
        sev = {v.severity for v in self.verdicts}
        return Severity.CRITICAL if Severity.CRITICAL in sev else Severity.WARNING if sev else None


class RiskEngine:
    def __init__(self, firm: FirmConfig, states: TradingStateService | None = None,
                 events: EventSink | None = None, limits: list[Limit] | None = None):
        self.firm = firm
        self.limits = limits if limits is not None else build_limits(firm)
        self._reads = {lim.name: lim.debounce_reads for lim in self.limits}
        self.states = states
        self.events = events if events is not None else (states.events if states else None)
        self.debouncer = Debouncer()
        self._clean = Debouncer()
        self._announced: set = set()

    def evaluate(self, snapshot: RiskSnapshot) -> list[Verdict]:
        """Pure: every limit's verdicts on this snapshot."""
        out: list[Verdict] = []
        for lim in self.limits:
            out.extend(lim.evaluate(snapshot))
        return out

    def assess(self, snapshot: RiskSnapshot) -> RiskAssessment:
        verdicts = self.evaluate(snapshot)
        keys = []
        for v in verdicts:
            keys.append((*v.key, v.severity))
            if v.severity is Severity.CRITICAL:
                keys.append((*v.key, Severity.WARNING))
        counts = self.debouncer.observe(keys)
        fired = [v for v in verdicts if v.action.is_hard
                 and counts.get((*v.key, v.severity), 0) >= self._reads.get(v.limit, 1)]
        # a critical verdict supersedes the warning of the same limit/scope
        crit = {v.key for v in fired if v.severity is Severity.CRITICAL}
        fired = [v for v in fired if v.severity is Severity.CRITICAL or v.key not in crit]
        self._announce(verdicts, counts)
        result = RiskAssessment(snapshot, verdicts, fired)
        return self._act(result)

    # ---------------------------------------------------------------- internals
    def _announce(self, verdicts: list[Verdict], counts: dict) -> None:
        """Publish each violation once when it appears (the alerts package dedupes further)."""
        current = set()
        for v in verdicts:
            k = (*v.key, v.severity)
            current.add(k)
            if k in self._announced or self.events is None:
                continue
            self.events.publish(DomainEvent(
                kind="risk_violation", severity=v.severity, scope=v.scope, title=v.reason.split(":")[0],
                detail=v.reason, measured=v.measured, limit=v.threshold, action=v.action.value,
                at=self._now() or snapshot_time(v), data={"limit_name": v.limit, **{k2: str(x) for k2, x in v.detail.items()}}))
        self._announced = current

    def _now(self):
        return self.states.clock.now() if self.states else None

    def _act(self, a: RiskAssessment) -> RiskAssessment:
        changes: list[StateRecord] = []
        flatten: list[Scope] = []
        steps: list[reduction.ReductionStep] = []
        emergency = False
        snap = a.snapshot
        for v in a.fired:
            target = v.action.target_state
            if self.states is not None and target is not None:
                if v.action is Action.HALT_UNTIL:
                    rec = self.states.halt(v.scope, v.reason, ENGINE_ACTOR, until=v.until)
                elif v.action is Action.EMERGENCY_STOP:
                    rec = self.states.halt(v.scope, v.reason, ENGINE_ACTOR)
                else:
                    rec = self.states.escalate(v.scope, target, v.reason)
                if rec is not None:
                    changes.append(rec)
            if v.action is Action.HALT_AND_FLATTEN:
                flatten.append(v.scope)
            elif v.action is Action.EMERGENCY_STOP:
                emergency = True
                if self.firm.master.master_account.emergency_close_all_positions:
                    flatten.append(Scope.firm())
                if self.events is not None and v.severity is Severity.CRITICAL:
                    self.events.publish(DomainEvent(kind="emergency_stop", severity=Severity.CRITICAL,
                                                    scope=Scope.firm(), title="EMERGENCY STOP", detail=v.reason,
                                                    measured=v.measured, limit=v.threshold,
                                                    action="halt_all_and_flatten"))
            elif v.action is Action.REDUCTION_PLAN:
                steps.extend(self._plan(v, snap))
            elif v.action is Action.REDUCE_CORRELATED:
                steps.extend(reduction.correlated_plan(snap, v.threshold))
        changes.extend(self._recover(a))
        return RiskAssessment(snap, a.verdicts, a.fired, changes, flatten, _dedupe(steps), emergency)

    def _plan(self, v: Verdict, snap: RiskSnapshot) -> list[reduction.ReductionStep]:
        if v.limit == "max_total_risk":
            return reduction.total_risk_plan(snap, v.threshold, v.reason)
        if v.limit == "currency_exposure_caps":
            return reduction.currency_plan(snap, v.detail["currency"], v.threshold, v.reason)
        if v.limit == "symbol_correlation_caps":
            return reduction.block_plan(snap, v.detail["symbols"], v.threshold, v.reason)
        if v.limit == "max_group_risk":
            return reduction.group_risk_plan(snap, v.scope.name, v.threshold, v.reason)
        if v.limit == "max_account_risk":
            i = snap.account_index[v.scope.name]
            return reduction.account_risk_plan(snap, v.scope.name, v.threshold * float(snap.equity[i]), v.reason)
        if v.scope.kind is ScopeKind.ACCOUNT:
            # margin level: cut until the level is back above the threshold / warn_fraction
            i = snap.account_index[v.scope.name]
            target_margin = snap.equity[i] * 100.0 / (v.threshold / self.firm.master.risk_controls.warn_fraction)
            keep = max(0.0, target_margin / snap.margin[i]) if snap.margin[i] > 0 else 1.0
            return reduction.account_risk_plan(snap, v.scope.name, snap.account_open_risk[i] * keep, v.reason)
        return []

    def _recover(self, a: RiskAssessment) -> list[StateRecord]:
        """Scopes the engine put in REDUCING, clean for `debounce_reads` reads, go back to ACTIVE."""
        if self.states is None:
            return []
        dirty = {v.scope for v in a.verdicts if v.action.target_state is not None}
        reducing = [r.scope for r in self.states.repo.all()
                    if r.state is TradingState.REDUCING and r.actor == ENGINE_ACTOR and r.scope not in dirty]
        counts = self._clean.observe(reducing)
        reads = self.firm.master.risk_controls.debounce_reads
        out = []
        for scope in reducing:
            if counts.get(scope, 0) >= reads:
                rec = self.states.recover(scope, f"no verdict for {reads} reads")
                if rec:
                    out.append(rec)
        return out


def snapshot_time(v: Verdict) -> datetime:
    return datetime.now(UTC)


def _dedupe(steps: list[reduction.ReductionStep]) -> list[reduction.ReductionStep]:
    """One step per position: keep the largest cut when several limits name the same ticket."""
    best: dict[tuple[str, int], reduction.ReductionStep] = {}
    for s in steps:
        k = (s.account_id, s.ticket)
        if k not in best or s.close_volume > best[k].close_volume:
            best[k] = s
    return list(best.values())
