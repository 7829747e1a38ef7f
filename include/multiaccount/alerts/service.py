"""The alert service: an `EventSink` that writes every event to the outbox and delivers it later.

`publish()` only touches the outbox (the store), never Slack, so a Slack outage or a slow network
never slows the risk monitor or fails a DAG task; it never raises. `deliver_pending()` is called by
the realtime service every few seconds, by DAG tasks at their end and by `multiaccount alerts flush`.

Dedupe: the same violation (the event's `dedupe_key` plus its severity, so a breach is never hidden
behind its own 80 % warning) within `dedupe_window_seconds` becomes a repeat count on the first
alert. After the window a new alert is posted as a reply in the first alert's thread.
Escalation: a critical alert not acknowledged within `escalate_after_seconds` of delivery is
re-posted once to the critical channel with an @here mention (broadcast from its thread).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from multiaccount.alerts.messages import RenderContext, render_item
from multiaccount.alerts.model import DeliveryReport, OutboxItem, PostResult, event_to_dict
from multiaccount.alerts.outbox import AlertOutbox
from multiaccount.alerts.transport import Transport
from multiaccount.config.models import AlertsConfig
from multiaccount.domain import Clock, Scope, Severity
from multiaccount.domain.ports import DomainEvent

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 300.0
ACK_DEDUPE_SECONDS = 7 * 24 * 3600
_LOG_LEVEL = {Severity.CRITICAL: logging.ERROR, Severity.WARNING: logging.WARNING, Severity.INFO: logging.INFO}


def backoff_seconds(attempts: int) -> float:
    """Delay after the `attempts`-th failed attempt: 5 s, 10 s, 20 s ... capped at 5 min."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def outbox_key(event: DomainEvent) -> str:
    return f"{event.dedupe_key}|{event.severity.value}"


class AlertService:
    """Implements `EventSink`; see the module docstring for the delivery rules."""

    def __init__(self, outbox: AlertOutbox, transport: Transport, config: AlertsConfig,
                 render_context: RenderContext | None = None, clock: Clock | None = None,
                 batch_size: int = 50, escalate_on_deliver: bool = True):
        self.outbox = outbox
        self.transport = transport
        self.config = config
        self.ctx = render_context or RenderContext(dashboard_url=config.dashboard_url)
        self.clock = clock
        self.batch_size = batch_size
        self.escalate_on_deliver = escalate_on_deliver

    @classmethod
    def from_env(cls, clock: Clock | None = None) -> AlertService:
        """Firm config and store from the environment (what `bootstrap()` uses)."""
        from multiaccount.alerts.factory import build_from_env

        return build_from_env(clock=clock)

    # ------------------------------------------------------------------ helpers
    def _now(self, now: datetime | None = None) -> datetime:
        if now is not None:
            return now.astimezone(UTC)
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def channel_for(self, severity: Severity) -> str:
        channels = self.config.slack.channels
        return channels.get(severity.value) or channels.get("warning") or next(iter(channels.values()), "#alerts")

    @property
    def slack_configured(self) -> bool:
        return self.transport.name != "log"

    # ------------------------------------------------------------------ EventSink
    def publish(self, event: DomainEvent) -> None:
        """Store the alert for delivery (deduplicated); never raises, whatever Slack or the store do."""
        try:
            now = self._now()
            result = self.outbox.enqueue(outbox_key(event), event.severity, self.channel_for(event.severity),
                                         {"type": "alert", "event": event_to_dict(event)}, now,
                                         self.config.dedupe_window_seconds)
        except Exception:  # the store is down: the log is the last place the alert can go
            log.exception("alert could not be stored: %s %s %s", event.severity.value, event.kind, event.title,
                          extra={"alert_kind": event.kind, "scope": str(event.scope)})
            return
        level = logging.DEBUG if result.is_repeat else _LOG_LEVEL[event.severity]
        log.log(level, "alert #%s %s %s %s: %s%s", result.id, event.severity.value, event.kind, event.scope,
                event.title, f" (repeat {result.repeat_count})" if result.is_repeat else "",
                extra={"alert_id": result.id, "alert_kind": event.kind, "scope": str(event.scope),
                       "measured": event.measured, "limit": event.limit, "repeat_count": result.repeat_count})

    # ------------------------------------------------------------------ delivery
    def _thread_for(self, item: OutboxItem) -> tuple[str | None, bool]:
        """(thread_ts, is_follow_up): follow-ups join the thread of their incident's first message."""
        if not self.transport.supports_threads:
            return None, False
        if item.reply_to is not None:
            original = self.outbox.get(item.reply_to)
            if original is not None and original.channel == item.channel:
                return original.thread_root, False
            return None, False
        root = self.outbox.thread_root(item.dedupe_key, item.channel, item.id)
        return root, root is not None

    def _post(self, item: OutboxItem) -> tuple[PostResult, str | None]:
        try:
            thread_ts, follow_up = self._thread_for(item)
            message = render_item(item, self.ctx, follow_up=follow_up)
            broadcast = item.payload.get("type") == "escalation"
            return self.transport.post(item.channel, message, thread_ts=thread_ts, broadcast=broadcast,
                                       severity=item.severity), thread_ts
        except Exception as exc:  # a rendering bug must not stop other alerts; the item is retried later
            log.exception("alert #%s could not be posted", item.id)
            return PostResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:500]), None

    def deliver_pending(self, now: datetime | None = None) -> DeliveryReport:
        """Send every due outbox item; failures stay queued with a retry time. Never raises on Slack problems."""
        now = self._now(now)
        report = DeliveryReport(transport=self.transport.name)
        if self.escalate_on_deliver:
            report.escalated = self.escalate_unacknowledged(now)
        items = self.outbox.claim_due(now, self.batch_size)
        unavailable_until: datetime | None = None
        for item in items:
            if unavailable_until is not None:  # Slack is down or rate-limiting us: do not hammer it
                self.outbox.mark_failed(item.id, "deferred: Slack unavailable", unavailable_until)
                report.deferred.append(item.id)
                continue
            result, thread_ts = self._post(item)
            if result.ok:
                self.outbox.mark_sent(item.id, result.ts, thread_ts, now)
                report.sent.append(item.id)
                continue
            delay = result.retry_after if result.retry_after is not None else backoff_seconds(item.attempts)
            retry_at = now + timedelta(seconds=delay)
            self.outbox.mark_failed(item.id, result.error, retry_at)
            report.failed.append(item.id)
            report.errors[item.id] = result.error
            log.warning("alert #%s not delivered (%s); retry at %s", item.id, result.error, retry_at.isoformat(),
                        extra={"alert_id": item.id, "retry_at": retry_at.isoformat()})
            if result.transient:
                unavailable_until = retry_at
        if items:
            log.info("alert delivery: %s", report.summary())
        return report

    # ------------------------------------------------------------------ escalation and acknowledgement
    def escalate_unacknowledged(self, now: datetime | None = None) -> list[int]:
        """Queue one @here re-post for each critical alert delivered and not acknowledged in time."""
        now = self._now(now)
        cutoff = now - timedelta(seconds=self.config.escalate_after_seconds)
        escalated: list[int] = []
        for item in self.outbox.unacknowledged(Severity.CRITICAL, cutoff):
            waited = (now - item.sent_at).total_seconds() if item.sent_at else 0
            payload: dict[str, Any] = {"type": "escalation", "reply_to": item.id, "event": item.event_dict,
                                       "unacknowledged_seconds": int(waited)}
            self.outbox.enqueue(f"escalation|{item.id}", Severity.CRITICAL, self.channel_for(Severity.CRITICAL),
                                payload, now, max(1, self.config.escalate_after_seconds))
            self.outbox.mark_escalated(item.id, now)
            escalated.append(item.id)
            log.error("alert #%s escalated: unacknowledged for %.0f s", item.id, waited, extra={"alert_id": item.id})
        return escalated

    def acknowledge(self, alert_id: int, actor: str, now: datetime | None = None) -> OutboxItem | None:
        """Record who took an alert (acknowledging an escalation acknowledges its alert); None if unknown."""
        if not actor.strip():
            raise ValueError("an acknowledgement needs an actor")
        now = self._now(now)
        item = self.outbox.get(alert_id)
        if item is None:
            return None
        target_id = item.reply_to if item.payload.get("type") == "escalation" and item.reply_to else alert_id
        before = self.outbox.get(target_id)
        acked = self.outbox.acknowledge(target_id, actor, now)
        if acked is not None and before is not None and before.acked_at is None:
            self.outbox.enqueue(f"ack|{target_id}", acked.severity, acked.channel,
                                {"type": "acknowledgement", "reply_to": target_id, "actor": actor,
                                 "acked_at": now.strftime("%Y-%m-%d %H:%M:%S UTC"), "event": acked.event_dict},
                                now, ACK_DEDUPE_SECONDS)
            log.info("alert #%s acknowledged by %s", target_id, actor, extra={"alert_id": target_id, "actor": actor})
        return acked

    def send_test(self, actor: str = "cli", now: datetime | None = None) -> DeliveryReport:
        """Publish an info test message and deliver at once: proves token/webhook, routing and rendering."""
        at = self._now(now)
        self.publish(DomainEvent(kind="test", severity=Severity.INFO, scope=Scope.firm(),
                                 title="Test message from multiaccount",
                                 detail=f"Sent by {actor}. If you can read this, alert delivery works.",
                                 at=at, data={"limit_name": f"test-{at.isoformat()}"}))
        return self.deliver_pending(now)  # a fresh `now` when none given: the item is due at once

    def pending(self, limit: int = 50) -> list[OutboxItem]:
        return self.outbox.recent(limit)
