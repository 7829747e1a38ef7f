"""`multiaccount config validate|scaffold|show`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from multiaccount.config.loader import ConfigError, default_config_dir, load_firm
from multiaccount.config.scaffold import scaffold_firm

config_app = typer.Typer(no_args_is_help=True, help="Validate, inspect and scaffold the firm's configuration.")
console = Console()


@config_app.command("validate")
def validate(directory: Path = typer.Argument(None, help="Configuration directory (default: config/)")) -> None:
    """Check every file and every cross-file rule; report all problems at once (exit 1 on any)."""
    root = directory or default_config_dir()
    try:
        firm = load_firm(root)
    except ConfigError as exc:
        console.print(f"[red]{len(exc.problems)} problem(s)[/red] in {root}:")
        for p in exc.problems:
            console.print(f"  - {escape(str(p))}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"[green]OK[/green] {root}: {len(firm.accounts)} accounts in {len(firm.groups)} groups, "
                  f"{len(firm.symbols.symbols)} symbols, {len(firm.sessions.sessions)} sessions")
    for w in firm.warnings:
        console.print(f"[yellow]warning[/yellow] {w}")


@config_app.command("scaffold")
def scaffold(accounts: int = typer.Option(..., "--accounts", "-n", min=4, max=50, help="How many accounts"),
             dest: Path = typer.Option(Path("var/scaffold"), "--dest", help="Directory to write"),
             force: bool = typer.Option(False, "--force", help="Overwrite a non-empty directory")) -> None:
    """Write a valid firm of N accounts (for load tests and benchmarks)."""
    if dest.exists() and any(dest.iterdir()) and not force:
        console.print(f"[red]{dest} is not empty[/red]; pass --force to overwrite")
        raise typer.Exit(1)
    scaffold_firm(accounts, dest)
    firm = load_firm(dest)
    console.print(f"[green]wrote[/green] {dest}: {len(firm.accounts)} accounts "
                  + ", ".join(f"{g}={len(d.accounts)}" for g, d in firm.groups.items()))


@config_app.command("show")
def show(directory: Path = typer.Argument(None)) -> None:
    """Print the accounts table: group, specialization, sessions, risk per trade, live."""
    firm = load_firm(directory or default_config_dir())
    table = Table(title="accounts")
    for col in ("account", "group", "broker", "balance", "specialization", "sessions", "risk/trade", "live"):
        table.add_column(col)
    for acc_id, acc in firm.accounts.items():
        table.add_row(acc_id, firm.group_of(acc_id), acc.account_info.broker, f"{acc.account_info.initial_balance:,}",
                      ",".join(acc.trading_config.specialization), ",".join(acc.trading_config.trading_sessions),
                      f"{acc.trading_config.risk_per_trade:.2%}", "yes" if firm.live_trading(acc_id) else "no")
    console.print(table)


@config_app.command("reference")
def reference(write: Path = typer.Option(None, "--write", help="Write to this file instead of stdout")) -> None:
    """Print the configuration reference (Markdown) generated from the pydantic models."""
    from multiaccount.config.reference import render

    text = render()
    if write:
        write.write_text(text, encoding="utf-8")
        console.print(f"[green]wrote[/green] {write}")
    else:
        typer.echo(text)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
