"""Value types of the alert pipeline: outbox items, Slack messages, post results, delivery reports.

A `DomainEvent` is turned into a JSON-safe payload when it enters the outbox (so it survives a crash
and a restart), and back into a `DomainEvent` when it is rendered for delivery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from multiaccount.domain import Scope, Severity
from multiaccount.domain.ports import DomainEvent

SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


def json_safe(value: Any) -> Any:
    """Make `value` storable as JSON without losing what an operator needs to read (Decimal as text)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, Scope):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    return str(value)


def event_to_dict(event: DomainEvent) -> dict[str, Any]:
    return {
        "kind": event.kind, "severity": event.severity.value, "scope": str(event.scope), "title": event.title,
        "detail": event.detail, "measured": json_safe(event.measured), "limit": json_safe(event.limit),
        "action": event.action, "at": json_safe(event.at), "data": json_safe(event.data),
    }


def _float_or_none(v: Any) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def event_from_dict(d: dict[str, Any]) -> DomainEvent:
    at = datetime.fromisoformat(d["at"]) if d.get("at") else datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return DomainEvent(kind=d["kind"], severity=Severity(d["severity"]), scope=Scope.parse(d.get("scope") or "firm"),
                       title=d.get("title", ""), detail=d.get("detail", ""), measured=_float_or_none(d.get("measured")),
                       limit=_float_or_none(d.get("limit")), action=d.get("action", ""), at=at,
                       data=dict(d.get("data") or {}))


@dataclass(frozen=True)
class OutboxItem:
    """One alert waiting for, or done with, delivery. `repeat_count` counts deduplicated repeats."""

    id: int
    dedupe_key: str
    severity: Severity
    channel: str
    payload: dict[str, Any]
    status: str
    created_at: datetime
    last_seen_at: datetime
    repeat_count: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    ts: str | None = None
    thread_ts: str | None = None
    last_error: str = ""
    acked_at: datetime | None = None
    acked_by: str | None = None
    escalated_at: datetime | None = None

    @property
    def event_dict(self) -> dict[str, Any]:
        """The stored event; rows other code enqueued straight into the store (e.g. `{"text": ...}`)
        get a plain event built from their payload, so they are delivered too."""
        if "event" in self.payload:
            return self.payload["event"]
        p = self.payload
        title = str(p.get("title") or p.get("text") or p.get("kind") or self.dedupe_key)
        detail = str(p.get("detail") or (p.get("text") if p.get("title") else "") or "")
        return {"kind": str(p.get("kind") or "message"), "severity": self.severity.value,
                "scope": str(p.get("scope") or "firm"), "title": title[:300], "detail": detail,
                "action": str(p.get("action") or ""), "at": self.created_at.isoformat(),
                "data": {k: json_safe(v) for k, v in p.items() if k in ("url", "fields", "links", "unit")}}

    @property
    def event(self) -> DomainEvent:
        return event_from_dict(self.event_dict)

    @property
    def reply_to(self) -> int | None:
        """Follow-ups (acknowledgement, escalation) name the alert whose thread they belong to."""
        value = self.payload.get("reply_to")
        return int(value) if value is not None else None

    @property
    def thread_root(self) -> str | None:
        """The `ts` a follow-up must reply to: the thread this message started or joined."""
        return self.thread_ts or self.ts


@dataclass(frozen=True)
class EnqueueResult:
    id: int
    is_repeat: bool
    repeat_count: int


@dataclass(frozen=True)
class SlackMessage:
    """What Slack receives: `text` is the notification/fallback line, `blocks` the Block Kit body."""

    text: str
    blocks: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


@dataclass(frozen=True)
class PostResult:
    ok: bool
    ts: str | None = None
    channel: str | None = None
    error: str = ""
    retry_after: float | None = None  # seconds Slack asked us to wait (429 Retry-After)
    transient: bool = False  # Slack or the network is unavailable: stop this batch, retry later


@dataclass
class DeliveryReport:
    """What one `deliver_pending` call did; `failed` items stay in the outbox for a later attempt."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    transport: str = "log"

    @property
    def ok(self) -> bool:
        return not self.failed and not self.deferred

    def summary(self) -> str:
        return (f"{len(self.sent)} sent, {len(self.failed)} failed, {len(self.deferred)} deferred, "
                f"{len(self.escalated)} escalated via {self.transport}")
