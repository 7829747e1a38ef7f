"""The durable outbox on the real store: alerts survive a Slack outage and a process restart."""

from __future__ import annotations

from datetime import timedelta

from multiaccount.alerts import StoreOutbox, build_alerts
from multiaccount.alerts.outbox import CLAIM_LEASE
from multiaccount.store import Store
from tests.alerts.conftest import breach


def test_restart_when_outbox_holds_undelivered_alerts_then_new_process_delivers_each_exactly_once(
        db_url, seed_firm, clock, bot_transport, slack_server):
    # A first process publishes three alerts while Slack is down, then dies; one alert was claimed
    # (status "sending") when it died.
    slack_server.down = True
    first = build_alerts(seed_firm, Store.open(db_url), clock=clock, transport=bot_transport)
    for name in ("daily_loss", "drawdown", "margin"):
        first.publish(breach(clock, limit_name=name))
    failed = first.deliver_pending()
    first.outbox.claim_due(clock.now(), limit=1)  # claimed, then the process "crashes" before posting
    del first
    slack_server.down = False
    clock.advance(CLAIM_LEASE + timedelta(seconds=1))

    # A new process (new Store object on the same database) starts after Slack is back.
    second = build_alerts(seed_firm, Store.open(db_url), clock=clock, transport=bot_transport)
    delivered = second.deliver_pending()
    again = second.deliver_pending(clock.now() + timedelta(minutes=5))  # before escalation is due

    assert len(failed.failed) + len(failed.deferred) == 3
    assert len(delivered.sent) == 3 and again.sent == []
    texts = [p["text"] for p in slack_server.posts()]
    assert len(texts) == 3 and len(set(p["blocks"][-2]["elements"][0]["text"] for p in slack_server.posts())) == 3
    assert {i.status for i in second.pending()} == {"sent"}


def test_publish_when_store_backed_and_repeated_within_window_then_repeat_count_is_stored(
        sqlite_store, seed_firm, clock, bot_transport, slack_server):
    service = build_alerts(seed_firm, sqlite_store, clock=clock, transport=bot_transport)
    for _ in range(4):
        service.publish(breach(clock))
        clock.advance(10)

    service.deliver_pending()

    (item,) = service.pending()
    assert item.repeat_count == 3 and item.status == "sent"
    assert "repeated 3×" in slack_server.posts()[0]["blocks"][-2]["elements"][0]["text"]


def test_deliver_when_store_backed_then_thread_root_is_remembered_for_follow_ups(
        sqlite_store, seed_firm, clock, bot_transport, slack_server):
    service = build_alerts(seed_firm, sqlite_store, clock=clock, transport=bot_transport)
    service.publish(breach(clock))
    service.deliver_pending()
    clock.advance(seed_firm.alerts.dedupe_window_seconds + 1)
    service.publish(breach(clock))

    service.deliver_pending()

    assert slack_server.posts()[1]["thread_ts"] == slack_server.answers[0]["ts"]
    assert isinstance(service.outbox, StoreOutbox)


def test_build_alerts_when_no_slack_in_environment_then_log_delivery_and_nothing_fails(
        sqlite_store, seed_firm, clock, caplog):
    service = build_alerts(seed_firm, sqlite_store, clock=clock, environ={})
    service.publish(breach(clock))

    report = service.deliver_pending()

    assert report.transport == "log" and len(report.sent) == 1
    assert "Slack not configured" in caplog.text and "Daily loss limit breached" in caplog.text
    assert service.pending()[0].status == "sent"


def test_deliver_when_other_code_enqueued_a_plain_text_row_then_it_is_posted_as_text(
        sqlite_store, seed_firm, clock, bot_transport, slack_server):
    sqlite_store.outbox.enqueue("resume|firm", "critical", "#risk-critical", {"text": "Trading resumed by ops"},
                                at=clock.now())
    service = build_alerts(seed_firm, sqlite_store, clock=clock, transport=bot_transport)

    report = service.deliver_pending()
    clock.advance(seed_firm.alerts.escalate_after_seconds)
    escalated = service.deliver_pending()

    assert report.sent == [1] and escalated.escalated == [1]
    first, escalation = slack_server.posts()
    assert "Trading resumed by ops" in first["text"] and first["channel"] == "#risk-critical"
    assert "Trading resumed by ops" in escalation["text"] and escalation["text"].startswith("<!here>")
