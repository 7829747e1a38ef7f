"""`multiaccount simulate week`: the accelerated fleet simulation from the command line.

By default the run is isolated: a scaffolded firm of `--accounts` accounts (the seed firm with
`--accounts 10 --seed-firm`), its own data folder (simulated terminals, SQLite store, reports) in a
temporary directory, or `--home DIR` to keep it. Exit status 1 when an invariant fails.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

SCENARIO_DIR = Path(__file__).resolve().parents[3] / "config" / "scenarios"


def _scenario_path(name: str) -> Path | None:
    if not name or name == "none":
        return None
    p = Path(name)
    if p.suffix == ".json" and p.exists():
        return p
    candidate = SCENARIO_DIR / f"{name}.json"
    if not candidate.exists():
        raise typer.BadParameter(f"no scenario {name!r} (looked for {candidate})")
    return candidate


def _table(report) -> object:  # noqa: ANN001 - a SimulationReport
    from rich.table import Table

    t = Table(title=f"Simulated {report.accounts} accounts, {report.start[:10]} .. {report.end[:16]}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_column("check")

    def ok(flag: bool) -> str:
        return "[green]ok[/green]" if flag else "[red]FAILED[/red]"

    rows = [
        ("wall time", f"{report.wall_seconds:,.1f} s", ""),
        ("simulated / wall", f"{report.speed:,.0f}x", ""),
        ("steps / monitor ticks", f"{report.steps:,} / {report.monitor_ticks:,}", ""),
        ("signals (rejected at intake)", f"{report.signals:,} ({report.signals_rejected:,})", ""),
        ("orders routed", f"{report.routed:,}", ok(report.orders_accounted)),
        ("  acknowledged", f"{report.acknowledged:,}", ""),
        ("  rejected with reason", f"{report.rejected:,}", ""),
        ("  unknown / duplicate", f"{report.unknown:,} / {report.duplicates:,}", ""),
        ("ledger sent / pending / fills without deal",
         f"{report.ledger_sent:,} / {report.ledger_pending} / {report.fills_without_deal}", ""),
        ("positions without stop (max at a step end)", str(report.positions_without_stop_max),
         ok(report.positions_without_stop_max == 0)),
        ("longest unhandled breach", f"{report.longest_unhandled_breach_seconds:.0f} s "
                                     f"(window {report.debounce_window_seconds:.0f} s)",
         ok(report.breaches_within_debounce)),
        ("halts / emergency stops", f"{len(report.halts)} / {report.emergency_stops}", ""),
        ("lifecycle actions", ", ".join(f"{k} {v}" for k, v in sorted(report.lifecycle_actions.items())) or "-", ""),
        ("procedures", ", ".join(f"{k} {v}" for k, v in sorted(report.procedures.items())) or "-", ""),
        *[(f"P&L {g}", f"{v:+,.2f}", "") for g, v in sorted(report.pnl_by_group.items())],
        ("monitor tick p50 / p99", f"{report.tick_p50_ms:.1f} / {report.tick_p99_ms:.1f} ms", ""),
        ("RSS 2nd quarter -> last quarter", f"{report.rss_second_quarter_mb:.0f} -> {report.rss_last_quarter_mb:.0f} MB",
         ok(report.memory_bounded)),
    ]
    for r in rows:
        t.add_row(*r)
    return t


def register(app: typer.Typer) -> None:
    simulate_app = typer.Typer(help="Accelerated simulations of the fleet on simulated terminals.",
                               no_args_is_help=True)
    app.add_typer(simulate_app, name="simulate")

    @simulate_app.command("week")
    def week(
        accounts: int = typer.Option(50, help="Accounts of the scaffolded firm (4..50)"),
        days: int = typer.Option(5, help="Trading days to simulate"),
        speed: float = typer.Option(600.0, help="At most this many simulated seconds per wall second (0: unpaced)"),
        seed: int = typer.Option(7, help="Seed of the signal generator and the simulated market"),
        scenario: str = typer.Option("week_shocks", help="Scenario name under config/scenarios, a file, or none"),
        start: str = typer.Option("2026-11-30T06:00:00+00:00", help="Simulated start (ISO, UTC)"),
        step: float = typer.Option(60.0, help="Step in simulated seconds while a session is open"),
        seed_firm: bool = typer.Option(False, "--seed-firm", help="Use the configured firm instead of a scaffold"),
        home: Path | None = typer.Option(None, help="Keep the run's data here (default: a temporary folder)"),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
        use_dags: bool = typer.Option(False, help="Run daily_startup/end_of_day through Airflow dag.test()"),
    ) -> None:
        """Run a trading week at `--speed` on simulated terminals with scripted shocks; check invariants."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from multiaccount.config import load_firm
        from multiaccount.config.scaffold import scaffold_firm

        console = Console()
        scenario_path = _scenario_path(scenario)
        root = Path(home) if home else Path(tempfile.mkdtemp(prefix="multiaccount-week-"))
        root.mkdir(parents=True, exist_ok=True)
        os.environ["MULTIACCOUNT_HOME"] = str(root)  # this process is the run: its data stay together
        os.environ.pop("MULTIACCOUNT_DB_URL", None)
        firm = load_firm() if seed_firm else load_firm(scaffold_firm(accounts, root / "config"))
        from multiaccount.simulation.driver import SimulationOptions, simulate

        options = SimulationOptions(start=datetime.fromisoformat(start).astimezone(UTC), days=days,
                                    step=timedelta(seconds=step), speed=speed or None, seed=seed,
                                    market_seed=seed, scenario=scenario_path, use_dags=use_dags)
        with Progress(TextColumn("[bold]simulating[/bold] {task.description}"), BarColumn(),
                      TextColumn("{task.percentage:>5.1f}%"), TimeElapsedColumn(), console=console,
                      transient=True, disable=as_json) as progress:
            task = progress.add_task("", total=1.0)

            def show(t0: datetime, now: datetime, end: datetime) -> None:
                progress.update(task, completed=(now - t0) / (end - t0), description=f"{now:%a %Y-%m-%d %H:%M} UTC")

            report = simulate(firm, None, options, progress=show)
        if as_json:
            console.print_json(json.dumps(report.to_dict(), default=str))
        else:
            console.print(_table(report))
            console.print(f"data: {root}")
        if not report.invariants_hold:
            raise typer.Exit(1)
