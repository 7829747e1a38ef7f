"""Failure notifier for DAG tasks: `default_args={"on_failure_callback": failure_notifier()}`.

The only module of `multiaccount.alerts` that imports Airflow (the package itself stays Airflow-free).

- Bot token in the environment (`SLACK_BOT_TOKEN`, name from alerts.json): a `SlackNotifier` that
  posts our Block Kit failure message to the warning channel.
- Only a webhook: a `SlackWebhookNotifier` posting the same message.
- No Slack: a plain callable that writes the failure into the store's outbox and the log.

Credentials are read from the environment when the callback runs, never stored on the notifier (a
DAG object is printed and serialised). An Airflow connection is not needed: the notifiers' hooks
build their slack-sdk client from our environment variables. If Slack fails in the callback, the
failure goes to the outbox so `multiaccount alerts flush` delivers it later.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from airflow.providers.slack.hooks.slack import SlackHook
from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
from airflow.providers.slack.notifications.slack import SlackNotifier
from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from multiaccount.alerts.events import dag_failure_event
from multiaccount.alerts.factory import credentials_for
from multiaccount.alerts.messages import RenderContext, render_event
from multiaccount.alerts.transport import (
    BASE_URL_ENV,
    DEFAULT_TIMEOUT_SECONDS,
    SLACK_API_URL,
    _quiet_logger,
    default_retry_handlers,
)
from multiaccount.domain import Severity
from multiaccount.domain.ports import DomainEvent

log = logging.getLogger(__name__)
ENV_CONN_ID = "multiaccount_slack_from_env"  # a label only: no Airflow connection is looked up


def failure_event(context: Mapping[str, Any]) -> DomainEvent:
    """The alert for a failed task, from the Airflow callback context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or str(context.get("dag_id", "?"))
    task_id = getattr(ti, "task_id", None) or str(context.get("task_id", "?"))
    run_id = getattr(ti, "run_id", None) or str(context.get("run_id", ""))
    exc = context.get("exception")
    error = f"{type(exc).__name__}: {exc}" if exc is not None else str(context.get("reason", ""))
    log_url = getattr(ti, "log_url", None)
    return dag_failure_event(dag_id, task_id, run_id=run_id or "", try_number=getattr(ti, "try_number", None),
                             error=error, log_url=log_url if isinstance(log_url, str) else None)


def _record_in_outbox(context: Mapping[str, Any], why: str) -> None:
    """Write the failure into the store's outbox (and the log); never raises inside a callback."""
    event = failure_event(context)
    try:
        from multiaccount.alerts.factory import build_from_env

        service = build_from_env()
        service.publish(event)
        service.deliver_pending()
    except Exception:  # noqa: BLE001 - a failure callback must not fail
        log.exception("task failure could not be stored: %s", event.title)
    log.warning("%s (%s): %s", event.title, why, event.detail)


class _EnvSlackHook(SlackHook):
    """SlackHook whose client comes from our environment variable instead of an Airflow connection."""

    def __init__(self, token_env: str, **kwargs: Any):
        super().__init__(slack_conn_id=ENV_CONN_ID, **kwargs)
        self.token_env = token_env

    @cached_property
    def client(self) -> WebClient:
        token = os.environ.get(self.token_env, "").strip()
        if not token:
            raise RuntimeError(f"{self.token_env} is not set")
        return WebClient(token=token, base_url=self.base_url or os.environ.get(BASE_URL_ENV) or SLACK_API_URL,
                         timeout=self.timeout or DEFAULT_TIMEOUT_SECONDS, retry_handlers=self.retry_handlers,
                         logger=_quiet_logger())


class _EnvSlackWebhookHook(SlackWebhookHook):
    def __init__(self, url_env: str, **kwargs: Any):
        super().__init__(slack_webhook_conn_id=ENV_CONN_ID, **kwargs)
        self.url_env = url_env

    @cached_property
    def client(self) -> WebhookClient:
        url = os.environ.get(self.url_env, "").strip()
        if not url:
            raise RuntimeError(f"{self.url_env} is not set")
        return WebhookClient(url=url, timeout=self.timeout or DEFAULT_TIMEOUT_SECONDS,
                             retry_handlers=self.retry_handlers, logger=_quiet_logger())


class MultiaccountSlackNotifier(SlackNotifier):
    """SlackNotifier with our Block Kit failure message and credentials from the environment."""

    def __init__(self, *, token_env: str, render_context: RenderContext, **kwargs: Any):
        super().__init__(slack_conn_id=ENV_CONN_ID, username="multiaccount", **kwargs)
        self.token_env = token_env
        self.render_context = render_context

    @cached_property
    def hook(self) -> SlackHook:
        return _EnvSlackHook(self.token_env, base_url=self.base_url, timeout=self.timeout,
                             retry_handlers=self.retry_handlers or default_retry_handlers())

    def notify(self, context: Any) -> None:
        message = render_event(failure_event(context), self.render_context)
        self.text, self.blocks = message.text, message.blocks
        try:
            super().notify(context)
        except Exception as exc:  # noqa: BLE001 - Slack down: the outbox delivers it later
            _record_in_outbox(context, f"Slack post failed: {type(exc).__name__}")


class MultiaccountSlackWebhookNotifier(SlackWebhookNotifier):
    """SlackWebhookNotifier with our Block Kit failure message and the webhook URL from the environment."""

    def __init__(self, *, url_env: str, render_context: RenderContext, **kwargs: Any):
        super().__init__(slack_webhook_conn_id=ENV_CONN_ID, text="Airflow task failed", **kwargs)
        self.url_env = url_env
        self.render_context = render_context

    @cached_property
    def hook(self) -> SlackWebhookHook:
        return _EnvSlackWebhookHook(self.url_env, timeout=self.timeout,
                                    retry_handlers=self.retry_handlers or default_retry_handlers())

    def notify(self, context: Any) -> None:
        message = render_event(failure_event(context), self.render_context)
        self.text, self.blocks = message.text, message.blocks
        try:
            resp = self.hook.send(text=self.text, blocks=self.blocks, unfurl_links=False, unfurl_media=False)
            if resp.status_code != 200:
                raise RuntimeError(f"webhook answered HTTP {resp.status_code}")
        except Exception as exc:  # noqa: BLE001 - Slack down: the outbox delivers it later
            _record_in_outbox(context, f"Slack webhook failed: {type(exc).__name__}")


class OutboxFailureCallback:
    """No Slack configured: a failed task is recorded in the store's outbox and the log."""

    def __call__(self, context: Mapping[str, Any]) -> None:
        _record_in_outbox(context, "Slack not configured")

    notify = __call__


def failure_notifier(firm: Any | None = None, *, severity: Severity = Severity.WARNING,
                     environ: Mapping[str, str] | None = None, timeout: int | None = None) -> Any:
    """The `on_failure_callback` for DAG tasks, chosen by what the environment configures."""
    if firm is None:
        from multiaccount.config import load_firm

        firm = load_firm()
    creds = credentials_for(firm, dict(environ) if environ is not None else None)
    ctx = RenderContext.from_firm(firm)
    slack = firm.alerts.slack
    if creds.token:
        channel = slack.channels.get(severity.value) or slack.channels.get("warning", "#alerts")
        return MultiaccountSlackNotifier(token_env=slack.bot_token_env, render_context=ctx, channel=channel,
                                         timeout=timeout)
    if creds.webhooks:
        return MultiaccountSlackWebhookNotifier(url_env=slack.webhook_url_env, render_context=ctx, timeout=timeout)
    return OutboxFailureCallback()
