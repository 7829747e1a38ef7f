"""Delivery against a local fake Slack (Web API and webhook): routing, threads, dedupe, 429/500/timeouts."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from multiaccount.alerts import InMemoryOutbox
from multiaccount.alerts.transport import BotTransport, default_retry_handlers
from multiaccount.domain import Scope, Severity
from multiaccount.domain.ports import DomainEvent
from tests.alerts.conftest import breach
from tests.fixtures.slack import FAKE_TOKEN, WEBHOOK_PATH, Scripted


def test_deliver_when_bot_configured_then_each_severity_goes_to_its_channel(make_service, bot_transport,
                                                                            slack_server, clock):
    service = make_service(bot_transport)
    for sev in Severity:
        service.publish(breach(clock, severity=sev, limit_name=f"limit_{sev.value}"))

    report = service.deliver_pending()

    assert len(report.sent) == 3 and report.ok
    channels = {p["text"].split(":")[0]: p["channel"] for p in slack_server.posts()}
    assert channels == {"CRITICAL": "#risk-critical", "WARNING": "#risk-alerts", "INFO": "#trading-ops"}
    assert all(r.headers["Authorization"] == f"Bearer {FAKE_TOKEN}" for r in slack_server.requests)
    assert slack_server.posts()[0]["blocks"][0]["type"] == "header"


def test_deliver_when_critical_and_info_are_due_then_critical_is_posted_first(make_service, bot_transport,
                                                                               slack_server, clock):
    service = make_service(bot_transport)
    service.publish(breach(clock, severity=Severity.INFO, limit_name="a"))
    service.publish(breach(clock, severity=Severity.CRITICAL, limit_name="b"))

    service.deliver_pending()

    assert [p["channel"] for p in slack_server.posts()] == ["#risk-critical", "#trading-ops"]


def test_publish_when_same_violation_repeats_within_window_then_one_post_with_repeat_count(
        make_service, bot_transport, slack_server, clock):
    service = make_service(bot_transport)
    for measured in (0.051, 0.052, 0.053):
        service.publish(breach(clock, measured=measured))
        clock.advance(30)

    service.deliver_pending()

    posts = slack_server.posts()
    assert len(posts) == 1
    context = next(b for b in posts[0]["blocks"] if b["type"] == "context")["elements"][0]["text"]
    assert "repeated 2×" in context


def test_publish_when_breach_follows_warning_of_same_limit_then_breach_is_not_deduplicated(
        make_service, bot_transport, slack_server, clock):
    service = make_service(bot_transport)
    service.publish(breach(clock, measured=0.041, severity=Severity.WARNING))
    service.publish(breach(clock, measured=0.052, severity=Severity.CRITICAL))

    service.deliver_pending()

    assert sorted(p["channel"] for p in slack_server.posts()) == ["#risk-alerts", "#risk-critical"]


def test_deliver_when_violation_recurs_after_window_then_it_replies_in_the_first_alert_thread(
        make_service, bot_transport, slack_server, clock, seed_firm):
    service = make_service(bot_transport)
    service.publish(breach(clock))
    service.deliver_pending()
    clock.advance(seed_firm.alerts.dedupe_window_seconds + 1)

    service.publish(breach(clock, measured=0.06))
    service.deliver_pending()

    first, second = slack_server.posts()
    assert "thread_ts" not in first
    assert second["thread_ts"] == slack_server.answers[0]["ts"]
    assert "still occurring" in second["blocks"][-2]["elements"][0]["text"]


def test_deliver_when_429_with_short_retry_after_then_retried_inline_after_that_wait(
        make_service, bot_transport, slack_server, sleeps, clock):
    slack_server.script([Scripted(status=429, headers={"Retry-After": "1"},
                                  body={"ok": False, "error": "ratelimited"})])
    service = make_service(bot_transport)
    service.publish(breach(clock))

    report = service.deliver_pending()

    assert report.sent and sleeps.calls == [1.0]
    assert len(slack_server.requests) == 2 and len(slack_server.posts()) == 1


def test_deliver_when_429_with_long_retry_after_then_outbox_waits_exactly_that_long(
        make_service, bot_transport, slack_server, sleeps, clock):
    slack_server.script([Scripted(status=429, headers={"Retry-After": "30"},
                                  body={"ok": False, "error": "ratelimited"})])
    service = make_service(bot_transport)
    service.publish(breach(clock, limit_name="a"))
    service.publish(breach(clock, limit_name="b"))

    first = service.deliver_pending()
    early = service.deliver_pending(clock.now() + timedelta(seconds=29))
    requests_while_limited = len(slack_server.requests)
    late = service.deliver_pending(clock.now() + timedelta(seconds=30))

    assert len(first.failed) == 1 and len(first.deferred) == 1 and sleeps.calls == []
    assert "429" in first.errors[first.failed[0]]
    assert not early.sent and requests_while_limited == 1  # nothing hammered while rate limited
    assert len(late.sent) == 2 and len(slack_server.posts()) == 2


def test_deliver_when_slack_answers_500_then_alert_stays_queued_and_is_sent_once_when_back(
        make_service, bot_transport, slack_server, clock):
    slack_server.script([Scripted(status=500, body="boom"), Scripted(status=500, body="boom")])
    service = make_service(bot_transport)
    service.publish(breach(clock))

    failed = service.deliver_pending()
    too_soon = service.deliver_pending(clock.now() + timedelta(seconds=4))
    again = service.deliver_pending(clock.now() + timedelta(seconds=5))
    after = service.deliver_pending(clock.now() + timedelta(seconds=60))

    assert failed.failed and "500" in next(iter(failed.errors.values()))
    assert len(slack_server.requests) == 3  # first try + one inline retry, then the outbox retry
    assert not too_soon.sent and again.sent and not after.sent
    assert len(slack_server.posts()) == 1


def test_deliver_when_slack_times_out_then_marked_failed_and_retried_later(make_service, bot_transport,
                                                                           slack_server, clock):
    slack_server.script([Scripted(delay=1.0)])
    service = make_service(bot_transport)
    service.publish(breach(clock))

    timed_out = service.deliver_pending()
    retried = service.deliver_pending(clock.now() + timedelta(seconds=5))

    assert timed_out.failed and "imeout" in next(iter(timed_out.errors.values()))
    assert retried.sent
    assert service.outbox.get(retried.sent[0]).status == "sent"


def test_deliver_when_slack_is_down_then_only_one_alert_is_tried_and_the_rest_deferred(
        make_service, bot_transport, slack_server, clock):
    slack_server.down = True
    service = make_service(bot_transport)
    for name in ("a", "b", "c"):
        service.publish(breach(clock, limit_name=name))

    report = service.deliver_pending()

    assert len(report.failed) == 1 and len(report.deferred) == 2
    assert len(slack_server.requests) == 2  # one alert, one inline 503 retry


def test_deliver_when_only_webhook_configured_then_blocks_go_to_the_webhook(make_service, webhook_transport,
                                                                            slack_server, clock):
    service = make_service(webhook_transport)
    service.publish(breach(clock))

    report = service.deliver_pending()

    assert report.sent and report.transport == "slack-webhook"
    (post,) = slack_server.webhook_posts()
    assert post["blocks"][0]["type"] == "header" and post["text"].startswith("CRITICAL")
    assert slack_server.requests[0].path == WEBHOOK_PATH


def test_deliver_when_webhook_rate_limited_then_retry_after_is_honoured(make_service, webhook_transport,
                                                                        slack_server, clock):
    slack_server.script([Scripted(status=429, headers={"Retry-After": "20"}, body="rate_limited")])
    service = make_service(webhook_transport)
    service.publish(breach(clock))

    first = service.deliver_pending()
    early = service.deliver_pending(clock.now() + timedelta(seconds=19))
    on_time = service.deliver_pending(clock.now() + timedelta(seconds=20))

    assert first.failed and not early.sent and on_time.sent


def test_deliver_when_token_is_wrong_then_error_stored_and_no_secret_in_logs(make_service, slack_server,
                                                                            clock, caplog, sleeps):
    secret = "xoxb-wrong-SECRET-42"
    transport = BotTransport(secret, base_url=slack_server.base_url, timeout=0.5,
                             retry_handlers=default_retry_handlers(sleep=sleeps))
    service = make_service(transport)
    service.publish(breach(clock))
    caplog.set_level(logging.DEBUG)

    report = service.deliver_pending()

    item = service.outbox.get(report.failed[0])
    assert "invalid_auth" in item.last_error
    assert secret not in caplog.text and secret not in item.last_error


def test_deliver_when_webhook_used_at_debug_level_then_webhook_url_never_logged(make_service, webhook_transport,
                                                                               slack_server, clock, caplog):
    caplog.set_level(logging.DEBUG)
    service = make_service(webhook_transport)
    service.publish(breach(clock))

    service.deliver_pending()

    assert WEBHOOK_PATH.rsplit("/", 1)[-1] not in caplog.text


def test_publish_when_outbox_is_broken_then_nothing_raises_and_the_alert_is_logged(make_service, bot_transport,
                                                                                   clock, caplog):
    class BrokenOutbox(InMemoryOutbox):
        def enqueue(self, *args, **kwargs):
            raise OSError("disk full")

    service = make_service(bot_transport, outbox=BrokenOutbox())

    service.publish(breach(clock))

    assert "could not be stored" in caplog.text and "Daily loss limit breached" in caplog.text


def test_publish_when_slack_down_then_publish_returns_without_touching_slack(make_service, bot_transport,
                                                                             slack_server, clock):
    slack_server.down = True
    service = make_service(bot_transport)

    service.publish(breach(clock))

    assert slack_server.requests == [] and service.outbox.recent()[0].status == "pending"


@pytest.mark.parametrize("transport_fixture", ["bot_transport", "webhook_transport"])
def test_send_test_when_slack_configured_then_a_test_message_arrives(make_service, request, slack_server,
                                                                     transport_fixture):
    service = make_service(request.getfixturevalue(transport_fixture))

    report = service.send_test(actor="ops")

    assert report.sent
    bodies = slack_server.posts() + slack_server.webhook_posts()
    assert len(bodies) == 1 and "Test message" in bodies[0]["text"] and bodies[0].get("channel", "#trading-ops") \
        == "#trading-ops"


def test_deliver_when_event_cannot_be_rendered_then_other_alerts_still_go_out(make_service, bot_transport,
                                                                              slack_server, clock):
    service = make_service(bot_transport)
    bad = DomainEvent(kind="risk_violation", severity=Severity.CRITICAL, scope=Scope.firm(), title="bad",
                      at=clock.now(), data={"limit_name": "bad", "fields": [["only-one-element"]]})
    service.publish(bad)
    service.publish(breach(clock))

    report = service.deliver_pending()

    assert len(report.sent) == 1 and len(report.failed) == 1
    assert len(slack_server.posts()) == 1
