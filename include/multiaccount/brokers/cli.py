"""CLI: `multiaccount sim reset|scenario|show` and `multiaccount connections`."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
sim_app = typer.Typer(help="The simulated broker shared by every process (MULTIACCOUNT_HOME/sim).",
                      no_args_is_help=True)


@sim_app.command("reset")
def sim_reset(yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation")) -> None:
    """Delete every simulated account: balances go back to initial_balance, positions and deals vanish."""
    from multiaccount.brokers.simulated.state import reset, sim_dir

    if not yes and not typer.confirm(f"Reset all simulated accounts in {sim_dir()}?"):
        raise typer.Exit(1)
    console.print(f"removed {reset()} file(s) from {sim_dir()}")


@sim_app.command("scenario")
def sim_scenario(file: Path = typer.Argument(None, help="Scenario JSON (config/scenarios/*.json)"),
                 clear: bool = typer.Option(False, "--clear", help="Remove the active scenario")) -> None:
    """Activate a scenario for every simulated terminal (all processes pick it up on their next call)."""
    from multiaccount.brokers.simulated.scenarios import Scenario
    from multiaccount.brokers.simulated.state import SCENARIO_FILE, sim_dir

    target = sim_dir() / SCENARIO_FILE
    if clear:
        target.unlink(missing_ok=True)
        console.print("scenario cleared")
        return
    if file is None:
        raise typer.BadParameter("give a scenario file or --clear")
    try:
        scenario = Scenario.load(file)
    except (OSError, ValueError) as exc:
        console.print(f"[red]{file}: {exc}[/red]")
        raise typer.Exit(2) from exc
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(file, tmp)
    tmp.replace(target)
    console.print(f"scenario [bold]{scenario.name}[/bold] active ({len(scenario.events)} event(s))")


def connections(config_dir: Path = typer.Option(None, "--config", help="Configuration directory"),
                thread: bool = typer.Option(True, "--thread/--process", help="Worker kind for the check")) -> None:
    """Connect every account's terminal and report n/N connected."""
    from multiaccount.brokers.factory import build_pool
    from multiaccount.config import load_firm

    firm = load_firm(config_dir)
    pool = build_pool(firm, pool_mode="thread" if thread else "process", reconnect_attempts=1)
    with pool:
        pool.account_states()
        status = pool.status()
    table = Table(title="Terminal connections")
    for col in ("account", "connected", "since", "worker", "restarts", "last error"):
        table.add_column(col)
    for acc, st in sorted(status.items()):
        table.add_row(acc, "yes" if st.connected else "[red]no[/red]", st.since.isoformat() if st.since else "",
                      str(st.worker), str(st.restarts), st.last_error)
    console.print(table)
    up = sum(1 for s in status.values() if s.connected)
    console.print(f"Connections: {up}/{len(status)} active")
    if up < len(status):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(sim_app, name="sim")
    app.command("connections")(connections)
