"""The outbox port the alert service needs, and an in-memory adapter (tests, and no store at all).

The durable adapter over the store's `alert_outbox` table is `multiaccount.alerts.store_outbox`.
Delivery is at least once: an item is claimed (status `sending`) before it is posted; a process that
dies between the post and `mark_sent` leaves a claim that expires after `claim_lease` and is retried.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from multiaccount.alerts.model import SEVERITY_RANK, EnqueueResult, OutboxItem
from multiaccount.domain import Severity

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
CLAIM_LEASE = timedelta(minutes=2)


class AlertOutbox(Protocol):
    def enqueue(self, dedupe_key: str, severity: Severity, channel: str, payload: dict[str, Any],
                now: datetime, window_seconds: int) -> EnqueueResult:
        """Insert, or count a repeat of an item with the same key created within the window."""
        ...

    def claim_due(self, now: datetime, limit: int = 50) -> list[OutboxItem]:
        """Items due for delivery, critical first, marked as being sent (each claim counts an attempt)."""
        ...

    def mark_sent(self, item_id: int, ts: str | None, thread_ts: str | None, now: datetime) -> None: ...

    def mark_failed(self, item_id: int, error: str, retry_at: datetime) -> None: ...

    def get(self, item_id: int) -> OutboxItem | None: ...

    def thread_root(self, dedupe_key: str, channel: str, before_id: int) -> str | None:
        """The ts of the earliest delivered message of this incident in this channel, if any."""
        ...

    def acknowledge(self, item_id: int, actor: str, now: datetime) -> OutboxItem | None: ...

    def unacknowledged(self, severity: Severity, sent_before: datetime) -> list[OutboxItem]:
        """Delivered, not acknowledged, not escalated, not a follow-up, sent at or before the cutoff."""
        ...

    def mark_escalated(self, item_id: int, now: datetime) -> None: ...

    def recent(self, limit: int = 50, status: str | None = None) -> list[OutboxItem]:
        """Newest first."""
        ...


def _due(item: OutboxItem, now: datetime, lease: timedelta) -> bool:
    if item.status in (PENDING, FAILED):
        return item.next_attempt_at is None or item.next_attempt_at <= now
    if item.status == SENDING:  # a claim whose process died: retry after the lease
        return item.next_attempt_at is not None and item.next_attempt_at <= now
    return False


class InMemoryOutbox:
    """A faithful in-process outbox; loses everything on exit, so production uses the store's."""

    def __init__(self, claim_lease: timedelta = CLAIM_LEASE) -> None:
        self._items: dict[int, OutboxItem] = {}
        self._next_id = 1
        self._lock = threading.Lock()
        self.claim_lease = claim_lease

    def enqueue(self, dedupe_key: str, severity: Severity, channel: str, payload: dict[str, Any],
                now: datetime, window_seconds: int) -> EnqueueResult:
        with self._lock:
            since = now - timedelta(seconds=window_seconds)
            same = [i for i in self._items.values() if i.dedupe_key == dedupe_key and i.created_at >= since]
            if window_seconds > 0 and same:
                latest = max(same, key=lambda i: i.id)
                updated = replace(latest, repeat_count=latest.repeat_count + 1, last_seen_at=now,
                                  payload=payload if latest.status in (PENDING, FAILED) else latest.payload)
                self._items[latest.id] = updated
                return EnqueueResult(latest.id, True, updated.repeat_count)
            item = OutboxItem(id=self._next_id, dedupe_key=dedupe_key, severity=severity, channel=channel,
                              payload=payload, status=PENDING, created_at=now, last_seen_at=now, next_attempt_at=now)
            self._items[item.id] = item
            self._next_id += 1
            return EnqueueResult(item.id, False, 0)

    def claim_due(self, now: datetime, limit: int = 50) -> list[OutboxItem]:
        with self._lock:
            due = sorted((i for i in self._items.values() if _due(i, now, self.claim_lease)),
                         key=lambda i: (SEVERITY_RANK[i.severity], i.id))[:limit]
            claimed = [replace(i, status=SENDING, next_attempt_at=now + self.claim_lease, attempts=i.attempts + 1)
                       for i in due]
            for i in claimed:
                self._items[i.id] = i
            return claimed

    def mark_sent(self, item_id: int, ts: str | None, thread_ts: str | None, now: datetime) -> None:
        with self._lock:
            i = self._items[item_id]
            self._items[item_id] = replace(i, status=SENT, ts=ts, thread_ts=thread_ts, sent_at=now,
                                           last_error="")

    def mark_failed(self, item_id: int, error: str, retry_at: datetime) -> None:
        with self._lock:
            i = self._items[item_id]
            self._items[item_id] = replace(i, status=FAILED, last_error=error, next_attempt_at=retry_at)

    def get(self, item_id: int) -> OutboxItem | None:
        with self._lock:
            return self._items.get(item_id)

    def thread_root(self, dedupe_key: str, channel: str, before_id: int) -> str | None:
        with self._lock:
            earlier = sorted((i for i in self._items.values() if i.dedupe_key == dedupe_key and i.channel == channel
                              and i.id < before_id and i.status == SENT and i.thread_root), key=lambda i: i.id)
            return earlier[0].thread_root if earlier else None

    def acknowledge(self, item_id: int, actor: str, now: datetime) -> OutboxItem | None:
        with self._lock:
            i = self._items.get(item_id)
            if i is None:
                return None
            if i.acked_at is None:
                i = self._items[item_id] = replace(i, acked_at=now, acked_by=actor)
            return i

    def unacknowledged(self, severity: Severity, sent_before: datetime) -> list[OutboxItem]:
        with self._lock:
            return sorted((i for i in self._items.values() if i.severity == severity and i.status == SENT
                           and i.sent_at is not None and i.sent_at <= sent_before and i.acked_at is None
                           and i.escalated_at is None and i.reply_to is None), key=lambda i: i.id)

    def mark_escalated(self, item_id: int, now: datetime) -> None:
        with self._lock:
            self._items[item_id] = replace(self._items[item_id], escalated_at=now)

    def recent(self, limit: int = 50, status: str | None = None) -> list[OutboxItem]:
        with self._lock:
            rows = [i for i in self._items.values() if status is None or i.status == status]
            return sorted(rows, key=lambda i: i.id, reverse=True)[:limit]
