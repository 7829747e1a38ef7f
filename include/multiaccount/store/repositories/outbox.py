"""Alert outbox: alerts are written in the same transaction as what caused them, then a sender
claims due rows, delivers them and marks them sent or failed (with a retry time). Repeats of the
same `dedupe_key` within a window are counted on the first row instead of alerting again."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, text, update

from multiaccount.domain import Severity
from multiaccount.store.models import AlertOutboxRow
from multiaccount.store.repositories.base import Repository, when
from multiaccount.store.session import lock_for_write

DEFAULT_DEDUPE_WINDOW = timedelta(minutes=15)
DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Enqueued:
    id: int
    created: bool  # False: counted as a repeat of an alert already in the window
    repeat_count: int


class OutboxRepository(Repository):
    def enqueue(self, dedupe_key: str, severity: Severity | str, channel: str, payload: dict[str, Any],
                *, at: datetime | None = None, window: timedelta = DEFAULT_DEDUPE_WINDOW) -> Enqueued:
        at = when(at)
        with self._session() as s:
            lock_for_write(s)
            if s.get_bind().dialect.name == "postgresql":  # serialise enqueues of the same key
                s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"outbox:{dedupe_key}"})
            recent = s.scalar(select(AlertOutboxRow)
                              .where(AlertOutboxRow.dedupe_key == dedupe_key,
                                     AlertOutboxRow.created_at >= at - window)
                              .order_by(AlertOutboxRow.id.desc()).limit(1))
            if recent is not None:
                recent.repeat_count += 1
                recent.last_seen_at = max(recent.last_seen_at, at)
                s.flush()
                return Enqueued(recent.id, False, recent.repeat_count)
            row = AlertOutboxRow(dedupe_key=dedupe_key, severity=str(Severity(severity)), channel=channel,
                                 payload=payload, status="pending", created_at=at, last_seen_at=at,
                                 repeat_count=0, attempts=0, next_attempt_at=at, last_error="")
            s.add(row)
            s.flush()
            return Enqueued(row.id, True, 0)

    def claim_due(self, limit: int = 50, at: datetime | None = None,
                  lease: timedelta = DEFAULT_LEASE) -> list[AlertOutboxRow]:
        """Claim rows due for (re)delivery; a claim older than `lease` is considered abandoned."""
        at = when(at)
        due = or_((AlertOutboxRow.status.in_(("pending", "failed"))) & (AlertOutboxRow.next_attempt_at <= at),
                  (AlertOutboxRow.status == "sending") & (AlertOutboxRow.claimed_at < at - lease))
        with self._session() as s:
            lock_for_write(s)
            ids = list(s.scalars(select(AlertOutboxRow.id).where(due).order_by(AlertOutboxRow.id)
                                 .limit(limit).with_for_update(skip_locked=True)))
            if not ids:
                return []
            s.execute(update(AlertOutboxRow).where(AlertOutboxRow.id.in_(ids))
                      .values(status="sending", claimed_at=at, attempts=AlertOutboxRow.attempts + 1))
            return list(s.scalars(select(AlertOutboxRow).where(AlertOutboxRow.id.in_(ids))
                                  .order_by(AlertOutboxRow.id).execution_options(populate_existing=True)))

    def mark_sent(self, outbox_id: int, ts: datetime | None = None, thread_ts: str | None = None) -> None:
        with self._session() as s:
            s.execute(update(AlertOutboxRow).where(AlertOutboxRow.id == outbox_id)
                      .values(status="sent", sent_at=when(ts), thread_ts=thread_ts, last_error=""))

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None) -> None:
        """Delivery failed; retried at `retry_at`, or given up (`dead`) when it is None."""
        values: dict[str, Any] = {"last_error": error[:2000]}
        if retry_at is None:
            values["status"] = "dead"
        else:
            values.update(status="failed", next_attempt_at=when(retry_at))
        with self._session() as s:
            s.execute(update(AlertOutboxRow).where(AlertOutboxRow.id == outbox_id).values(**values))

    def get(self, outbox_id: int) -> AlertOutboxRow | None:
        with self._session() as s:
            return s.get(AlertOutboxRow, outbox_id, populate_existing=True)

    def list(self, status: str | None = None, limit: int = 200) -> list[AlertOutboxRow]:
        q = select(AlertOutboxRow).order_by(AlertOutboxRow.id.desc()).limit(limit)
        if status is not None:
            q = q.where(AlertOutboxRow.status == status)
        with self._session() as s:
            return list(s.scalars(q))

    def counts(self) -> dict[str, int]:
        with self._session() as s:
            return dict(Counter({st: n for st, n in s.execute(
                select(AlertOutboxRow.status, func.count()).group_by(AlertOutboxRow.status))}))

    def last_for_key(self, dedupe_key: str) -> AlertOutboxRow | None:
        """Newest row of a key (its `thread_ts` lets follow-ups reply in the same Slack thread)."""
        with self._session() as s:
            return s.scalar(select(AlertOutboxRow).where(AlertOutboxRow.dedupe_key == dedupe_key)
                            .order_by(AlertOutboxRow.id.desc()).limit(1))
