"""`multiaccount checklist setup|daily|monthly`: print each item with its evidence, store the run."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()


class Which(StrEnum):
    setup = "setup"
    daily = "daily"
    monthly = "monthly"


STYLE = {"pass": "green", "fail": "red", "needs-sign-off": "yellow"}


def checklist(which: Which = typer.Argument(..., help="setup, daily or monthly"),
              live: bool = typer.Option(False, "--live", help="Probe terminals through the pool (else: last snapshots)"),
              actor: str = typer.Option("cli", "--actor", help="Who ran it (stored with the results)")) -> None:
    """Run a checklist; exit 1 when any item fails. Results are stored for the reports and the dashboard."""
    from multiaccount.checklists import ChecklistContext, Status, record_checklist, run_checklist
    from multiaccount.config import load_firm
    from multiaccount.domain import SystemClock
    from multiaccount.store import Store

    firm = load_firm()
    store = Store.open()
    pool = None
    if live:
        from multiaccount.brokers.factory import build_pool

        pool = build_pool(firm)  # process workers for real terminals, threads for simulated ones
        pool.start()
    try:
        ctx = ChecklistContext(firm=firm, store=store, now=SystemClock().now(), pool=pool)
        results = run_checklist(which.value, ctx)
        run_id = record_checklist(which.value, ctx, results, actor=actor)
    finally:
        if pool is not None:
            pool.stop()
    table = Table(title=f"{which.value} checklist ({run_id})", show_lines=False)
    table.add_column("status")
    table.add_column("item")
    table.add_column("evidence", overflow="fold")
    for r in results:
        table.add_row(f"[{STYLE[r.status.value]}]{r.status.value}[/]", r.item, escape(r.evidence))
    console.print(table)
    failed = sum(r.status is Status.FAIL for r in results)
    signoff = sum(r.status is Status.SIGN_OFF for r in results)
    console.print(f"{len(results) - failed - signoff} pass, {failed} fail, {signoff} need sign-off")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("checklist")(checklist)
