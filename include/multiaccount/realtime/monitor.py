"""The 1 Hz risk monitor: read every account, evaluate every limit, act at once, beat.

One tick = replay buffered events -> read a snapshot -> `RiskEngine.assess` (evaluate every limit,
debounce, change states) -> execute what it asks (flatten, reduce, emergency stop) -> upkeep
(position lifecycle rules, snapshots and violations to the store; `realtime/upkeep.py`) -> heartbeat. A failing read never kills the loop: it becomes a
`monitor_error` event and the heartbeat says so (status "degraded"), so `risk_watch` can tell a
live-but-blind monitor from a dead one. Ticks are scheduled on a fixed grid (t0 + k/hz), so a
slow tick is followed by an immediate one rather than drifting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from multiaccount.domain import Clock, Scope, Severity
from multiaccount.realtime.events import EventKind, RiskEvent, finite_or_none
from multiaccount.risk import RiskAssessment, RiskSnapshot

log = logging.getLogger(__name__)

HEARTBEAT_COMPONENT = "risk_monitor"


class Assessor(Protocol):
    def assess(self, snapshot: Any) -> RiskAssessment:
        ...


class Executor(Protocol):
    def execute(self, assessment: RiskAssessment) -> list[RiskEvent]:
        ...


class EventBuffer(Protocol):
    def append(self, event: RiskEvent) -> bool:
        ...

    def flush(self) -> bool:
        ...

    @property
    def pending(self) -> int:
        ...


class Beat(Protocol):
    def __call__(self, at: datetime, info: dict[str, Any]) -> None:
        ...


@dataclass(frozen=True)
class TickResult:
    at: datetime
    ok: bool
    assessment: RiskAssessment | None
    events: tuple[RiskEvent, ...] = ()
    error: str = ""


@dataclass
class RiskMonitor:
    read: Callable[[], Any]
    engine: Assessor
    executor: Executor
    events: EventBuffer
    beat: Beat
    clock: Clock
    after: Callable[[RiskAssessment], list[RiskEvent]] | None = None  # upkeep: lifecycle, bookkeeping
    ticks: int = 0
    last: RiskAssessment | None = None
    last_error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tick(self) -> TickResult:
        """One monitoring pass; never raises (errors are events)."""
        with self._lock:
            self.ticks += 1
            self.events.flush()
            try:
                snapshot = self.read()
                assessment = self.engine.assess(snapshot)
            except Exception as exc:
                return self._degraded(exc)
            self.last, self.last_error = assessment, ""
            done = tuple(self.executor.execute(assessment))
            if self.after is not None:
                extra = tuple(self.after(assessment))
                for event in extra:
                    self.events.append(event)
                done += extra
            self._beat("ok", snapshot)
            return TickResult(self.clock.now(), True, assessment, done)

    def _degraded(self, exc: Exception) -> TickResult:
        now = self.clock.now()
        msg = f"{type(exc).__name__}: {exc}"
        log.warning("risk read failed: %s", msg)
        event = None
        if msg != self.last_error:  # one event per distinct failure, not one per second
            event = RiskEvent(kind=EventKind.MONITOR_ERROR, severity=Severity.WARNING, scope=Scope.firm(),
                              title="risk monitor cannot read the firm", at=now, reason=msg)
            self.events.append(event)
        self.last_error = msg
        self._beat("degraded", None)
        return TickResult(now, False, None, (event,) if event else (), msg)

    def _beat(self, status: str, snap: RiskSnapshot | None) -> None:
        info: dict[str, Any] = {"status": status, "ticks": self.ticks, "buffered_events": self.events.pending}
        if snap is not None:
            info.update(firm_risk=finite_or_none(snap.firm_risk), firm_open_risk=finite_or_none(snap.firm_open_risk),
                        firm_drawdown=finite_or_none(snap.firm_drawdown), accounts=len(snap.account_ids),
                        connected=int(snap.connected.sum()), positions=int(len(snap.pos_ticket)))
        if self.last_error:
            info["error"] = self.last_error
        try:
            self.beat(self.clock.now(), info)
        except Exception as exc:  # heartbeat storage down: the watcher will notice staleness
            log.warning("heartbeat failed: %s", exc)

    def run(self, stop: threading.Event, hz: float = 1.0) -> None:
        """Tick at `hz` until `stop` is set."""
        period = 1.0 / hz
        next_at = time.monotonic()
        while not stop.is_set():
            self.tick()
            next_at += period
            delay = next_at - time.monotonic()
            if delay < 0:  # overran: tick again now and re-anchor the grid
                next_at = time.monotonic()
                delay = 0
            stop.wait(delay)

