"""What the `risk_watch` DAG does with what its trigger found (plain Python; the DAG stays thin).

The trigger (`multiaccount.triggers.risk_watch.RiskWatchTrigger`) fires on either
- new rows in the store's `risk_events` after the saved cursor (`kind="risk_events"`), or
- a stale monitor heartbeat (`kind="stale_heartbeat"`): no beat for `stale_after_seconds`, or none ever.
Then, in order: `alert` (critical alert for a dead monitor; a summary for critical events),
`escalate` (emergency stop when the monitor is dead AND the firm has open risk AND it is not already
halted), `record` (an incident with one timeline line per event, idempotent by key) and finally
`acknowledge` (advance the cursor / remember the stale beat) so the next run waits for something new.
A failure before `acknowledge` makes the next run see the same things again: every step is idempotent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from multiaccount.domain import Scope, Severity, TradingState
from multiaccount.domain.ports import DomainEvent
from multiaccount.realtime.monitor import HEARTBEAT_COMPONENT

log = logging.getLogger(__name__)

CURSOR_KEY = "risk_watch.cursor"
STALE_ACK_KEY = "risk_watch.stale_ack"
WATCH_ACTOR = "airflow:risk_watch"
NEVER = "never"


def watch_position(store: Any) -> dict[str, Any]:
    """Where the last run stopped: the event cursor and the heartbeat already handled as stale."""
    cursor = store.kv.get(CURSOR_KEY)
    if cursor is None:  # first run ever: start from now, not from the dawn of history
        cursor = store.risk_events.last_id()
        store.kv.set(CURSOR_KEY, cursor)
    return {"cursor": int(cursor), "acked_beat": store.kv.get(STALE_ACK_KEY)}


def beat_marker(beat_at: datetime | None) -> str:
    return beat_at.astimezone(UTC).isoformat() if beat_at is not None else NEVER


def check(store: Any, cursor: int, acked_beat: str | None, stale_after_seconds: float, now: datetime,
          limit: int = 200) -> dict[str, Any] | None:
    """One poll (used by the trigger): a payload to fire with, or None to keep waiting."""
    rows = store.risk_events.since(cursor, limit)
    if rows:
        return {"kind": "risk_events", "cursor": int(rows[-1]["id"]),
                "events": [_row(r) for r in rows]}
    hb = store.heartbeat.last(HEARTBEAT_COMPONENT)
    at = _aware(hb.at) if hb is not None else None
    age = (now - at).total_seconds() if at is not None else None
    marker = beat_marker(at)
    if (age is None or age > stale_after_seconds) and marker != acked_beat:
        return {"kind": "stale_heartbeat", "cursor": cursor, "last_beat": marker, "age_seconds": age,
                "stale_after_seconds": stale_after_seconds, "events": []}
    return None


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _row(r: dict[str, Any]) -> dict[str, Any]:
    p = r.get("payload") or {}
    return {"id": int(r["id"]), "at": _aware(r["at"]).isoformat(), "kind": r["kind"], "severity": r["severity"],
            "scope": r["scope"], "title": p.get("title", r["kind"]), "reason": p.get("reason", ""),
            "action": p.get("action", ""), "actor": p.get("actor", "")}


def alert(event: dict[str, Any], alerts: Any, now: datetime) -> int:
    """Publish what operators must hear; returns how many alerts were published."""
    published = 0
    if event["kind"] == "stale_heartbeat":
        alerts.publish(DomainEvent(
            kind="monitor_dead", severity=Severity.CRITICAL, scope=Scope.firm(),
            title="Realtime risk monitor is not beating",
            detail=f"last heartbeat: {event['last_beat']}, age: {_age(event)}; limit {event['stale_after_seconds']}s",
            action="check multiaccount serve", at=now, data={"limit_name": "heartbeat"}))
        published += 1
    critical = [e for e in event["events"] if e["severity"] == Severity.CRITICAL.value]
    if critical:
        alerts.publish(DomainEvent(
            kind="risk_watch", severity=Severity.CRITICAL, scope=Scope.firm(),
            title=f"{len(critical)} critical risk event(s)",
            detail="\n".join(f"{e['scope']}: {e['title']} - {e['reason']}" for e in critical[:20]), at=now,
            data={"limit_name": f"risk_watch:{event['cursor']}"}))
        published += 1
    deliver = getattr(alerts, "deliver_pending", None)
    if deliver is not None and published:
        try:
            deliver()
        except Exception as exc:  # delivery is retried by the outbox; the watch must go on
            log.warning("alert delivery failed: %s", exc)
    return published


def _age(event: dict[str, Any]) -> str:
    age = event.get("age_seconds")
    return "never beat" if age is None else f"{age:.0f}s"


def should_escalate(event: dict[str, Any], firm_state: TradingState, firm_open_risk: float) -> bool:
    """Stop trading only when the monitor is dead, the firm has open risk and it is not halted yet."""
    return event["kind"] == "stale_heartbeat" and firm_open_risk > 0 and firm_state is not TradingState.HALTED


def escalate(event: dict[str, Any], rt: Any) -> dict[str, Any]:
    """Emergency stop through the realtime runtime when `should_escalate`; a no-op otherwise."""
    if event["kind"] != "stale_heartbeat":
        return {"escalated": False, "why": "no stale heartbeat"}
    firm_state = rt.states.state(Scope.firm())
    open_risk = float(rt.read_snapshot().firm_open_risk)
    if not should_escalate(event, firm_state, open_risk):
        return {"escalated": False, "why": f"firm={firm_state.value}, open_risk={open_risk:.2f}"}
    report = rt.emergency_stop(f"realtime monitor dead (heartbeat {_age(event)}) with open risk "
                               f"{open_risk:,.2f}", WATCH_ACTOR)
    return {"escalated": True, "ok": report.ok, "incident_id": report.incident_id,
            "flatten": report.flatten.summary() if report.flatten else "kept open"}


def record(event: dict[str, Any], escalation: dict[str, Any], store: Any, now: datetime) -> int | None:
    """An incident per wake-up worth one (critical events or a dead monitor), keyed so retries reuse it."""
    critical = [e for e in event["events"] if e["severity"] == Severity.CRITICAL.value]
    if event["kind"] != "stale_heartbeat" and not critical:
        return None
    key = f"risk_watch:{event['kind']}:{event['cursor']}:{event.get('last_beat', '')}"
    title = "Realtime monitor dead" if event["kind"] == "stale_heartbeat" else \
        f"{len(critical)} critical risk event(s)"
    inc = store.incidents.open(title, Severity.CRITICAL, "firm", WATCH_ACTOR, key=key, at=now,
                               text=f"risk_watch woke up: {event['kind']}")
    if len(inc.entries) <= 1:  # first time: write the timeline (a retry finds it written)
        for e in critical:
            store.incidents.add_entry(inc.id, f"{e['scope']}: {e['title']} - {e['reason']}", e["actor"] or "system",
                                      "event", {"event_id": e["id"]}, at=datetime.fromisoformat(e["at"]))
        if event["kind"] == "stale_heartbeat":
            store.incidents.add_entry(inc.id, f"heartbeat stale: last={event['last_beat']} ({_age(event)})",
                                      WATCH_ACTOR, "detected", at=now)
        store.incidents.add_entry(inc.id, f"escalation: {escalation}", WATCH_ACTOR,
                                  "action" if escalation.get("escalated") else "note", at=now)
    return int(inc.id)


def acknowledge(event: dict[str, Any], store: Any) -> None:
    """Advance the cursor (and remember a handled stale beat) so the next run waits for news."""
    store.kv.set(CURSOR_KEY, int(event["cursor"]))
    if event["kind"] == "stale_heartbeat":
        store.kv.set(STALE_ACK_KEY, event["last_beat"])
