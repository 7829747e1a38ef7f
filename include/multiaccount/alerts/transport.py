"""Ways an alert leaves the building: Slack bot token (threads, routing), incoming webhook, or the log.

Credentials come only from the environment (variable names in `config/alerts.json`) and never appear
in a log line or a stored error: slack-sdk's own HTTP loggers are replaced by a quiet one (the
webhook client logs its URL, which is the secret, at DEBUG), and error texts are scrubbed.

Retries: slack-sdk retry handlers retry a 429 inline only when Retry-After is short
(`BoundedRateLimitRetryHandler`); a longer wait goes back to the outbox as `retry_after`, so a
delivery loop never blocks for a minute. 500/503 and connection resets get one inline retry.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, RetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.http_retry.handler import default_interval_calculator
from slack_sdk.webhook import WebhookClient

from multiaccount.alerts.model import PostResult, SlackMessage
from multiaccount.domain import Severity

log = logging.getLogger(__name__)
_LOG_LEVEL = {Severity.CRITICAL: logging.ERROR, Severity.WARNING: logging.WARNING, Severity.INFO: logging.INFO}

DEFAULT_TIMEOUT_SECONDS = 10
MAX_INLINE_RETRY_AFTER = 2.0
SLACK_API_URL = "https://slack.com/api/"
BASE_URL_ENV = "MULTIACCOUNT_SLACK_API_URL"  # tests and on-premise proxies; never a secret


def _quiet_logger() -> logging.Logger:
    """A logger for slack-sdk clients that never emits DEBUG request dumps (they contain the webhook URL)."""
    quiet = logging.getLogger("multiaccount.alerts.slack_http")
    quiet.setLevel(logging.INFO)
    return quiet


def retry_after_seconds(headers: Any) -> float | None:
    """Retry-After from a response's headers (dict of str or of lists, any case)."""
    if not headers:
        return None
    for key, value in dict(headers).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, (list, tuple)) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Honours 429 Retry-After inline when it is short; longer waits are left to the outbox's retry_at."""

    def __init__(self, max_retry_count: int = 1, max_wait: float = MAX_INLINE_RETRY_AFTER,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(max_retry_count=max_retry_count, interval_calculator=default_interval_calculator)
        self.max_wait = max_wait
        self.sleep = sleep

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # noqa: ANN001 - slack-sdk types
        if response is None or response.status_code != 429:
            return False
        wait = retry_after_seconds(response.headers)
        return wait is None or wait <= self.max_wait

    def prepare_for_next_attempt(self, *, state, request, response=None, error=None) -> None:  # noqa: ANN001
        wait = retry_after_seconds(response.headers if response is not None else None)
        state.next_attempt_requested = True
        self.sleep(1.0 if wait is None else wait)
        state.increment_current_attempt()


def default_retry_handlers(sleep: Callable[[float], None] = time.sleep,
                           max_inline_wait: float = MAX_INLINE_RETRY_AFTER,
                           error_retry_interval: float | None = None) -> list[RetryHandler]:
    """One inline retry each for connection resets, short 429s and 500/503; the outbox does the rest."""
    interval = (FixedValueRetryIntervalCalculator(error_retry_interval) if error_retry_interval is not None
                else default_interval_calculator)
    return [ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=interval),
            BoundedRateLimitRetryHandler(max_retry_count=1, max_wait=max_inline_wait, sleep=sleep),
            ServerErrorRetryHandler(max_retry_count=1, interval_calculator=interval)]


class Transport(Protocol):
    name: str
    supports_threads: bool

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None,
             broadcast: bool = False, severity: Severity | None = None) -> PostResult: ...


class _Scrubber:
    def __init__(self, *secrets: str | None):
        self._secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text


def _network_failure(exc: BaseException, scrub: _Scrubber) -> PostResult:
    return PostResult(ok=False, error=scrub(f"{type(exc).__name__}: {exc}")[:500], transient=True)


class BotTransport:
    """chat.postMessage with a bot token: routes to any channel and threads follow-ups via thread_ts."""

    name = "slack-bot"
    supports_threads = True

    def __init__(self, token: str, base_url: str = SLACK_API_URL, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 retry_handlers: list[RetryHandler] | None = None):
        self._scrub = _Scrubber(token)
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout, logger=_quiet_logger(),
                                retry_handlers=retry_handlers if retry_handlers is not None else default_retry_handlers())

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None,
             broadcast: bool = False, severity: Severity | None = None) -> PostResult:
        kwargs: dict[str, Any] = {"channel": channel, "text": message.text, "blocks": message.blocks,
                                  "unfurl_links": False, "unfurl_media": False}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
            if broadcast:
                kwargs["reply_broadcast"] = True
        try:
            resp = self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = self._scrub(str(exc.response.get("error") if isinstance(exc.response.data, dict) else "")
                                or f"HTTP {status}")
            return PostResult(ok=False, error=f"HTTP {status}: {error}"[:500],
                              retry_after=retry_after_seconds(exc.response.headers) if status == 429 else None,
                              transient=status == 429 or status >= 500)
        except (SlackClientError, URLError, TimeoutError, socket.timeout, ConnectionError, OSError) as exc:
            return _network_failure(exc, self._scrub)
        return PostResult(ok=True, ts=resp.get("ts"), channel=resp.get("channel"))


class WebhookTransport:
    """An incoming webhook: one fixed channel per URL, no threads, no ts in the answer."""

    name = "slack-webhook"
    supports_threads = False

    def __init__(self, urls: dict[Severity | None, str], timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 retry_handlers: list[RetryHandler] | None = None):
        if None not in urls:
            raise ValueError("a default webhook URL is required")
        self._scrub = _Scrubber(*urls.values())
        handlers = retry_handlers if retry_handlers is not None else default_retry_handlers()
        self.clients = {sev: WebhookClient(url=url, timeout=timeout, logger=_quiet_logger(), retry_handlers=handlers)
                        for sev, url in urls.items()}

    def client_for(self, severity: Severity | None) -> WebhookClient:
        return self.clients.get(severity) or self.clients[None]

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None,
             broadcast: bool = False, severity: Severity | None = None) -> PostResult:
        try:
            resp = self.client_for(severity).send(text=message.text, blocks=message.blocks,
                                                  unfurl_links=False, unfurl_media=False)
        except (SlackClientError, URLError, TimeoutError, socket.timeout, ConnectionError, OSError) as exc:
            return _network_failure(exc, self._scrub)
        if resp.status_code == 200:
            return PostResult(ok=True, ts=None, channel=channel)
        return PostResult(ok=False, error=self._scrub(f"HTTP {resp.status_code}: {resp.body}")[:500],
                          retry_after=retry_after_seconds(resp.headers) if resp.status_code == 429 else None,
                          transient=resp.status_code == 429 or resp.status_code >= 500)


class LogTransport:
    """No Slack configured: the alert is already in the store; this writes it to the log and succeeds."""

    name = "log"
    supports_threads = False

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None,
             broadcast: bool = False, severity: Severity | None = None) -> PostResult:
        level = _LOG_LEVEL.get(severity, logging.INFO) if severity is not None else logging.INFO
        log.log(level, "alert (Slack not configured): %s", message.text, extra={"alert_channel": channel})
        return PostResult(ok=True, ts=None, channel=channel)


@dataclass(frozen=True)
class SlackCredentials:
    """Which Slack the environment configures; `repr` never shows a secret."""

    token: str | None = None
    webhooks: dict[Severity | None, str] | None = None

    def __repr__(self) -> str:
        return f"SlackCredentials(token={'set' if self.token else 'unset'}, webhooks={len(self.webhooks or {})})"

    @property
    def configured(self) -> bool:
        return bool(self.token or self.webhooks)

    @classmethod
    def from_env(cls, token_env: str = "SLACK_BOT_TOKEN", webhook_env: str = "SLACK_WEBHOOK_URL",
                 environ: dict[str, str] | None = None) -> SlackCredentials:
        env = os.environ if environ is None else environ
        token = (env.get(token_env) or "").strip() or None
        hooks: dict[Severity | None, str] = {}
        default = (env.get(webhook_env) or "").strip()
        if default:
            hooks[None] = default
            for sev in Severity:  # optional per-severity webhooks: SLACK_WEBHOOK_URL_CRITICAL ...
                url = (env.get(f"{webhook_env}_{sev.value.upper()}") or "").strip()
                if url:
                    hooks[sev] = url
        return cls(token=token, webhooks=hooks or None)


def build_transport(credentials: SlackCredentials, base_url: str | None = None,
                    timeout: float = DEFAULT_TIMEOUT_SECONDS,
                    retry_handlers: list[RetryHandler] | None = None) -> Transport:
    """Bot token first (routing and threads), else webhook, else the log."""
    if credentials.token:
        url = base_url or os.environ.get(BASE_URL_ENV) or SLACK_API_URL
        return BotTransport(credentials.token, base_url=url, timeout=timeout, retry_handlers=retry_handlers)
    if credentials.webhooks:
        return WebhookTransport(credentials.webhooks, timeout=timeout, retry_handlers=retry_handlers)
    return LogTransport()
