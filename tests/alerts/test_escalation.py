"""Escalation of unacknowledged critical alerts and acknowledgement (in memory and on the store)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from multiaccount.alerts import InMemoryOutbox, StoreOutbox
from multiaccount.domain import Severity
from tests.alerts.conftest import breach


@pytest.fixture(params=["memory", "store"])
def outbox(request):
    if request.param == "memory":
        return InMemoryOutbox()
    return StoreOutbox.from_store(request.getfixturevalue("sqlite_store"))


def test_escalate_when_critical_unacknowledged_past_deadline_then_reposted_with_here_in_its_thread(
        make_service, bot_transport, slack_server, clock, seed_firm, outbox):
    service = make_service(bot_transport, outbox=outbox)
    service.publish(breach(clock))
    service.deliver_pending()
    clock.advance(seed_firm.alerts.escalate_after_seconds - 1)
    not_yet = service.deliver_pending()
    clock.advance(1)

    report = service.deliver_pending()

    assert not not_yet.escalated and report.escalated == [1]
    original, escalation = slack_server.posts()
    assert escalation["channel"] == "#risk-critical"
    assert escalation["text"].startswith("<!here>") and "<!here>" in escalation["blocks"][0]["text"]["text"]
    assert escalation["thread_ts"] == slack_server.answers[0]["ts"] and escalation["reply_broadcast"] is True
    assert "10 min" in escalation["blocks"][0]["text"]["text"]


def test_escalate_when_already_escalated_then_not_repeated(make_service, bot_transport, slack_server, clock,
                                                           seed_firm, outbox):
    service = make_service(bot_transport, outbox=outbox)
    service.publish(breach(clock))
    service.deliver_pending()
    clock.advance(seed_firm.alerts.escalate_after_seconds)
    service.deliver_pending()
    clock.advance(seed_firm.alerts.escalate_after_seconds * 3)

    again = service.deliver_pending()

    assert again.escalated == [] and len(slack_server.posts()) == 2


def test_escalate_when_acknowledged_in_time_then_no_escalation_and_ack_posted_in_thread(
        make_service, bot_transport, slack_server, clock, seed_firm, outbox):
    service = make_service(bot_transport, outbox=outbox)
    service.publish(breach(clock))
    service.deliver_pending()
    clock.advance(60)

    acked = service.acknowledge(1, actor="alice")
    service.deliver_pending()
    clock.advance(seed_firm.alerts.escalate_after_seconds * 2)
    later = service.deliver_pending()

    assert acked.acked_by == "alice"
    assert acked.acked_at == clock.now() - timedelta(seconds=2 * seed_firm.alerts.escalate_after_seconds)
    assert later.escalated == []
    original, ack = slack_server.posts()
    assert "acknowledged by alice" in ack["text"] and ack["thread_ts"] == slack_server.answers[0]["ts"]


def test_acknowledge_when_given_the_escalation_id_then_the_original_alert_is_acknowledged(
        make_service, bot_transport, clock, seed_firm, outbox):
    service = make_service(bot_transport, outbox=outbox)
    service.publish(breach(clock))
    service.deliver_pending()
    clock.advance(seed_firm.alerts.escalate_after_seconds)
    service.deliver_pending()
    escalation_id = max(i.id for i in service.outbox.recent())

    service.acknowledge(escalation_id, actor="bob")

    assert service.outbox.get(1).acked_by == "bob"


def test_escalate_when_warning_unacknowledged_then_never_escalated(make_service, bot_transport, clock, seed_firm,
                                                                  outbox):
    service = make_service(bot_transport, outbox=outbox)
    service.publish(breach(clock, severity=Severity.WARNING))
    service.deliver_pending()
    clock.advance(seed_firm.alerts.escalate_after_seconds * 10)

    assert service.escalate_unacknowledged() == []


def test_acknowledge_when_alert_unknown_then_none_and_when_actor_blank_then_error(make_service, bot_transport):
    service = make_service(bot_transport)

    assert service.acknowledge(999, actor="carol") is None
    with pytest.raises(ValueError):
        service.acknowledge(1, actor=" ")


def test_escalate_when_slack_not_configured_then_escalation_goes_to_the_log(make_service, clock, seed_firm, caplog):
    from multiaccount.alerts import LogTransport

    service = make_service(LogTransport())
    service.publish(breach(clock))
    service.deliver_pending()
    clock.advance(seed_firm.alerts.escalate_after_seconds)

    report = service.deliver_pending()

    assert report.escalated == [1] and "ESCALATED #1" in caplog.text
