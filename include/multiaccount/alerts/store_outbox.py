"""The alert outbox on the store: `alert_outbox` rows via `store.outbox`, acknowledgements and
escalations as `audit_log` rows via `store.audit`.

The store's outbox table has no columns for acknowledgement or escalation yet, so this thin adapter
records them in the audit log (`alert_ack`, `alert_escalated`, detail `{"alert_id": id}`), which is
also where an auditor looks for who took an alert. The Slack thread root of a sent row is kept in
its `thread_ts` column (for a top-level message that is the message's own ts).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from multiaccount.alerts.model import SEVERITY_RANK, EnqueueResult, OutboxItem
from multiaccount.alerts.outbox import CLAIM_LEASE
from multiaccount.domain import Severity

ACK_ACTION = "alert_ack"
ESCALATED_ACTION = "alert_escalated"
SCAN_LIMIT = 500  # sent rows examined for escalation; far more than a working day's critical alerts


class StoreOutbox:
    """`AlertOutbox` over the store's outbox and audit repositories."""

    def __init__(self, outbox: Any, audit: Any, claim_lease: timedelta = CLAIM_LEASE, store: Any | None = None):
        self.repo = outbox
        self.audit = audit
        self.claim_lease = claim_lease
        self.store = store  # for the indexed thread lookup; without it a scan of recent rows is used

    @classmethod
    def from_store(cls, store: Any) -> StoreOutbox:
        return cls(store.outbox, store.audit, store=store)

    # ------------------------------------------------------------------ row <-> item
    def _marks(self, action: str) -> dict[int, Any]:
        rows = self.audit.list(action=action, limit=SCAN_LIMIT)
        marks: dict[int, Any] = {}
        for r in rows:  # newest first: keep the earliest mark per alert
            alert_id = (r.detail or {}).get("alert_id")
            if alert_id is not None:
                marks[int(alert_id)] = r
        return marks

    def _item(self, row: Any, acks: dict[int, Any] | None = None, escalations: dict[int, Any] | None = None) -> OutboxItem:
        ack = (acks if acks is not None else self._marks(ACK_ACTION)).get(row.id)
        esc = (escalations if escalations is not None else self._marks(ESCALATED_ACTION)).get(row.id)
        return OutboxItem(id=row.id, dedupe_key=row.dedupe_key, severity=Severity(row.severity), channel=row.channel,
                          payload=dict(row.payload or {}), status=row.status, created_at=row.created_at,
                          last_seen_at=row.last_seen_at, repeat_count=row.repeat_count, attempts=row.attempts,
                          next_attempt_at=row.next_attempt_at, sent_at=row.sent_at, ts=None,
                          thread_ts=row.thread_ts, last_error=row.last_error or "",
                          acked_at=ack.at if ack else None, acked_by=ack.actor if ack else None,
                          escalated_at=esc.at if esc else None)

    def _light(self, row: Any) -> OutboxItem:
        """An item without acknowledgement lookups (delivery does not need them)."""
        return self._item(row, acks={}, escalations={})

    # ------------------------------------------------------------------ AlertOutbox
    def enqueue(self, dedupe_key: str, severity: Severity, channel: str, payload: dict[str, Any],
                now: datetime, window_seconds: int) -> EnqueueResult:
        r = self.repo.enqueue(dedupe_key, severity, channel, payload, at=now, window=timedelta(seconds=window_seconds))
        return EnqueueResult(r.id, not r.created, r.repeat_count)

    def claim_due(self, now: datetime, limit: int = 50) -> list[OutboxItem]:
        rows = self.repo.claim_due(limit=limit, at=now, lease=self.claim_lease)
        return sorted((self._light(r) for r in rows), key=lambda i: (SEVERITY_RANK[i.severity], i.id))

    def mark_sent(self, item_id: int, ts: str | None, thread_ts: str | None, now: datetime) -> None:
        self.repo.mark_sent(item_id, now, thread_ts or ts)

    def mark_failed(self, item_id: int, error: str, retry_at: datetime) -> None:
        self.repo.mark_failed(item_id, error, retry_at)

    def get(self, item_id: int) -> OutboxItem | None:
        row = self.repo.get(item_id)
        return self._item(row) if row is not None else None

    def thread_root(self, dedupe_key: str, channel: str, before_id: int) -> str | None:
        if self.store is not None:  # uses the (dedupe_key, created_at) index; the store has no such method yet
            from sqlalchemy import select

            from multiaccount.store.models import AlertOutboxRow as Row

            with self.store.session() as s:
                return s.scalar(select(Row.thread_ts).where(
                    Row.dedupe_key == dedupe_key, Row.channel == channel, Row.id < before_id, Row.status == "sent",
                    Row.thread_ts.is_not(None)).order_by(Row.id).limit(1))
        rows = [r for r in self.repo.list(status="sent", limit=SCAN_LIMIT)
                if r.dedupe_key == dedupe_key and r.channel == channel and r.id < before_id and r.thread_ts]
        return min(rows, key=lambda r: r.id).thread_ts if rows else None

    def acknowledge(self, item_id: int, actor: str, now: datetime) -> OutboxItem | None:
        row = self.repo.get(item_id)
        if row is None:
            return None
        if item_id not in self._marks(ACK_ACTION):
            self.audit.record(actor, ACK_ACTION, scope=(row.payload or {}).get("event", {}).get("scope", "firm"),
                              detail={"alert_id": item_id, "dedupe_key": row.dedupe_key}, at=now)
        return self._item(row)

    def unacknowledged(self, severity: Severity, sent_before: datetime) -> list[OutboxItem]:
        if self.store is not None:
            from sqlalchemy import select

            from multiaccount.store.models import AlertOutboxRow as Row

            with self.store.session() as s:
                candidates = list(s.scalars(select(Row).where(
                    Row.status == "sent", Row.severity == severity.value, Row.sent_at <= sent_before)
                    .order_by(Row.id.desc()).limit(SCAN_LIMIT)))
        else:
            candidates = self.repo.list(status="sent", limit=SCAN_LIMIT)
        if not candidates:
            return []
        acks, escalations = self._marks(ACK_ACTION), self._marks(ESCALATED_ACTION)
        rows = [r for r in candidates
                if r.severity == severity.value and r.sent_at is not None and r.sent_at <= sent_before
                and r.id not in acks and r.id not in escalations and (r.payload or {}).get("reply_to") is None]
        return [self._item(r, acks, escalations) for r in sorted(rows, key=lambda r: r.id)]

    def mark_escalated(self, item_id: int, now: datetime) -> None:
        self.audit.record("alerts", ESCALATED_ACTION, detail={"alert_id": item_id}, at=now)

    def recent(self, limit: int = 50, status: str | None = None) -> list[OutboxItem]:
        acks, escalations = self._marks(ACK_ACTION), self._marks(ESCALATED_ACTION)
        return [self._item(r, acks, escalations) for r in self.repo.list(status=status, limit=limit)]
