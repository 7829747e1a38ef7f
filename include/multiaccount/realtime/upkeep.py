"""What the monitor does after each assessment besides acting on limits.

- Position lifecycle (`multiaccount.lifecycle`): stops for positions without one, ratio take
  profits, trailing stops, holding periods, intraday flat before the rollover, weekend policy —
  every `lifecycle_every` of clock time, from the positions the monitor has just read (no extra read).
- Bookkeeping in the store, so the dashboard and the daily checklist are current between the
  06:30 and 17:00 procedures: account snapshots every `snapshot_every`, and one violation row per
  verdict when it first appears (not one per second while it lasts).
Each part fails alone: an error is logged and reported, the monitor keeps ticking.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from multiaccount.config import FirmConfig
from multiaccount.domain import AccountState, Position, Severity
from multiaccount.lifecycle import LifecycleApplier, plan_lifecycle
from multiaccount.realtime.events import EventKind, RiskEvent
from multiaccount.risk import RiskAssessment
from multiaccount.risk.market import MarketData

log = logging.getLogger(__name__)


@dataclass
class MonitorUpkeep:
    firm: FirmConfig
    pool: Any  # needs `call(account_id, method, *args, **kwargs)` for modify/close
    store: Any | None
    lifecycle_every: timedelta = timedelta(seconds=5)
    snapshot_every: timedelta = timedelta(seconds=60)
    lifecycle: bool = True  # off only where a test scripts losses on positions deliberately left without stops
    _applier: LifecycleApplier | None = None
    _last_lifecycle: datetime | None = None
    _last_snapshot: datetime | None = None
    _open_verdicts: set = field(default_factory=set)

    def __post_init__(self) -> None:
        self._applier = LifecycleApplier(self.firm, self.pool)

    def run(self, assessment: RiskAssessment, states: Sequence[AccountState], positions: Sequence[Position],
            quotes: dict[str, tuple[float, float]], now: datetime) -> list[RiskEvent]:
        events: list[RiskEvent] = []
        for part in (self._record_violations, self._record_snapshots, self._lifecycle):
            try:
                events.extend(part(assessment, states, positions, quotes, now) or [])
            except Exception as exc:  # one failing part must not stop the others or the monitor
                log.warning("monitor upkeep %s failed: %s", part.__name__, exc)
        return events

    def _record_violations(self, assessment: RiskAssessment, states, positions, quotes, now) -> None:
        current = {v.key: v for v in assessment.verdicts}
        if self.store is not None:
            for key in current.keys() - self._open_verdicts:
                v = current[key]
                self.store.violations.record(v.scope, v.limit, v.measured, v.threshold, v.severity,
                                             action=v.action.value, reason=v.reason, at=now)
        self._open_verdicts = set(current)

    def _record_snapshots(self, assessment, states: Sequence[AccountState], positions, quotes, now) -> None:
        if self.store is None or (self._last_snapshot is not None and now - self._last_snapshot < self.snapshot_every):
            return
        self.store.snapshots.record_many(states)
        by_account: dict[str, list[Position]] = {a: [] for a in self.firm.accounts}
        for p in positions:
            by_account.setdefault(p.account_id, []).append(p)
        connected = {s.account_id for s in states if s.connected}
        for account_id, plist in by_account.items():
            if account_id in connected:  # an unreachable terminal's positions are unknown, not closed
                self.store.positions.replace_open(account_id, plist, at=now)
        self._last_snapshot = now

    def _lifecycle(self, assessment, states, positions: Sequence[Position], quotes, now) -> list[RiskEvent]:
        if not self.lifecycle:
            return []
        if self._last_lifecycle is not None and now - self._last_lifecycle < self.lifecycle_every:
            return []
        self._last_lifecycle = now
        by_account: dict[str, list[Position]] = {}
        for p in positions:
            by_account.setdefault(p.account_id, []).append(p)
        market = MarketData.from_config(self.firm.symbols, quotes)
        assert self._applier is not None
        actions = plan_lifecycle(self.firm, by_account, market, now, self._applier.last_trail)
        events = []
        for action, outcome in self._applier.apply(actions, now):
            if action.code == "TRAILING_STOP" and outcome.status.value in ("filled", "placed"):
                continue  # routine; logged by the applier, not worth an event each time
            events.append(RiskEvent(kind=EventKind.LIFECYCLE, severity=Severity.INFO,
                                    scope=_account_scope(action.account_id), title=f"{action.code} #{action.ticket}",
                                    at=now, action=action.kind.value, reason=action.reason,
                                    data={"ticket": action.ticket, "symbol": action.symbol,
                                          "status": outcome.status.value, "retcode": outcome.retcode}))
        return events


def _account_scope(account_id: str):
    from multiaccount.domain import Scope

    return Scope.account(account_id)
