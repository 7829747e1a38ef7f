"""CLI: serve, emergency-stop, halt, resume, diagnostics.

The operator commands act on the store (the source of truth) and the shared terminal pool, so they
work whether or not `multiaccount serve` is running; a running service sees the new state on its
next tick (at most a second later).
"""

from __future__ import annotations

import math

import typer
from rich.console import Console
from rich.table import Table

console = Console()

SCOPE_HELP = "firm | group:NAME | account:ID"


def _runtime():
    from multiaccount.realtime.runtime import build_runtime

    return build_runtime()


def _scope(rt, text: str):
    from multiaccount.realtime.runtime import parse_scope

    try:
        return parse_scope(text, rt.firm)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scope") from exc


def serve(host: str = typer.Option("127.0.0.1", help="Loopback address unless --allow-network"),
          port: int = typer.Option(8787, min=1, max=65535),
          hz: float = typer.Option(1.0, min=0.1, max=10.0, help="Monitor frequency"),
          allow_network: bool = typer.Option(False, "--allow-network",
                                             help="Listen off loopback (containers; keep the token secret)")) -> None:
    """Run the realtime service: signal API, 1 Hz risk monitor, heartbeat (needs MULTIACCOUNT_API_TOKEN)."""
    from multiaccount.realtime.service import serve as run

    try:
        run(host, port, hz=hz, allow_network=allow_network)
    except (RuntimeError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def emergency_stop(reason: str = typer.Option(..., help="Why (recorded in the incident)"),
                   actor: str = typer.Option(..., help="Who (recorded and audited)")) -> None:
    """Emergency stop: halt all new trades, close all positions if configured, alert, record an incident."""
    rt = _runtime()
    report = rt.emergency_stop(reason, actor)
    console.print("[bold red]EMERGENCY STOP ACTIVATED[/bold red]")
    for e in report.timeline:
        console.print(f"  {e.at:%H:%M:%S}  {e.kind:<8} {e.text}")
    console.print(f"incident: {report.incident_id}")
    if not report.ok:
        raise typer.Exit(1)


def halt(scope: str = typer.Option(..., help=SCOPE_HELP), reason: str = typer.Option(...),
         actor: str = typer.Option(...)) -> None:
    """Halt new trades for a scope (nothing new until an explicit resume)."""
    rt = _runtime()
    sc = _scope(rt, scope)
    console.print(f"{sc}: {rt.halt(sc, reason, actor).value}")


def resume(scope: str = typer.Option(..., help=SCOPE_HELP), reason: str = typer.Option(...),
           actor: str = typer.Option(...)) -> None:
    """Resume a scope (lifts HALTED; drawdown and daily loss are measured from now)."""
    rt = _runtime()
    sc = _scope(rt, scope)
    try:
        state = rt.resume(sc, reason, actor)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--actor") from exc
    console.print(f"{sc}: {state.value}")


def _pct(x: float | None) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.2%}"


def diagnostics() -> None:
    """Multi-account health check, as in the seed: connections, total risk, P&L, max correlation."""
    from multiaccount.realtime.diagnostics import collect

    d = collect(_runtime())
    console.print(f"Connections: {d.connected}/{d.total} active")
    console.print(f"Total portfolio risk: {_pct(d.total_risk)}")
    console.print(f"Portfolio P&L: {d.daily_pnl:+.2f} {d.currency}")
    console.print("Max correlation: " + ("n/a (no equity history yet)" if d.max_correlation is None
                                         else f"{d.max_correlation:.2f}"))
    console.print(f"Firm state: {d.firm_state}; monitor heartbeat: {d.heartbeat_age or 'never'}")
    table = Table("account", "group", "connected", "state", "equity", "risk", "daily loss", "drawdown")
    for row in d.accounts:
        table.add_row(row["account"], row["group"], "yes" if row["connected"] else "[red]no[/red]", row["state"],
                      f"{row['equity']:,.2f}", _pct(row["risk"]), _pct(row["daily_loss"]), _pct(row["drawdown"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("emergency-stop")(emergency_stop)
    app.command("halt")(halt)
    app.command("resume")(resume)
    app.command("diagnostics")(diagnostics)
