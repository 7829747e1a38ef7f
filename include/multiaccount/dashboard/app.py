"""The Dash application: wires the layout, the live refresh and the operator actions to a context.

`create_app(context)` is the one entry point (CLI, tests, demo). One refresh callback builds the view
model once per tick and fills every output, so all panels show the same instant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, html, no_update

from multiaccount.config import FirmConfig
from multiaccount.dashboard import figures
from multiaccount.dashboard.actions import ActionRequest, TradingControl, perform_action
from multiaccount.dashboard.auth import install_token_auth
from multiaccount.dashboard.data import DashboardSource, DashboardView, build_view
from multiaccount.dashboard.layout import (
    create_multi_account_layout,
    render_account_limits,
    render_groups,
    render_kpis,
    state_pill,
)
from multiaccount.domain import Clock, SystemClock

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"


@dataclass
class DashboardContext:
    """What the page needs: the firm, where data comes from, and how state changes are made."""

    firm: FirmConfig
    source: DashboardSource
    control: TradingControl | None = None
    clock: Clock = SystemClock()
    read_only: bool = False
    token: str | None = None
    refresh_ms: int = 2000

    @property
    def actions_enabled(self) -> bool:
        """Actions need a token (someone logged in) and a control; otherwise the page is read-only."""
        return not self.read_only and self.token is not None and self.control is not None


def create_app(context: DashboardContext) -> dash.Dash:
    read_only = not context.actions_enabled
    if not context.read_only and read_only:
        log.warning("dashboard actions disabled: no token or no trading control configured")
    app = dash.Dash(__name__, assets_folder=str(ASSETS), title="Multi-Account Risk Desk",
                    update_title=None, suppress_callback_exceptions=True)
    if context.token:
        install_token_auth(app.server, context.token)
    app.layout = create_multi_account_layout(context.firm, read_only=read_only, refresh_ms=context.refresh_ms,
                                             authenticated=context.token is not None)
    _register_refresh(app, context)
    if not read_only:
        _register_actions(app, context)
    else:
        _register_refusal(app, context)
    return app


def current_view(context: DashboardContext) -> DashboardView:
    now = context.clock.now()
    return build_view(context.firm, context.source.load(now))


def _register_refresh(app: dash.Dash, context: DashboardContext) -> None:
    outputs = [
        Output("kpi-row", "children"), Output("firm-state-badge", "children"),
        Output("connections-status", "children"), Output("connections-status", "className"),
        Output("monitor-status", "children"), Output("monitor-status", "className"),
        Output("last-updated", "children"),
        Output("portfolio-performance", "figure"), Output("risk-distribution", "figure"),
        Output("firm-gauges", "figure"), Output("group-gauges", "figure"), Output("account-limits", "children"),
        Output("trading-states-table", "data"), Output("account-groups-grid", "children"),
        Output("accounts-table", "data"), Output("correlation-heatmap", "figure"),
        Output("risk-exposure-chart", "figure"), Output("violations-table", "data"),
        Output("incidents-table", "data"), Output("transfers-table", "data"),
    ]

    @app.callback(outputs, Input("refresh", "n_intervals"), Input("action-done", "data"))
    def _refresh(_n: int, _done: Any) -> tuple:
        view = current_view(context)
        n, total = view.connections
        stale = view.monitor_stale()
        age = view.heartbeats.get("risk_monitor")
        monitor = "Risk monitor: no heartbeat" if age is None else f"Risk monitor: {age:.0f}s ago"
        records = [{**r, "id": r["account_id"]} for r in view.table_records()]
        return (
            render_kpis(view), state_pill(view.firm.state),
            f"Connections {n}/{total}", "pill " + ("pill-ok" if n == total else "pill-bad"),
            monitor, "pill " + ("pill-bad" if stale else "pill-ok"),
            f"updated {view.generated_at:%H:%M:%S} UTC",
            figures.portfolio_performance(view), figures.risk_distribution(view),
            figures.firm_gauges(view), figures.group_gauges(view), render_account_limits(view),
            _states_records(view), render_groups(view), records,
            figures.correlation_heatmap(view), figures.risk_exposure_chart(view),
            _event_records(view.violations), _event_records(view.incidents), _transfer_records(view),
        )


def _register_actions(app: dash.Dash, context: DashboardContext) -> None:
    @app.callback(Output("action-scope", "value"), Input("accounts-table", "active_cell"),
                  prevent_initial_call=True)
    def _pick_account(cell: dict | None) -> Any:
        if not cell or not cell.get("row_id"):
            return no_update
        return f"account:{cell['row_id']}"

    @app.callback(Output("confirm-action", "displayed"), Output("confirm-action", "message"),
                  Output("action-result", "children", allow_duplicate=True),
                  Input("action-submit", "n_clicks"),
                  State("action-kind", "value"), State("action-scope", "value"),
                  State("action-actor", "value"), State("action-reason", "value"), prevent_initial_call=True)
    def _ask(_clicks: int, kind: str, scope: str | None, actor: str | None, reason: str | None) -> tuple:
        if not scope:
            return False, "", html.Span("Pick a scope first.", className="neg")
        message = (f"{kind.upper()} {scope}?\n\nActor: {actor or '(missing)'}\nReason: {reason or '(missing)'}\n\n"
                   "This is recorded in the audit trail.")
        return True, message, ""

    @app.callback(Output("action-result", "children"), Output("action-done", "data"),
                  Input("confirm-action", "submit_n_clicks"),
                  State("action-kind", "value"), State("action-scope", "value"),
                  State("action-actor", "value"), State("action-reason", "value"),
                  State("action-done", "data"), prevent_initial_call=True)
    def _apply(_confirmed: int, kind: str, scope: str, actor: str | None, reason: str | None,
               done: int | None) -> tuple:
        result = perform_action(ActionRequest(kind or "", scope or "", actor or "", reason or ""),
                                firm=context.firm, control=context.control, read_only=not context.actions_enabled)
        css = "pos" if result.ok else "neg"
        return html.Span(result.message, className=css, id="action-message"), (done or 0) + 1


def _register_refusal(app: dash.Dash, context: DashboardContext) -> None:
    """Read-only: the action controls are absent; a forged action call still gets a refusal."""

    @app.callback(Output("action-done", "data"), Input("confirm-action", "submit_n_clicks"),
                  State("action-done", "data"), prevent_initial_call=True)
    def _refuse(_confirmed: int, done: int | None) -> Any:
        perform_action(ActionRequest("", "", "", ""), firm=context.firm, control=None, read_only=True)
        return no_update


def _fmt_time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None and hasattr(value, "strftime") else ""


def _states_records(view: DashboardView) -> list[dict[str, Any]]:
    rows = []
    for s in view.scopes:
        if s.scope.startswith("account:") and s.own_state.value == "ACTIVE" and s.inherited_from is None:
            continue  # quiet accounts: the accounts table shows them; this list is what needs attention
        rows.append({"scope": s.scope, "own_state": s.own_state.value, "effective_state": s.effective_state.value,
                     "reason": s.reason, "actor": s.actor, "since": _fmt_time(s.since)})
    return rows


def _event_records(frame: Any) -> list[dict[str, Any]]:
    return [{**r, "at": _fmt_time(r["at"])} for r in frame.head(50).to_dict("records")]


def _transfer_records(view: DashboardView) -> list[dict[str, Any]]:
    return [{**r, "created": _fmt_time(r["created"])} for r in view.transfers.to_dict("records")]
