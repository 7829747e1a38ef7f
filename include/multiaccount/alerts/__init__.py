"""Slack alerts: an outbox-backed `EventSink` with dedupe, severity routing, retries and escalation.

Producers publish `DomainEvent`s (builders in `multiaccount.alerts.events`) to the `AlertService`
made by `build_alerts(firm, store)`; something calls `deliver_pending()` every few seconds (the
realtime service), at the end of DAG tasks, or `multiaccount alerts flush`. Airflow's failure
notifier is in `multiaccount.alerts.airflow` (the only module here that imports Airflow).
"""

from multiaccount.alerts.factory import build_alerts, build_from_env
from multiaccount.alerts.messages import RenderContext, render_event, render_item
from multiaccount.alerts.model import DeliveryReport, OutboxItem, SlackMessage
from multiaccount.alerts.outbox import AlertOutbox, InMemoryOutbox
from multiaccount.alerts.service import AlertService
from multiaccount.alerts.store_outbox import StoreOutbox
from multiaccount.alerts.transport import BotTransport, LogTransport, SlackCredentials, WebhookTransport

__all__ = ["AlertOutbox", "AlertService", "BotTransport", "DeliveryReport", "InMemoryOutbox", "LogTransport",
           "OutboxItem", "RenderContext", "SlackCredentials", "SlackMessage", "StoreOutbox", "WebhookTransport",
           "build_alerts", "build_from_env", "render_event", "render_item"]
