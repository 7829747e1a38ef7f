"""Block Kit messages a person reads in two seconds: what, where, measured vs limit, action, link.

Layout of every alert (the same order, so the eye learns where to look):
header `<emoji> SEVERITY · title` / fields Where, Measured vs limit, Action taken, When, then any
producer-supplied fields (`data["fields"]`) / detail / context line with alert id, repeats and how to
acknowledge / buttons (dashboard or report, plus `data["links"]`).
The notification `text` repeats the essentials on one line, because phones show only that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from multiaccount.alerts.model import OutboxItem, SlackMessage, event_from_dict
from multiaccount.domain import Scope, ScopeKind, Severity
from multiaccount.domain.ports import DomainEvent

HEADER_MAX = 150
TEXT_MAX = 2900
FIELD_MAX = 1900
MAX_FIELDS = 10
ESCALATION_MENTION = "<!here>"

SEVERITY_EMOJI = {Severity.CRITICAL: ":rotating_light:", Severity.WARNING: ":warning:",
                  Severity.INFO: ":information_source:"}

KIND_LABELS = {
    "risk_violation": "Risk limit breached", "limit_breach": "Risk limit breached",
    "limit_warning": "Risk limit warning", "emergency_stop": "Emergency stop", "state_change": "Trading state changed",
    "connection_failure": "Connection failure", "dag_failure": "Airflow task failed",
    "stale_heartbeat": "Risk monitor heartbeat stale", "rebalance_confirmation": "Transfer awaiting confirmation",
    "daily_summary": "Daily summary", "flatten": "Positions flattened", "emergency_rebalance": "Emergency rebalance",
    "monitor_error": "Risk monitor error", "test": "Test message",
}


@dataclass(frozen=True)
class RenderContext:
    """What the renderer needs from the firm: where the dashboard is and which group an account is in."""

    dashboard_url: str = "http://127.0.0.1:8050"
    group_of: Callable[[str], str | None] = lambda _account: None

    @classmethod
    def from_firm(cls, firm: Any) -> RenderContext:
        groups = dict(firm.account_group)
        return cls(dashboard_url=firm.alerts.dashboard_url, group_of=groups.get)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def where_text(scope: Scope, ctx: RenderContext) -> str:
    if scope.kind is ScopeKind.ACCOUNT:
        group = ctx.group_of(scope.name)
        return f"Account {scope.name}" + (f" (group {group})" if group else "")
    if scope.kind is ScopeKind.GROUP:
        return f"Group {scope.name}"
    return "Firm"


def _unit(event: DomainEvent) -> str:
    unit = event.data.get("unit")
    if unit:
        return str(unit)
    if event.limit is not None and 0 < abs(event.limit) <= 1 and (event.measured is None or abs(event.measured) <= 10):
        return "fraction"
    return "number"


def format_value(value: float, unit: str, currency: str = "USD") -> str:
    if unit == "fraction":
        return f"{value * 100:.2f} %"
    if unit == "percent":
        return f"{value:.2f} %"
    if unit == "money":
        return f"{value:,.2f} {currency}"
    if unit == "seconds":
        return f"{value:,.0f} s"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def measured_vs_limit(event: DomainEvent) -> str | None:
    unit = _unit(event)
    currency = str(event.data.get("currency", "USD"))
    if event.measured is None and event.limit is None:
        return None
    if event.limit is None:
        return format_value(event.measured, unit, currency)  # type: ignore[arg-type]
    if event.measured is None:
        return f"limit {format_value(event.limit, unit, currency)}"
    text = f"*{format_value(event.measured, unit, currency)}* vs limit {format_value(event.limit, unit, currency)}"
    if event.limit:
        text += f" ({event.measured / event.limit * 100:.0f} % of limit)"
    return text


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(f"*{label}*\n{value}", FIELD_MAX)}


def _event_fields(event: DomainEvent, ctx: RenderContext) -> list[dict[str, str]]:
    fields = [_field("Where", where_text(event.scope, ctx))]
    mvl = measured_vs_limit(event)
    if mvl:
        fields.append(_field("Measured vs limit", mvl))
    fields.append(_field("Action taken", event.action or "none"))
    fields.append(_field("When", format_when(event.at)))
    for pair in event.data.get("fields") or []:
        label, value = pair
        fields.append(_field(str(label), str(value)))
    return fields[:MAX_FIELDS]


def _links(event: DomainEvent, ctx: RenderContext) -> dict[str, Any] | None:
    url = event.data.get("url") or ctx.dashboard_url
    label = event.data.get("url_label") or "Open dashboard"
    buttons = [{"type": "button", "text": {"type": "plain_text", "text": _clip(str(label), 75)}, "url": str(url)}]
    for label, link in (event.data.get("links") or [])[:4]:
        buttons.append({"type": "button", "text": {"type": "plain_text", "text": _clip(str(label), 75)},
                        "url": str(link)})
    return {"type": "actions", "elements": buttons} if url else None


def headline(event: DomainEvent) -> str:
    label = event.title or KIND_LABELS.get(event.kind, event.kind.replace("_", " ").capitalize())
    return f"{SEVERITY_EMOJI[event.severity]} {event.severity.value.upper()} · {label}"


def notification_text(event: DomainEvent, ctx: RenderContext, prefix: str = "") -> str:
    parts = [f"{event.severity.value.upper()}: {event.title or KIND_LABELS.get(event.kind, event.kind)}",
             where_text(event.scope, ctx)]
    mvl = measured_vs_limit(event)
    if mvl:
        parts.append(mvl.replace("*", ""))
    if event.data.get("summary"):
        parts.append(str(event.data["summary"]))
    if event.action:
        parts.append(f"action: {event.action}")
    return _clip(prefix + " — ".join(parts), TEXT_MAX)


def _context_line(item: OutboxItem | None, event: DomainEvent, follow_up: bool) -> str:
    bits = [f"Alert #{item.id}" if item else "Alert (not stored)", f"`{event.kind}`"]
    if item and item.repeat_count:
        bits.append(f"repeated {item.repeat_count}× until {format_when(item.last_seen_at)}")
    if follow_up:
        bits.append("still occurring after the dedupe window")
    if item and event.severity is Severity.CRITICAL and item.reply_to is None:
        bits.append(f"acknowledge: `multiaccount alerts ack {item.id} --actor <you>`")
    return " · ".join(bits)


def render_event(event: DomainEvent, ctx: RenderContext, item: OutboxItem | None = None,
                 follow_up: bool = False) -> SlackMessage:
    """The Block Kit message for one alert (`item` adds id, repeat count and the ack hint)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(headline(event), HEADER_MAX), "emoji": True}},
        {"type": "section", "fields": _event_fields(event, ctx)},
    ]
    if event.detail:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(event.detail, TEXT_MAX)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                    "text": _clip(_context_line(item, event, follow_up), TEXT_MAX)}]})
    links = _links(event, ctx)
    if links:
        blocks.append(links)
    return SlackMessage(text=notification_text(event, ctx), blocks=blocks)


def render_escalation(item: OutboxItem, ctx: RenderContext) -> SlackMessage:
    """Re-post of an unacknowledged critical alert, with a channel mention so someone is woken up."""
    original = event_from_dict(item.event_dict)
    original_id = item.reply_to
    waited = int(item.payload.get("unacknowledged_seconds", 0))
    lead = (f"{ESCALATION_MENTION} *Unacknowledged critical alert #{original_id}* for {waited // 60} min "
            f"— acknowledge with `multiaccount alerts ack {original_id} --actor <you>`")
    inner = render_event(original, ctx)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": lead}}, *inner.blocks[:2]]
    if original.detail:
        blocks.append(inner.blocks[2])
    if inner.blocks[-1]["type"] == "actions":
        blocks.append(inner.blocks[-1])
    text = notification_text(original, ctx, prefix=f"{ESCALATION_MENTION} ESCALATED #{original_id}: ")
    return SlackMessage(text=text, blocks=blocks)


def render_acknowledgement(item: OutboxItem) -> SlackMessage:
    actor = item.payload.get("actor", "?")
    original_id = item.reply_to
    at = item.payload.get("acked_at", "")
    text = f":white_check_mark: Alert #{original_id} acknowledged by {actor} at {at}"
    return SlackMessage(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def render_item(item: OutboxItem, ctx: RenderContext, follow_up: bool = False) -> SlackMessage:
    kind = item.payload.get("type", "alert")
    if kind == "escalation":
        return render_escalation(item, ctx)
    if kind == "acknowledgement":
        return render_acknowledgement(item)
    return render_event(item.event, ctx, item=item, follow_up=follow_up)
