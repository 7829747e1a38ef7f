"""`multiaccount alerts flush|list|ack|test`: deliver, inspect and acknowledge alerts."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from multiaccount.alerts.factory import build_from_env
from multiaccount.alerts.model import OutboxItem

alerts_app = typer.Typer(no_args_is_help=True, help="Slack alerts: deliver the outbox, list, acknowledge, test.")


def _console() -> Console:
    """Created per command so COLUMNS and the terminal are read when the command runs."""
    return Console()


def _kind_and_title(item: OutboxItem) -> tuple[str, str]:
    event = item.payload.get("event") or {}
    kind = item.payload.get("type", "alert")
    if kind != "alert":
        return kind, f"re #{item.reply_to}: {event.get('title', '')}"
    return event.get("kind", "?"), event.get("title", "")


@alerts_app.command("flush")
def flush(strict: bool = typer.Option(False, "--strict", help="Exit 1 if any alert could not be delivered")) -> None:
    """Deliver every due alert now (and queue escalations); failures stay in the outbox for later."""
    console = _console()
    report = build_from_env().deliver_pending()
    colour = "green" if report.ok else "yellow"
    console.print(f"[{colour}]{report.summary()}[/{colour}]")
    for alert_id, error in report.errors.items():
        console.print(f"  #{alert_id}: {escape(error)}", soft_wrap=True)
    if strict and not report.ok:
        raise typer.Exit(1)


@alerts_app.command("list")
def list_alerts(status: str = typer.Option(None, "--status", help="pending, sending, sent, failed, dead"),
                limit: int = typer.Option(30, "--limit", min=1, max=1000),
                unacked: bool = typer.Option(False, "--unacked", help="Only critical alerts not yet acknowledged")) -> None:
    """Newest alerts first: severity, what, where, delivery status, repeats, acknowledgement."""
    console = _console()
    items = build_from_env().outbox.recent(limit, status)
    if unacked:
        items = [i for i in items if i.severity.value == "critical" and i.acked_at is None and i.reply_to is None]
    table = Table(title="alerts")
    for col in ("id", "created (UTC)", "severity", "kind", "scope", "title", "status", "repeats", "tries", "acked by",
                "last error"):
        table.add_column(col)
    for i in items:
        kind, title = _kind_and_title(i)
        table.add_row(str(i.id), i.created_at.strftime("%Y-%m-%d %H:%M:%S"), i.severity.value, kind,
                      str((i.payload.get("event") or {}).get("scope", "")), escape(title), i.status,
                      str(i.repeat_count), str(i.attempts), i.acked_by or "", escape(i.last_error[:60]))
    console.print(table)


@alerts_app.command("ack")
def ack(alert_id: int = typer.Argument(..., help="Alert id (from Slack or `alerts list`)"),
        actor: str = typer.Option(..., "--actor", help="Who takes the alert")) -> None:
    """Acknowledge an alert: stops its escalation and posts the acknowledgement in its thread."""
    console = _console()
    service = build_from_env()
    try:
        item = service.acknowledge(alert_id, actor)
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    if item is None:
        console.print(f"[red]no alert #{alert_id}[/red]")
        raise typer.Exit(1)
    report = service.deliver_pending()
    console.print(f"[green]alert #{item.id} acknowledged by {escape(item.acked_by or actor)}[/green] "
                  f"at {item.acked_at:%Y-%m-%d %H:%M:%S} UTC ({report.summary()})")


@alerts_app.command("test")
def send_test(actor: str = typer.Option("cli", "--actor", help="Named in the test message")) -> None:
    """Send a test message to the info channel through the configured Slack (or the log)."""
    console = _console()
    report = build_from_env().send_test(actor=actor)
    if report.sent:
        console.print(f"[green]test message delivered via {report.transport}[/green]")
        return
    console.print(f"[red]test message not delivered via {report.transport}[/red]: "
                  + escape("; ".join(report.errors.values()) or "still queued"))
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
