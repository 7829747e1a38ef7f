"""Block Kit messages for every alert type, compared with snapshots under tests/alerts/snapshots/.

Regenerate deliberately with `MULTIACCOUNT_UPDATE_SNAPSHOTS=1 pytest tests/alerts/test_messages.py`
and review the diff; without the flag a missing or different snapshot fails.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from multiaccount.alerts import RenderContext, render_event, render_item
from multiaccount.alerts.events import (
    connection_failure_event,
    daily_summary_event,
    dag_failure_event,
    emergency_stop_event,
    rebalance_confirmation_event,
    risk_violation_event,
    stale_heartbeat_event,
    state_change_event,
)
from multiaccount.alerts.messages import HEADER_MAX, measured_vs_limit
from multiaccount.alerts.model import OutboxItem, event_to_dict
from multiaccount.domain import Scope, Severity, TradingState

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("MULTIACCOUNT_UPDATE_SNAPSHOTS") == "1"
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _item(event, item_id=7, repeat_count=0, payload_extra=None) -> OutboxItem:
    payload = {"type": "alert", "event": event_to_dict(event), **(payload_extra or {})}
    return OutboxItem(id=item_id, dedupe_key=event.dedupe_key, severity=event.severity, channel="#c",
                      payload=payload, status="pending", created_at=AT, last_seen_at=AT + timedelta(minutes=4),
                      repeat_count=repeat_count)


EVENTS = {
    "risk_violation_critical": lambda: risk_violation_event(
        Scope.account("EU_HF_001"), "max_daily_loss", 0.0523, 0.05, severity=Severity.CRITICAL,
        action="account HALTED, new trades blocked until rollover", at=AT,
        detail="Start-of-day equity 100,000.00 USD at 17:00 New York; current equity 94,770.00 USD."),
    "risk_violation_warning": lambda: risk_violation_event(
        Scope.group("high_frequency"), "max_group_risk", 0.066, 0.08, severity=Severity.WARNING,
        action="risk per trade halved for the group", at=AT),
    "emergency_stop": lambda: emergency_stop_event("Firm drawdown 15.2 % reached the emergency threshold.",
                                                   measured=0.152, limit=0.15, at=AT),
    "state_change": lambda: state_change_event(Scope.account("EU_HF_003"), TradingState.ACTIVE,
                                               TradingState.HALTED, reason="MAX_DRAWDOWN: 10.4 % >= 10 %",
                                               actor="risk_monitor", at=AT),
    "connection_failure": lambda: connection_failure_event("EU_HF_002", error="IPC timeout (-10005)", attempts=5,
                                                           server="ICMarkets-Demo", terminal="terminal-03", at=AT),
    "dag_failure": lambda: dag_failure_event("daily_startup", "verify_connections", run_id="scheduled__2026-12-01",
                                             try_number=2, error="ConnectionError: 3/10 accounts unreachable",
                                             log_url="http://127.0.0.1:8080/dags/daily_startup/runs/x", at=AT),
    "stale_heartbeat": lambda: stale_heartbeat_event("risk monitor", age_seconds=95, max_age_seconds=30,
                                                     last_beat=AT - timedelta(seconds=95),
                                                     action="risk_watch halted new trading", at=AT),
    "rebalance_confirmation": lambda: rebalance_confirmation_event(
        "TR-2026-12-01-01", "EU_SW_002", "EU_HF_001", Decimal("12500.00"), reason="Drift 7.5 % above 5 % threshold",
        confirm_hint="multiaccount rebalance confirm TR-2026-12-01-01 --actor <you>", at=AT),
    "daily_summary": lambda: daily_summary_event(
        "2026-12-01", equity=1_012_345.67, pnl=4_321.0, pnl_fraction=0.0043, trades=57, violations=1,
        connected=10, accounts=10, groups={"high_frequency": 0.006, "swing": 0.002, "research": -0.001},
        notes=["EU_HF_003 halted at 14:02 (drawdown)"], report_url="http://127.0.0.1:8050/reports/daily/2026-12-01",
        at=AT),
}


def _check_snapshot(name: str, message) -> None:
    path = SNAPSHOTS / f"{name}.json"
    actual = json.dumps(message.as_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if UPDATE:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with MULTIACCOUNT_UPDATE_SNAPSHOTS=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} message changed; review and regenerate"


@pytest.fixture
def ctx(seed_firm) -> RenderContext:
    return RenderContext.from_firm(seed_firm)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_render_when_each_alert_type_then_blocks_match_snapshot(name, ctx):
    message = render_item(_item(EVENTS[name](), repeat_count=2 if name == "risk_violation_critical" else 0), ctx)

    _check_snapshot(name, message)


def test_render_when_escalation_then_mention_leads_and_matches_snapshot(ctx):
    original = EVENTS["risk_violation_critical"]()
    item = _item(original, item_id=8, payload_extra={"type": "escalation", "reply_to": 7,
                                                     "unacknowledged_seconds": 640})

    message = render_item(item, ctx)

    assert message.text.startswith("<!here>") and message.blocks[0]["text"]["text"].startswith("<!here>")
    _check_snapshot("escalation", message)


def test_render_when_acknowledgement_then_names_actor_and_matches_snapshot(ctx):
    item = _item(EVENTS["risk_violation_critical"](), item_id=9,
                 payload_extra={"type": "acknowledgement", "reply_to": 7, "actor": "alice",
                                "acked_at": "2026-12-01 09:03:00 UTC"})

    _check_snapshot("acknowledgement", render_item(item, ctx))


def test_render_when_account_scope_then_where_names_account_and_its_group(ctx):
    message = render_event(EVENTS["risk_violation_critical"](), ctx)

    where = message.blocks[1]["fields"][0]["text"]
    assert where == "*Where*\nAccount EU_HF_001 (group high_frequency)"
    assert "5.23 % vs limit 5.00 %" in message.text and "account HALTED" in message.text


def test_render_when_dashboard_configured_then_button_links_to_it(ctx):
    message = render_event(EVENTS["state_change"](), ctx)

    assert message.blocks[-1]["elements"][0]["url"] == "http://127.0.0.1:8050"


def test_render_when_event_names_report_then_button_links_to_report(ctx):
    message = render_event(EVENTS["daily_summary"](), ctx)

    assert message.blocks[-1]["elements"][0]["url"].endswith("/reports/daily/2026-12-01")


def test_render_when_title_is_very_long_then_header_fits_slack_limit(ctx):
    event = replace(EVENTS["state_change"](), title="x" * 400)

    message = render_event(event, ctx)

    assert len(message.blocks[0]["text"]["text"]) == HEADER_MAX


@pytest.mark.parametrize(("measured", "limit", "unit", "expected"), [
    (0.052, 0.05, None, "*5.20 %* vs limit 5.00 % (104 % of limit)"),
    (95, 30, "seconds", "*95 s* vs limit 30 s (317 % of limit)"),
    (1250.5, 1000, "money", "*1,250.50 USD* vs limit 1,000.00 USD (125 % of limit)"),
    (0.9, None, "fraction", "90.00 %"),
    (None, None, None, None),
])
def test_measured_vs_limit_when_units_differ_then_formatted_for_a_person(measured, limit, unit, expected):
    data = {"unit": unit} if unit else {}
    event = replace(EVENTS["state_change"](), measured=measured, limit=limit, data=data)

    assert measured_vs_limit(event) == expected


def test_import_when_alerts_package_loaded_then_airflow_is_not_imported():
    import subprocess
    import sys

    code = ("import sys, multiaccount.alerts, multiaccount.alerts.cli, multiaccount.alerts.events; "
            "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"
