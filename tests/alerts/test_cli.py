"""`multiaccount alerts ...` end to end through the typer app, against the fake Slack."""

from __future__ import annotations

from typer.testing import CliRunner

from multiaccount.alerts import build_from_env
from multiaccount.cli import app
from tests.alerts.conftest import breach

runner = CliRunner(env={"COLUMNS": "240"})


def test_alerts_test_when_bot_configured_then_message_reaches_info_channel(slack_bot_env):
    result = runner.invoke(app, ["alerts", "test", "--actor", "ops"])

    assert result.exit_code == 0, result.output
    assert "delivered via slack-bot" in result.output
    (post,) = slack_bot_env.posts()
    assert post["channel"] == "#trading-ops" and "Sent by ops" in str(post["blocks"])


def test_alerts_test_when_slack_down_then_exit_1_with_reason(slack_bot_env):
    slack_bot_env.down = True

    result = runner.invoke(app, ["alerts", "test"])

    assert result.exit_code == 1 and "503" in result.output


def test_alerts_flush_when_outbox_has_pending_then_they_are_sent(slack_bot_env, clock):
    build_from_env().publish(breach(clock))

    result = runner.invoke(app, ["alerts", "flush", "--strict"])

    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output and len(slack_bot_env.posts()) == 1


def test_alerts_flush_when_slack_down_and_strict_then_exit_1(slack_bot_env, clock):
    slack_bot_env.down = True
    build_from_env().publish(breach(clock))

    result = runner.invoke(app, ["alerts", "flush", "--strict"])

    assert result.exit_code == 1 and "1 failed" in result.output


def test_alerts_ack_when_alert_exists_then_recorded_and_listed(slack_bot_env, clock):
    service = build_from_env()
    service.publish(breach(clock))
    service.deliver_pending()

    result = runner.invoke(app, ["alerts", "ack", "1", "--actor", "alice"])
    listing = runner.invoke(app, ["alerts", "list"])

    assert result.exit_code == 0, result.output
    assert "acknowledged by alice" in result.output
    assert "alice" in listing.output and "Daily loss" in listing.output
    assert "acknowledged by alice" in slack_bot_env.posts()[-1]["text"]


def test_alerts_ack_when_alert_unknown_then_exit_1(slack_bot_env):
    result = runner.invoke(app, ["alerts", "ack", "42", "--actor", "alice"])

    assert result.exit_code == 1 and "no alert #42" in result.output


def test_alerts_list_when_no_slack_configured_then_alerts_are_in_the_store(clock):
    build_from_env().publish(breach(clock))

    result = runner.invoke(app, ["alerts", "list", "--unacked"])

    assert result.exit_code == 0 and "risk_violation" in result.output and "pending" in result.output
