"""Emergency procedures from the seed: emergency stop, flatten with retries, emergency rebalance.

Emergency stop (seed, "Emergency Risk Management"):
  1. halt all new trades (firm HALTED, through the one place that changes state),
  2. close all positions when `master_account.emergency_close_all_positions` is set,
  3. alert ("All trading halted - manual intervention required"),
  4. record an incident whose timeline lists each step with its time and outcome.

Flattening never trusts a single call: after every close attempt it re-reads the account's
positions from the terminal (reconcile before resend, DESIGN.md section 4) and retries with
backoff until the account is flat or the attempts run out; the report then names every ticket
still open, so an operator knows exactly what to close by hand. A terminal that disconnects
mid-flatten is just a failed attempt.

Emergency rebalance: if total risk is above the threshold, the risk package's reduction plan (largest
open risks first, the last cut partial) runs as reduce-only closes; then the capital rebalance.

No Airflow, no broker SDK: the pool, state service, incident log and alert sink are ports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from multiaccount.domain import (
    Clock,
    OrderIntent,
    OrderOutcome,
    OrderStatus,
    Position,
    Scope,
    Severity,
    SystemClock,
    TradingState,
)
from multiaccount.domain.ports import DomainEvent, EventSink
from multiaccount.risk.reduction import ReductionStep, plan_intents, total_risk_plan
from multiaccount.risk.snapshot import RiskSnapshot

log = logging.getLogger(__name__)

EMERGENCY_ALERT_TEXT = "All trading halted - manual intervention required"
DONE_STATUSES = {OrderStatus.FILLED, OrderStatus.PARTIAL, OrderStatus.DUPLICATE}


# ------------------------------------------------------------------ ports
class FlattenPool(Protocol):
    def positions(self, account_id: str | None = None) -> Sequence[Position]:
        ...

    def close_positions(self, account_id: str, tickets: Sequence[int] | None = None) -> Sequence[OrderOutcome]:
        ...


class OrderPool(FlattenPool, Protocol):
    def send_many(self, intents: Sequence[OrderIntent]) -> Sequence[OrderOutcome]:
        ...


class StateChanger(Protocol):
    """The one place trading state changes (`multiaccount.risk.TradingStateService`)."""

    def halt(self, scope: Scope, reason: str, actor: str, until: datetime | None = None) -> Any:
        ...

    def state(self, scope: Scope) -> TradingState:
        ...


class IncidentRecorder(Protocol):
    """An incident with a timeline (`multiaccount.store` IncidentRepository)."""

    def open(self, title: str, severity: Severity | str, scope: Scope | str = "firm", actor: str = "system",
             key: str | None = None, text: str = "", at: datetime | None = None,
             data: dict[str, Any] | None = None) -> Any:
        """Returns the incident (with `.id`)."""
        ...

    def add_entry(self, incident_id: int, text: str, actor: str = "system", kind: str = "note",
                  data: dict[str, Any] | None = None, at: datetime | None = None) -> int:
        ...


# ------------------------------------------------------------------ flatten
@dataclass(frozen=True)
class AccountFlatten:
    account_id: str
    closed: tuple[int, ...]
    still_open: tuple[int, ...]
    attempts: int
    errors: tuple[str, ...] = ()
    verified: bool = True  # False: the terminal never answered, so "nothing open" is not known

    @property
    def flat(self) -> bool:
        return self.verified and not self.still_open


@dataclass(frozen=True)
class FlattenReport:
    accounts: tuple[AccountFlatten, ...]

    @property
    def flat(self) -> bool:
        return all(a.flat for a in self.accounts)

    @property
    def closed_count(self) -> int:
        return sum(len(a.closed) for a in self.accounts)

    @property
    def still_open(self) -> dict[str, tuple[int, ...]]:
        return {a.account_id: a.still_open for a in self.accounts if a.still_open}

    @property
    def unverified(self) -> tuple[str, ...]:
        return tuple(a.account_id for a in self.accounts if not a.verified)

    def summary(self) -> str:
        if self.flat:
            return f"FLAT: closed={self.closed_count}, accounts={len(self.accounts)}"
        left = ", ".join(f"{acc}={list(t)}" for acc, t in self.still_open.items())
        unknown = f", unreachable: {list(self.unverified)}" if self.unverified else ""
        return f"NOT_FLAT: closed={self.closed_count}, still_open: {left or 'none known'}{unknown}"


def _open_tickets(pool: FlattenPool, account_id: str) -> tuple[int, ...]:
    return tuple(sorted(p.ticket for p in pool.positions(account_id) if p.account_id == account_id))


def flatten_account(pool: FlattenPool, account_id: str, *, attempts: int = 5, backoff_seconds: float = 0.05,
                    sleep: Callable[[float], None] = time.sleep) -> AccountFlatten:
    """Close every position of one account; re-read and retry until flat or out of attempts."""
    closed: list[int] = []
    errors: list[str] = []
    last_known: tuple[int, ...] = ()
    verified = False
    for attempt in range(1, attempts + 1):
        try:
            last_known = _open_tickets(pool, account_id)
            verified = True
        except Exception as exc:  # disconnected terminal: a failed attempt, not a crash
            errors.append(f"attempt {attempt}: positions: {exc}")
            sleep(backoff_seconds * attempt)
            continue
        if not last_known:
            return AccountFlatten(account_id, tuple(closed), (), attempt - 1, tuple(errors))
        try:
            outcomes = pool.close_positions(account_id, tickets=list(last_known))
            for o in outcomes:
                if o.status not in DONE_STATUSES:
                    errors.append(f"attempt {attempt}: {o.status.value} {o.retcode} {o.reason}".strip())
        except Exception as exc:
            errors.append(f"attempt {attempt}: close: {exc}")
        try:
            now_open = _open_tickets(pool, account_id)
        except Exception as exc:
            errors.append(f"attempt {attempt}: positions: {exc}")
            sleep(backoff_seconds * attempt)
            continue
        closed.extend(t for t in last_known if t not in now_open)
        last_known = now_open
        if not now_open:
            return AccountFlatten(account_id, tuple(closed), (), attempt, tuple(errors))
        sleep(backoff_seconds * attempt)
    log.error("account not flat after %d attempts", attempts,
              extra={"account_id": account_id, "still_open": list(last_known)})
    return AccountFlatten(account_id, tuple(closed), last_known, attempts, tuple(errors), verified)


def flatten_accounts(pool: FlattenPool, account_ids: Iterable[str], *, attempts: int = 5,
                     backoff_seconds: float = 0.05, max_workers: int = 50,
                     sleep: Callable[[float], None] = time.sleep) -> FlattenReport:
    """Flatten accounts concurrently (each account's terminal works in parallel)."""
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return FlattenReport(())
    with ThreadPoolExecutor(max_workers=min(max_workers, len(ids)), thread_name_prefix="flatten") as ex:
        results = list(ex.map(lambda a: flatten_account(pool, a, attempts=attempts,
                                                        backoff_seconds=backoff_seconds, sleep=sleep), ids))
    return FlattenReport(tuple(results))


# ------------------------------------------------------------------ emergency stop
@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EmergencyReport:
    reason: str
    actor: str
    incident_id: int | None
    halted: bool
    flatten: FlattenReport | None
    alerted: bool
    timeline: tuple[TimelineEntry, ...]

    @property
    def ok(self) -> bool:
        return self.halted and (self.flatten is None or self.flatten.flat)


@dataclass
class EmergencyContext:
    """What the emergency procedures act on; `bootstrap()` (or a test) fills it."""

    account_ids: Sequence[str]
    pool: FlattenPool
    states: StateChanger
    alerts: EventSink
    incidents: IncidentRecorder | None = None
    clock: Clock = field(default_factory=SystemClock)
    close_all_positions: bool = True
    flatten_attempts: int = 5
    flatten_backoff_seconds: float = 0.05


class _Timeline:
    """Collects timeline entries and mirrors each into the incident as it happens."""

    def __init__(self, ctx: EmergencyContext, actor: str):
        self.ctx, self.actor = ctx, actor
        self.entries: list[TimelineEntry] = []
        self.incident_id: int | None = None

    def open(self, title: str, key: str) -> None:
        if self.ctx.incidents is None:
            return
        try:
            row = self.ctx.incidents.open(title, Severity.CRITICAL, Scope.firm(), self.actor, key=key,
                                          at=self.ctx.clock.now())
            self.incident_id = int(row.id)
        except Exception as exc:  # the stop must proceed even if the store is down
            log.error("could not open incident: %s", exc)

    def add(self, kind: str, text: str, **data: Any) -> None:
        entry = TimelineEntry(self.ctx.clock.now(), kind, text, data)
        self.entries.append(entry)
        if self.ctx.incidents is not None and self.incident_id is not None:
            try:
                self.ctx.incidents.add_entry(self.incident_id, text, self.actor, kind, _jsonable(data), entry.at)
            except Exception as exc:
                log.error("could not write incident entry: %s", exc)


def emergency_stop(ctx: EmergencyContext, reason: str, actor: str,
                   close_all_positions: bool | None = None) -> EmergencyReport:
    """The seed's emergency stop: halt, flatten (if configured), alert, record. Safe to repeat."""
    if not reason.strip() or not actor.strip():
        raise ValueError("an emergency stop needs a reason and an actor")
    close_all = ctx.close_all_positions if close_all_positions is None else close_all_positions
    started = ctx.clock.now()
    tl = _Timeline(ctx, actor)
    tl.open(f"EMERGENCY STOP: {reason}", key=f"emergency_stop:{started.isoformat()}")
    tl.add("detected", f"emergency stop requested: {reason}", reason=reason)

    halted = False
    try:
        ctx.states.halt(Scope.firm(), f"EMERGENCY_STOP: {reason}", actor)
        halted = ctx.states.state(Scope.firm()) is TradingState.HALTED
        tl.add("action", "firm HALTED: all new trades stopped")
    except Exception as exc:
        log.exception("emergency stop could not halt the firm")
        tl.add("error", f"halt failed: {exc}")

    report: FlattenReport | None = None
    if close_all:
        report = flatten_accounts(ctx.pool, ctx.account_ids, attempts=ctx.flatten_attempts,
                                  backoff_seconds=ctx.flatten_backoff_seconds)
        tl.add("action" if report.flat else "error", report.summary(), closed=report.closed_count,
               still_open={k: list(v) for k, v in report.still_open.items()})
    else:
        tl.add("note", "positions kept open (emergency_close_all_positions is false)")

    alerted = False
    detail = f"{reason}. " + (report.summary() if report else "positions kept open")
    try:
        ctx.alerts.publish(DomainEvent(
            kind="emergency_stop", severity=Severity.CRITICAL, scope=Scope.firm(), title=EMERGENCY_ALERT_TEXT,
            detail=detail, action="emergency_stop", at=ctx.clock.now(),
            data={"actor": actor, "reason": reason, "incident_id": tl.incident_id,
                  "still_open": {k: list(v) for k, v in (report.still_open if report else {}).items()}}))
        alerted = True
        tl.add("alert", "critical alert sent")
    except Exception as exc:
        log.exception("emergency alert failed")
        tl.add("error", f"alert failed: {exc}")

    tl.add("done", "emergency stop complete" if (halted and (report is None or report.flat))
           else "emergency stop INCOMPLETE: manual action required")
    return EmergencyReport(reason, actor, tl.incident_id, halted, report, alerted, tuple(tl.entries))


# ------------------------------------------------------------------ emergency rebalance
@dataclass(frozen=True)
class EmergencyRebalanceReport:
    total_risk_before: float
    threshold: float
    reduction: tuple[ReductionStep, ...]
    outcomes: tuple[OrderOutcome, ...]
    rebalance_result: Any


def emergency_rebalance(snapshot: RiskSnapshot, *, threshold: float, target_risk: float, pool: OrderPool,
                        plan_id: str, rebalance: Callable[[], Any] | None = None) -> EmergencyRebalanceReport:
    """Seed's emergency rebalance: if total risk > threshold, cut the largest open risks until total
    risk <= target (reduce-only closes, deterministic ids), then run the capital rebalance."""
    total_risk = float(snapshot.firm_risk)
    steps: tuple[ReductionStep, ...] = ()
    outcomes: tuple[OrderOutcome, ...] = ()
    if total_risk > threshold:
        steps = tuple(total_risk_plan(snapshot, target_risk, "EMERGENCY_REBALANCE"))
        if steps:
            outcomes = tuple(pool.send_many(plan_intents(list(steps), plan_id)))
        log.warning("emergency risk reduction", extra={"total_risk": total_risk, "steps": len(steps)})
    result = rebalance() if rebalance is not None else None
    return EmergencyRebalanceReport(total_risk, threshold, steps, outcomes, result)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    """Timeline data as JSON-safe values (tuples become lists)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
