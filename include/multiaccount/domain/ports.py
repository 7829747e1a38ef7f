"""Ports the domain needs from the outside world, with in-memory adapters for tests and fakes.

The store package provides the SQL adapters (`multiaccount.store`); the alerts package provides the
Slack/outbox sink. Keeping the protocols here lets risk, routing and procedures be tested alone.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from multiaccount.domain.model import OrderIntent, OrderOutcome, Scope, Severity, TradingState


class StaleStateError(Exception):
    """Optimistic concurrency: the trading state changed since it was read (retryable after re-read)."""


@dataclass(frozen=True)
class StateRecord:
    scope: Scope
    state: TradingState
    reason: str
    actor: str
    changed_at: datetime
    version: int  # 0 = never set (implicitly ACTIVE)


class TradingStateRepository(Protocol):
    def get(self, scope: Scope) -> StateRecord:
        """Current state; ACTIVE with version 0 when never set."""
        ...

    def all(self) -> list[StateRecord]:
        """Every scope whose state was ever set."""
        ...

    def set(self, scope: Scope, state: TradingState, reason: str, actor: str,
            expected_version: int | None = None, at: datetime | None = None) -> StateRecord:
        """Change state (audited). Raises StaleStateError if expected_version is given and differs."""
        ...

    def history(self, scope: Scope | None = None, limit: int = 100) -> list[StateRecord]:
        """Newest first."""
        ...


class OrderLedger(Protocol):
    """Idempotency ledger: one row per client order id, ever."""

    def reserve(self, intent: OrderIntent, at: datetime) -> bool:
        """Insert a pending row; False when the client id already exists (a replay)."""
        ...

    def reserve_many(self, intents: Sequence[OrderIntent], at: datetime) -> list[bool]:
        """`reserve` for each intent, answered in order, written at once (a signal's whole fan-out).
        An id given twice in one batch is won by its first intent only."""
        ...

    def get(self, client_id: str) -> OrderOutcome | None:
        """The recorded outcome, or None when unknown or still pending."""
        ...

    def complete(self, outcome: OrderOutcome, at: datetime) -> None:
        """Record the outcome, also for a never-reserved id (nothing is lost)."""
        ...

    def complete_many(self, outcomes: Sequence[OrderOutcome], at: datetime) -> None:
        """`complete` for each outcome, written at once; an id given twice keeps its last outcome."""
        ...


@dataclass(frozen=True)
class DomainEvent:
    """Something operators must hear about: a violation, a state change, an emergency stop ..."""

    kind: str  # e.g. "risk_violation", "state_change", "emergency_stop", "connection_failure"
    severity: Severity
    scope: Scope
    title: str
    detail: str = ""
    measured: float | None = None
    limit: float | None = None
    action: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        return f"{self.kind}|{self.scope}|{self.data.get('limit_name', self.title)}"


class EventSink(Protocol):
    def publish(self, event: DomainEvent) -> None:
        ...


# ---------------------------------------------------------------- in-memory adapters
class InMemoryTradingStateRepository:
    def __init__(self) -> None:
        self._current: dict[Scope, StateRecord] = {}
        self._history: list[StateRecord] = []
        self._lock = threading.Lock()

    def get(self, scope: Scope) -> StateRecord:
        with self._lock:
            return self._current.get(scope) or StateRecord(scope, TradingState.ACTIVE, "", "", datetime.min.replace(
                tzinfo=UTC), 0)

    def all(self) -> list[StateRecord]:
        with self._lock:
            return list(self._current.values())

    def set(self, scope: Scope, state: TradingState, reason: str, actor: str,
            expected_version: int | None = None, at: datetime | None = None) -> StateRecord:
        with self._lock:
            cur = self._current.get(scope)
            version = cur.version if cur else 0
            if expected_version is not None and expected_version != version:
                raise StaleStateError(f"{scope}: expected version {expected_version}, found {version}")
            rec = StateRecord(scope, state, reason, actor, at or datetime.now(UTC), version + 1)
            self._current[scope] = rec
            self._history.append(rec)
            return rec

    def history(self, scope: Scope | None = None, limit: int = 100) -> list[StateRecord]:
        with self._lock:
            rows = [r for r in reversed(self._history) if scope is None or r.scope == scope]
            return rows[:limit]


class InMemoryOrderLedger:
    def __init__(self) -> None:
        self._rows: dict[str, tuple[OrderIntent, OrderOutcome | None]] = {}
        self._lock = threading.Lock()

    def reserve(self, intent: OrderIntent, at: datetime) -> bool:
        return self.reserve_many([intent], at)[0]

    def reserve_many(self, intents: Sequence[OrderIntent], at: datetime) -> list[bool]:
        won: list[bool] = []
        with self._lock:
            for intent in intents:
                new = intent.client_id not in self._rows
                if new:
                    self._rows[intent.client_id] = (intent, None)
                won.append(new)
        return won

    def get(self, client_id: str) -> OrderOutcome | None:
        with self._lock:
            row = self._rows.get(client_id)
            return row[1] if row else None

    def complete(self, outcome: OrderOutcome, at: datetime) -> None:
        self.complete_many([outcome], at)

    def complete_many(self, outcomes: Sequence[OrderOutcome], at: datetime) -> None:
        with self._lock:
            for outcome in outcomes:
                intent, _ = self._rows.get(outcome.client_id, (None, None))
                self._rows[outcome.client_id] = (intent, outcome)  # type: ignore[assignment]

    def outcomes(self) -> list[OrderOutcome]:
        with self._lock:
            return [o for _, o in self._rows.values() if o is not None]


class RecordingEventSink:
    """Keeps every published event; the fake used in tests and when nothing else is wired."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, event: DomainEvent) -> None:
        self.events.append(event)

    def of_kind(self, kind: str) -> list[DomainEvent]:
        return [e for e in self.events if e.kind == kind]


__all__ = ["DomainEvent", "EventSink", "InMemoryOrderLedger", "InMemoryTradingStateRepository", "OrderLedger",
           "RecordingEventSink", "StaleStateError", "StateRecord", "TradingStateRepository", "replace"]
