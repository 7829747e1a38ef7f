"""`multiaccount dashboard`: serve the risk desk on loopback (default http://127.0.0.1:8050)."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from multiaccount.dashboard.auth import TOKEN_ENV, token_from_env

log = logging.getLogger(__name__)
console = Console()


def build_context(*, read_only: bool, sample: bool, refresh_ms: int):  # noqa: ANN201 - DashboardContext
    """Wire the dashboard from `bootstrap()`: store, trading-state service, audit, clock."""
    from multiaccount.bootstrap import bootstrap
    from multiaccount.dashboard.app import DashboardContext
    from multiaccount.dashboard.data import InMemorySource, StoreSource

    app = bootstrap()
    token = token_from_env()
    if sample:
        from multiaccount.dashboard.actions import RepositoryTradingControl
        from multiaccount.dashboard.sample import fill_sample
        from multiaccount.domain.ports import InMemoryTradingStateRepository

        source = InMemorySource()
        source.states = InMemoryTradingStateRepository()
        fill_sample(source, app.firm, app.clock.now())
        return DashboardContext(app.firm, source, RepositoryTradingControl(source.states), app.clock,
                                read_only=read_only, token=token, refresh_ms=refresh_ms)
    store = app.store
    if store is None:
        raise typer.BadParameter("the store is not available; start with --sample to see sample data")
    from multiaccount.dashboard.actions import ServiceTradingControl
    from multiaccount.risk.state import TradingStateService

    service = TradingStateService(app.states, app.events, app.clock, app.firm.group_of)
    control = ServiceTradingControl(service, store.audit, store.session)
    return DashboardContext(app.firm, StoreSource(store, app.firm), control, app.clock, read_only=read_only,
                            token=token, refresh_ms=refresh_ms)


def register(app: typer.Typer) -> None:
    @app.command("dashboard")
    def dashboard(
        host: str = typer.Option("127.0.0.1", help="Address to listen on (keep loopback; put a proxy in front)"),
        port: int = typer.Option(8050, min=1, max=65535, help="Port to listen on"),
        read_only: bool = typer.Option(False, "--read-only", help="No action controls; callbacks refuse actions"),
        refresh_ms: int = typer.Option(2000, min=250, help="Live refresh period in milliseconds"),
        sample: bool = typer.Option(False, "--sample", help="Show a generated sample day instead of the store"),
    ) -> None:
        """Serve the multi-account risk dashboard (live from the store)."""
        from multiaccount.dashboard.app import create_app

        context = build_context(read_only=read_only, sample=sample, refresh_ms=refresh_ms)
        if context.token is None and not read_only:
            console.print(f"[yellow]{TOKEN_ENV} is not set: the dashboard runs read-only (no halt/resume).[/]")
        dash_app = create_app(context)
        mode = "read-only" if not context.actions_enabled else "actions enabled (token login)"
        console.print(f"Dashboard on [bold]http://{host}:{port}/[/] ({mode}); Ctrl-C to stop")
        dash_app.run(host=host, port=port, debug=False)
