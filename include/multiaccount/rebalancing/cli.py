"""`multiaccount rebalance plan|execute|confirm <transfer_id> --actor NAME|pending`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from multiaccount.domain import SystemClock

rebalance_app = typer.Typer(no_args_is_help=True, help="Plan, execute and confirm capital transfers.")
console = Console()


def _ctx():
    from multiaccount.config import load_firm
    from multiaccount.store import Store

    return Store.open(), load_firm()


def _key(plan_key: str | None) -> str:
    return plan_key or f"rebalance:{SystemClock().now().date().isoformat()}"


def _show(plan) -> None:
    console.print(f"plan {plan.plan_key}: max drift {plan.max_drift:.2%} (threshold {plan.threshold:.2%}), "
                  f"{'needed' if plan.needed else 'not needed'}")
    t = Table("transfer id", "from", "to", "amount", "needs confirmation")
    for x in plan.transfers:
        t.add_row(x.transfer_id, x.from_account, x.to_account, f"{x.amount:,.2f}", "yes" if x.live else "no")
    console.print(t)
    for s in plan.shortfalls:
        console.print(f"[yellow]{s}[/yellow]")


@rebalance_app.command("plan")
def plan(plan_key: str = typer.Option(None, "--key", help="Plan key (default rebalance:<today>)"),
         force: bool = typer.Option(False, "--force", help="Plan even below the drift threshold")) -> None:
    """Show the transfer plan toward the target allocation (records nothing)."""
    store, firm = _ctx()
    _show(_plan_or_exit(store, firm, _key(plan_key), SystemClock().now(), force))


@rebalance_app.command("execute")
def execute(plan_key: str = typer.Option(None, "--key", help="Plan key (default rebalance:<today>)"),
            force: bool = typer.Option(False, "--force"),
            actor: str = typer.Option("cli", "--actor")) -> None:
    """Record the plan and execute it: simulated transfers now, live ones wait for confirmation."""
    from multiaccount.rebalancing.service import execute as run

    store, firm = _ctx()
    now = SystemClock().now()
    p = _plan_or_exit(store, firm, _key(plan_key), now, force)
    _show(p)
    brokers = _brokers(firm, {a for t in p.transfers for a in (t.from_account, t.to_account)})
    report = run(store, firm, p, brokers, now, actor)
    for r in report.transfers:
        console.print(f"{r.transfer_id}: {r.status} {r.detail}")


def _brokers(firm, accounts: set[str]) -> dict:
    """One connected broker per account the plan touches (the configured broker mode). An account whose
    terminal cannot be reached gets none: its transfers stay instructions for a human."""
    from multiaccount.brokers.factory import build_broker

    out = {}
    for a in sorted(accounts):
        try:
            b = build_broker(firm, a)
            b.connect()
        except Exception as exc:  # unreachable terminal or missing MT5 package: fall back to instructions
            console.print(f"[yellow]{a}: no terminal ({type(exc).__name__}: {exc}); its transfers need a human[/]")
            continue
        out[a] = b
    return out


def _plan_or_exit(store, firm, key: str, now, force: bool):
    from multiaccount.rebalancing.service import NoSnapshotError, make_plan

    try:
        return make_plan(store, firm, key, now, force=force)
    except NoSnapshotError as exc:
        console.print(f"[red]{exc}[/red]: no account snapshot yet; run `multiaccount run daily-startup` "
                      "(or the daily_startup DAG) first")
        raise typer.Exit(1) from None


@rebalance_app.command("confirm")
def confirm(transfer_id: str = typer.Argument(..., help="tr-... id (or store #id)"),
            actor: str = typer.Option(..., "--actor", help="Who confirms the transfer was made")) -> None:
    """A human confirms a live transfer was made at the broker; records who and when."""
    from multiaccount.rebalancing.ledger import TransferConfirmationError
    from multiaccount.rebalancing.service import confirm as do_confirm

    store, _ = _ctx()
    try:
        rec = do_confirm(store, transfer_id, actor, SystemClock().now())
    except TransferConfirmationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]{rec.transfer_id}[/green] {rec.status} by {rec.confirmed_by} at {rec.confirmed_at}")


@rebalance_app.command("pending")
def pending() -> None:
    """Transfers waiting for a human."""
    from multiaccount.rebalancing.service import pending as list_pending

    store, _ = _ctx()
    t = Table("transfer id", "plan", "from", "to", "amount", "live")
    for r in list_pending(store):
        t.add_row(r.transfer_id, r.plan_key, r.from_account, r.to_account, f"{r.amount:,.2f}", str(r.live))
    console.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(rebalance_app, name="rebalance")
