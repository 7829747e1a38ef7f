"""The DAG failure notifier: Slack provider notifiers configured from our env, outbox when no Slack."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

pytest.importorskip("airflow.providers.slack")

from airflow.providers.slack.notifications.slack import SlackNotifier  # noqa: E402
from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier  # noqa: E402

from multiaccount.alerts.airflow import OutboxFailureCallback, failure_notifier  # noqa: E402
from multiaccount.store import Store  # noqa: E402
from tests.fixtures.slack import FAKE_TOKEN  # noqa: E402


def _context(exc: Exception | None = None) -> dict:
    ti = SimpleNamespace(dag_id="daily_startup", task_id="verify_connections", run_id="scheduled__2026-12-01",
                         try_number=2, log_url="http://127.0.0.1:8080/dags/daily_startup/runs/r/tasks/t")
    return {"ti": ti, "exception": exc or ConnectionError("3/10 accounts unreachable")}


def test_failure_notifier_when_bot_token_set_then_slack_notifier_posts_block_kit_to_warning_channel(
        seed_firm, slack_bot_env):
    notifier = failure_notifier(seed_firm)

    notifier.notify(_context())

    assert isinstance(notifier, SlackNotifier)
    (post,) = slack_bot_env.posts()
    assert post["channel"] == "#risk-alerts"
    assert "daily_startup.verify_connections" in post["text"]
    blocks = post["blocks"] if isinstance(post["blocks"], list) else __import__("json").loads(post["blocks"])
    assert blocks[0]["type"] == "header" and "ConnectionError" in str(blocks)
    assert slack_bot_env.requests[0].headers["Authorization"] == f"Bearer {FAKE_TOKEN}"


def test_failure_notifier_when_only_webhook_set_then_webhook_notifier_posts(seed_firm, slack_webhook_env):
    notifier = failure_notifier(seed_firm)

    notifier.notify(_context())

    assert isinstance(notifier, SlackWebhookNotifier)
    (post,) = slack_webhook_env.webhook_posts()
    assert "daily_startup.verify_connections" in post["text"]


def test_failure_notifier_when_no_slack_then_failure_is_written_to_outbox_and_log(seed_firm, caplog):
    notifier = failure_notifier(seed_firm)

    notifier(_context())

    assert isinstance(notifier, OutboxFailureCallback)
    (row,) = Store.open().outbox.list()
    assert row.payload["event"]["kind"] == "dag_failure" and row.status == "sent"  # delivered to the log
    assert "Airflow task failed: daily_startup.verify_connections" in caplog.text


def test_failure_notifier_when_slack_down_then_failure_lands_in_outbox_for_later(seed_firm, slack_bot_env):
    slack_bot_env.down = True
    notifier = failure_notifier(seed_firm)

    notifier.notify(_context())

    rows = Store.open().outbox.list()
    assert len(rows) == 1 and rows[0].payload["event"]["kind"] == "dag_failure"
    assert rows[0].status == "failed"  # Slack still down; `alerts flush` sends it later


def test_failure_notifier_when_copied_like_default_args_then_no_secret_is_carried(seed_firm, slack_bot_env):
    notifier = failure_notifier(seed_firm)

    clone = copy.deepcopy(notifier)

    assert FAKE_TOKEN not in repr(vars(clone)) and FAKE_TOKEN not in repr(vars(notifier))
    clone.notify(_context())
    assert len(slack_bot_env.posts()) == 1


def test_deferred_notifier_in_dag_default_args_when_task_fails_then_slack_gets_the_failure(slack_bot_env):
    from multiaccount.airflow.dags import default_args

    (callback,) = default_args()["on_failure_callback"]
    clone = copy.deepcopy(callback)  # Airflow copies default_args into every task

    clone(_context())

    (post,) = slack_bot_env.posts()
    assert post["channel"] == "#risk-alerts" and "daily_startup.verify_connections" in post["text"]
