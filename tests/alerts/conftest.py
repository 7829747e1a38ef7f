"""Helpers for alert tests: a service wired to the fake Slack (bot or webhook) with recorded sleeps."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from multiaccount.alerts import AlertService, InMemoryOutbox, RenderContext
from multiaccount.alerts.transport import BotTransport, WebhookTransport, default_retry_handlers
from multiaccount.domain import Scope, Severity
from multiaccount.domain.ports import DomainEvent
from tests.fixtures.slack import FAKE_TOKEN


@dataclass
class Sleeps:
    """Stands in for time.sleep inside slack-sdk retry handlers: records, never sleeps."""

    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def bot_transport(slack_server, sleeps) -> BotTransport:
    return BotTransport(FAKE_TOKEN, base_url=slack_server.base_url, timeout=0.5,
                        retry_handlers=default_retry_handlers(sleep=sleeps, error_retry_interval=0.01))


@pytest.fixture
def webhook_transport(slack_server, sleeps) -> WebhookTransport:
    return WebhookTransport({None: slack_server.webhook_url}, timeout=0.5,
                            retry_handlers=default_retry_handlers(sleep=sleeps, error_retry_interval=0.01))


@pytest.fixture
def make_service(seed_firm, clock):
    def make(transport, outbox=None, **kwargs) -> AlertService:
        return AlertService(outbox or InMemoryOutbox(), transport, seed_firm.alerts,
                            RenderContext.from_firm(seed_firm), clock=clock, **kwargs)
    return make


def breach(clock, account: str = "EU_HF_001", measured: float = 0.052, severity: Severity = Severity.CRITICAL,
           limit_name: str = "max_daily_loss") -> DomainEvent:
    return DomainEvent(kind="risk_violation", severity=severity, scope=Scope.account(account),
                       title="Daily loss limit breached", measured=measured, limit=0.05, action="account HALTED",
                       at=clock.now(), data={"limit_name": limit_name})
