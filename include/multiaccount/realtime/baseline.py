"""Measurement starts for drawdown and daily loss, persisted so a restart measures from the same place.

Kept in the store's kv under `risk.baseline` as `{"peaks": {...}, "day_start": {...},
"day_started_at": iso}` (keys `<account>`, `group:<g>`, `firm`; the dashboard reads the same key).
At the 17:00 New York rollover the start-of-day equities are re-taken from the first read of the new
trading day; peaks only rise; a manual resume rebases the resumed scope (its peak and start-of-day
are re-taken from the next read), as DESIGN.md section 3 requires.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, Protocol

from multiaccount.config import FirmConfig
from multiaccount.domain import Scope, ScopeKind
from multiaccount.risk.calendar import trading_day_start
from multiaccount.risk.snapshot import FIRM_KEY, RiskBaseline, RiskSnapshot, group_key

log = logging.getLogger(__name__)

BASELINE_KEY = "risk.baseline"


class KV(Protocol):
    def get(self, key: str, default: Any = None) -> Any:
        ...

    def set(self, key: str, value: Any, at: datetime | None = None) -> None:
        ...


def scope_keys(firm: FirmConfig, scope: Scope) -> set[str]:
    """Baseline keys a scope covers: itself, and its accounts (a firm resume rebases everything)."""
    if scope.kind is ScopeKind.FIRM:
        return {FIRM_KEY, *(group_key(g) for g in firm.groups), *firm.accounts}
    if scope.kind is ScopeKind.GROUP:
        return {group_key(scope.name), *firm.accounts_in(scope.name)}
    return {scope.name}


class BaselineKeeper:
    def __init__(self, firm: FirmConfig, kv: KV | None):
        self.firm = firm
        self.kv = kv
        self._lock = threading.Lock()
        self._baseline = self._load()

    def _load(self) -> RiskBaseline:
        raw = None
        if self.kv is not None:
            try:
                raw = self.kv.get(BASELINE_KEY)
            except Exception as exc:
                log.warning("could not load risk baseline: %s", exc)
        if not isinstance(raw, dict):
            return RiskBaseline()
        started = raw.get("day_started_at")
        return RiskBaseline(dict(raw.get("peaks") or {}), dict(raw.get("day_start") or {}),
                            datetime.fromisoformat(started) if started else None)

    def current(self, now: datetime) -> RiskBaseline:
        """The baseline to measure this read against; empty day_start after a rollover."""
        with self._lock:
            b = self._baseline
            if b.day_started_at is None or b.day_started_at < trading_day_start(now):
                return RiskBaseline(b.peaks, {}, None)
            return b

    def update(self, snapshot: RiskSnapshot) -> None:
        """Raise peaks, take start-of-day values on a new day, persist."""
        with self._lock:
            prev = self._baseline
            new = snapshot.updated_baseline(prev)
            day_start = dict(prev.day_start)
            started = prev.day_started_at
            if started is None or started < trading_day_start(snapshot.at):
                day_start, started = {}, trading_day_start(snapshot.at)
            for i, a in enumerate(snapshot.account_ids):
                if a not in day_start and snapshot.reported[i]:
                    day_start[a] = float(snapshot.account_day_start[i])
            for j, g in enumerate(snapshot.group_ids):
                day_start.setdefault(group_key(g), float(snapshot.group_day_start[j]))
            day_start.setdefault(FIRM_KEY, float(snapshot.firm_day_start))
            self._baseline = RiskBaseline(new.peaks, day_start, started)
            if new.peaks != prev.peaks or day_start != prev.day_start:
                self._save()

    def rebase(self, scope: Scope, at: datetime | None = None) -> None:
        """After a manual resume: measure the scope from its next read (the state service hook)."""
        keys = scope_keys(self.firm, scope)
        with self._lock:
            b = self._baseline
            self._baseline = RiskBaseline({k: v for k, v in b.peaks.items() if k not in keys},
                                          {k: v for k, v in b.day_start.items() if k not in keys},
                                          b.day_started_at)
            self._save()
        log.info("risk baseline rebased for %s", scope)

    def as_dict(self) -> dict[str, Any]:
        b = self._baseline
        return {"peaks": dict(b.peaks), "day_start": dict(b.day_start),
                "day_started_at": b.day_started_at.isoformat() if b.day_started_at else None}

    def _save(self) -> None:
        if self.kv is None:
            return
        try:
            self.kv.set(BASELINE_KEY, self.as_dict())
        except Exception as exc:  # the store may be down; the next change saves again
            log.warning("could not persist risk baseline: %s", exc)
