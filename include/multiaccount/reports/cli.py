"""`multiaccount report daily|monthly [--date|--month]`."""

from __future__ import annotations

from datetime import date, timedelta

import typer
from rich.console import Console

from multiaccount.domain import SystemClock

report_app = typer.Typer(no_args_is_help=True, help="Generate the daily report and the monthly review.")
console = Console()


def _ctx():
    from multiaccount.config import load_firm
    from multiaccount.store import Store

    return Store.open(), load_firm()


@report_app.command("daily")
def daily(day: str = typer.Option(None, "--date", help="Trading day YYYY-MM-DD (default: today UTC)")) -> None:
    """Write the daily report (HTML, CSV, XLSX) and index it; a rerun overwrites it."""
    from multiaccount.reports.service import daily_report

    now = SystemClock().now()
    d = date.fromisoformat(day) if day else now.date()
    store, firm = _ctx()
    out = daily_report(store, firm, d, now)
    console.print(f"[green]daily report[/green] {d}: {out['html']}")


@report_app.command("monthly")
def monthly(month: str = typer.Option(None, "--month", help="YYYY-MM (default: last month)"),
            dr_ok: bool = typer.Option(None, "--dr-ok/--dr-failed", help="Disaster recovery test result"),
            dr_detail: str = typer.Option("", "--dr-detail", help="What the DR test did")) -> None:
    """Write the monthly review; items the data cannot answer go to the sign-off section."""
    from multiaccount.reports.service import monthly_review

    now = SystemClock().now()
    m = month or (now.date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    dr = None if dr_ok is None else {"ok": dr_ok, "detail": dr_detail, "at": now.date().isoformat()}
    store, firm = _ctx()
    out = monthly_review(store, firm, m, now, dr)
    console.print(f"[green]monthly review[/green] {m}: {out['html']}")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
