"""Risk events: what the realtime monitor saw and did, in a form every consumer can read.

A `RiskEvent` is written to the store's `risk_events` log (the source of truth, read by the
`risk_watch` DAG through a cursor), optionally to a Redis stream for low-latency consumers, and
turned into a `DomainEvent` for the alert service. It is a plain frozen record with a JSON-safe
dict form so it survives buffering to disk when the store is unavailable.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from multiaccount.domain import Scope, Severity
from multiaccount.domain.ports import DomainEvent


class EventKind:
    """The kinds of risk events the realtime service writes (strings, so the store stays schema-free)."""

    WARNING = "limit_warning"
    BREACH = "limit_breach"
    STATE_CHANGE = "state_change"
    FLATTEN = "flatten"
    REDUCTION = "reduction"
    EMERGENCY_STOP = "emergency_stop"
    EMERGENCY_REBALANCE = "emergency_rebalance"
    SIGNAL = "signal"
    MONITOR_ERROR = "monitor_error"
    LIFECYCLE = "lifecycle"  # a lifecycle rule acted on a position (stop set, closed for holding period ...)
    SERVICE = "service"


@dataclass(frozen=True)
class RiskEvent:
    """One thing the monitor saw or did; `event_id` makes replays after an outage idempotent."""

    kind: str
    severity: Severity
    scope: Scope
    title: str
    at: datetime
    limit: str = ""
    measured: float | None = None
    threshold: float | None = None
    action: str = ""
    reason: str = ""
    actor: str = "risk_monitor"
    data: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        d["scope"] = str(self.scope)
        d["at"] = self.at.astimezone(UTC).isoformat()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RiskEvent:
        return cls(
            kind=d["kind"], severity=Severity(d["severity"]), scope=Scope.parse(d["scope"]), title=d["title"],
            at=datetime.fromisoformat(d["at"]), limit=d.get("limit", ""), measured=d.get("measured"),
            threshold=d.get("threshold"), action=d.get("action", ""), reason=d.get("reason", ""),
            actor=d.get("actor", "risk_monitor"), data=dict(d.get("data") or {}),
            event_id=d.get("event_id") or uuid.uuid4().hex,
        )

    def to_domain_event(self) -> DomainEvent:
        """The alert service's view: same facts, dedupe key per kind+scope+limit."""
        data = {**self.data, "event_id": self.event_id, "actor": self.actor}
        if self.limit:
            data["limit_name"] = self.limit
        return DomainEvent(kind=self.kind, severity=self.severity, scope=self.scope, title=self.title,
                           detail=self.reason, measured=self.measured, limit=self.threshold, action=self.action,
                           at=self.at, data=data)


def finite_or_none(x: Any) -> float | None:
    """A JSON-safe float: NaN, infinities and non-numbers become None."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None
