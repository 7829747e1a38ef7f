"""Page layout: the seed's `create_multi_account_layout` plus what a risk officer needs on shift.

The seed's ids and class names are kept (portfolio-performance, risk-distribution, account-groups-grid,
accounts-table, correlation-heatmap, risk-exposure-chart; master-overview, groups-section,
accounts-section, risk-section). Dynamic fragments are rendered by the `render_*` functions from
the view model.
"""

from __future__ import annotations

from typing import Any

from dash import dash_table, dcc, html
from dash.dash_table import FormatTemplate

from multiaccount.config import FirmConfig
from multiaccount.dashboard.data import DashboardView, Gauge, GroupSummary, ScopeStatus
from multiaccount.domain import ScopeKind

GRAPH_CONFIG = {"displaylogo": False}

# The seed's columns and colours, verbatim (plus a Group column and the reason/connection columns).
ACCOUNT_TABLE_COLUMNS = [
    {"name": "Account", "id": "account_id"},
    {"name": "Group", "id": "group"},
    {"name": "Balance", "id": "balance", "type": "numeric", "format": FormatTemplate.money(2)},
    {"name": "Equity", "id": "equity", "type": "numeric", "format": FormatTemplate.money(2)},
    {"name": "P&L Daily", "id": "daily_pnl", "type": "numeric", "format": FormatTemplate.percentage(2)},
    {"name": "Drawdown", "id": "drawdown", "type": "numeric", "format": FormatTemplate.percentage(2)},
    {"name": "Risk %", "id": "risk_percent", "type": "numeric", "format": FormatTemplate.percentage(1)},
    {"name": "Status", "id": "status"},
    {"name": "Reason", "id": "reason"},
    {"name": "Connection", "id": "connection"},
]
SEED_ROW_COLOURS = [
    {"if": {"filter_query": "{daily_pnl} > 0"}, "backgroundColor": "#90EE90", "color": "black"},
    {"if": {"filter_query": "{daily_pnl} < 0"}, "backgroundColor": "#FFB6C1", "color": "black"},
]
STATUS_EMPHASIS = [
    {"if": {"column_id": "status", "filter_query": '{status} = "HALTED"'}, "fontWeight": "700"},
    {"if": {"column_id": "status", "filter_query": '{status} = "REDUCING"'}, "fontWeight": "700"},
    {"if": {"column_id": "connection", "filter_query": '{connection} != "online"'}, "fontWeight": "700"},
]


def create_multi_account_layout(firm: FirmConfig, *, read_only: bool, refresh_ms: int,
                                authenticated: bool) -> html.Div:
    return html.Div([
        _topbar(read_only, authenticated),
        html.Div(id="kpi-row", className="kpi-row"),
        html.Div([
            html.H2("Master Portfolio Overview"),
            html.Div([
                html.Div(dcc.Graph(id="portfolio-performance", config=GRAPH_CONFIG), className="card wide"),
                html.Div(dcc.Graph(id="risk-distribution", config=GRAPH_CONFIG), className="card narrow"),
            ], className="row"),
        ], className="master-overview section"),
        html.Div([
            html.H3("Limits: used / limit"),
            html.Div([
                html.Div([html.H4("Firm"), dcc.Graph(id="firm-gauges", config=GRAPH_CONFIG, style={"height": "220px"})], className="card half"),
                html.Div([html.H4("Groups"), dcc.Graph(id="group-gauges", config=GRAPH_CONFIG)],
                         className="card half"),
            ], className="row"),
            html.Div([html.H4("Accounts"), html.Div(id="account-limits")], className="card"),
        ], className="limits-section section"),
        html.Div([
            html.H3("Trading State"),
            html.Div([
                html.Div([_table("trading-states-table", [
                    ("Scope", "scope"), ("Own", "own_state"), ("Applies", "effective_state"),
                    ("Reason", "reason"), ("By", "actor"), ("Since (UTC)", "since")], page_size=15)],
                    className="card wide"),
                html.Div(_action_panel(firm) if not read_only else _read_only_note(), className="card narrow"),
            ], className="row"),
        ], className="states-section section"),
        html.Div([html.H3("Account Groups"), html.Div(id="account-groups-grid", className="groups-grid")],
                 className="groups-section section"),
        html.Div([
            html.H3("Individual Accounts"),
            html.Div(dash_table.DataTable(
                id="accounts-table", columns=ACCOUNT_TABLE_COLUMNS, data=[],
                sort_action="native", filter_action="native", page_action="none",
                style_table={"overflowX": "auto"},
                style_cell={"textAlign": "center", "fontFamily": "inherit", "fontSize": "13px",
                            "padding": "6px 8px"},
                style_header={"backgroundColor": "#0b2545", "color": "white", "fontWeight": "600"},
                style_filter={"backgroundColor": "#f4f6f9"},
                style_data_conditional=SEED_ROW_COLOURS + STATUS_EMPHASIS,
            ), className="card"),
        ], className="accounts-section section"),
        html.Div([
            html.H3("Risk Matrix"),
            html.Div([
                html.Div(dcc.Graph(id="correlation-heatmap", config=GRAPH_CONFIG), className="card half"),
                html.Div(dcc.Graph(id="risk-exposure-chart", config=GRAPH_CONFIG), className="card half"),
            ], className="row"),
        ], className="risk-section section"),
        html.Div([
            html.H3("Violations, Incidents, Rebalancing"),
            html.Div([
                html.Div([html.H4("Recent violations"), _table("violations-table", _EVENT_COLUMNS)],
                         className="card half"),
                html.Div([html.H4("Incidents"), _table("incidents-table", _EVENT_COLUMNS)], className="card half"),
            ], className="row"),
            html.Div([html.H4("Pending rebalancing instructions"), _table("transfers-table", [
                ("Id", "id"), ("Created (UTC)", "created"), ("From", "from_account"), ("To", "to_account"),
                ("Amount", "amount"), ("Ccy", "currency"), ("Status", "status"), ("Note", "note")])],
                className="card"),
        ], className="events-section section"),
        dcc.Interval(id="refresh", interval=refresh_ms, n_intervals=0),
        dcc.Store(id="action-done", data=0),
        dcc.ConfirmDialog(id="confirm-action", message=""),
    ], className="page")


_EVENT_COLUMNS = [("When (UTC)", "at"), ("Sev.", "severity"), ("Scope", "scope"), ("What", "kind"),
                  ("Detail", "message"), ("Action", "action")]


def _table(table_id: str, columns: list[tuple[str, str]], page_size: int = 10) -> dash_table.DataTable:
    return dash_table.DataTable(
        id=table_id, columns=[{"name": n, "id": i} for n, i in columns], data=[], page_size=page_size,
        sort_action="native", style_as_list_view=True, style_table={"overflowX": "auto"},
        style_cell={"textAlign": "left", "fontFamily": "inherit", "fontSize": "12px", "padding": "4px 8px",
                    "whiteSpace": "normal", "height": "auto", "maxWidth": "420px"},
        style_header={"fontWeight": "600", "backgroundColor": "#f4f6f9"},
        style_data_conditional=[
            {"if": {"filter_query": '{severity} = "critical"'}, "color": "#b71c1c", "fontWeight": "600"},
            {"if": {"filter_query": '{severity} = "warning"'}, "color": "#a35c00"},
            {"if": {"filter_query": '{effective_state} = "HALTED"'}, "backgroundColor": "#fdecea"},
            {"if": {"filter_query": '{effective_state} = "REDUCING"'}, "backgroundColor": "#fff3e0"},
        ])


def _topbar(read_only: bool, authenticated: bool) -> html.Div:
    right = [html.Span(id="connections-status", className="pill"), html.Span(id="monitor-status", className="pill"),
             html.Span(id="last-updated", className="muted")]
    if read_only:
        right.insert(0, html.Span("READ-ONLY", className="pill pill-muted", id="read-only-badge"))
    if authenticated:
        right.append(html.A("Sign out", href="/logout", className="signout"))
    return html.Div([
        html.Div([html.Span("Multi-Account Risk Desk", className="brand"),
                  html.Span(id="firm-state-badge", className="state-pill")], className="topbar-left"),
        html.Div(right, className="topbar-right"),
    ], className="topbar")


def _action_panel(firm: FirmConfig) -> html.Div:
    options = [{"label": "Firm (everything)", "value": "firm"}]
    options += [{"label": f"Group: {g}", "value": f"group:{g}"} for g in firm.groups]
    options += [{"label": f"Account: {a}", "value": f"account:{a}"} for a in firm.accounts]
    return html.Div([
        html.H4("Operator action"),
        html.Label("Scope", htmlFor="action-scope"),
        dcc.Dropdown(id="action-scope", options=options, value=None, placeholder="Pick firm, group or account "
                     "(or click an account in the table)", clearable=False),
        dcc.RadioItems(id="action-kind", options=[{"label": " Halt", "value": "halt"},
                                                   {"label": " Resume", "value": "resume"}],
                       value="halt", inline=True, className="radio"),
        html.Label("Your name (actor)", htmlFor="action-actor"),
        dcc.Input(id="action-actor", type="text", placeholder="e.g. J. Smith", debounce=False, persistence=True,
                  persistence_type="local", className="text-input"),
        html.Label("Reason", htmlFor="action-reason"),
        dcc.Input(id="action-reason", type="text", placeholder="why (goes to the audit trail)",
                  className="text-input"),
        html.Button("Apply…", id="action-submit", n_clicks=0, className="btn btn-danger"),
        html.Div(id="action-result", className="action-result"),
    ], className="action-panel")


def _read_only_note() -> html.Div:
    return html.Div([html.H4("Operator actions"),
                     html.P("This dashboard runs read-only: halting and resuming are disabled here. Use the "
                            "CLI (`multiaccount emergency-stop`, `multiaccount resume`) or a dashboard started "
                            "without --read-only and with MULTIACCOUNT_DASHBOARD_TOKEN set.", className="muted")],
                    className="action-panel")


# ---------------------------------------------------------------- dynamic fragments
def money(value: float, currency: str = "USD") -> str:
    sign = "-" if value < 0 else ""
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{symbol}{abs(value):,.0f}"


def state_pill(status: ScopeStatus, element_id: str | None = None) -> html.Span:
    text = status.effective_state.value
    if status.inherited_from:
        text += f" (via {status.inherited_from})"
    kwargs: dict[str, Any] = {"id": element_id} if element_id else {}
    return html.Span(text, className=f"state-pill state-{status.effective_state.value.lower()}",
                     title=status.reason or "", **kwargs)


def render_kpis(view: DashboardView) -> list[html.Div]:
    f = view.firm
    risk_gauge = next(g for g in view.gauges if g.scope == "firm" and g.limit == "max_total_risk")
    dd_gauge = next(g for g in view.gauges if g.scope == "firm" and g.limit == "emergency_stop_threshold")
    pnl_class = "pos" if f.daily_pnl > 0 else "neg" if f.daily_pnl < 0 else ""
    n, total = view.connections
    return [
        _kpi("Firm equity", money(f.equity, f.currency), f"balance {money(f.balance, f.currency)}"),
        _kpi("Daily P&L", money(f.daily_pnl, f.currency), f"{f.daily_pnl_pct:+.2%} since rollover", pnl_class),
        _kpi("Total risk", f"{f.total_risk:.2%}", f"limit {risk_gauge.threshold:.0%}", f"level-{risk_gauge.level}"),
        _kpi("Drawdown", f"{f.drawdown:.2%}", f"emergency stop at {dd_gauge.threshold:.0%}", f"level-{dd_gauge.level}"),
        _kpi("Trading", f"{f.accounts_trading}/{f.accounts_total}", "accounts not halted"),
        _kpi("Connections", f"{n}/{total}", "terminals online", "" if n == total else "level-breach"),
    ]


def _kpi(label: str, value: str, sub: str, extra: str = "") -> html.Div:
    return html.Div([html.Div(label, className="kpi-label"), html.Div(value, className=f"kpi-value {extra}"),
                     html.Div(sub, className="kpi-sub")], className="kpi card")


def render_groups(view: DashboardView) -> list[html.Div]:
    return [_group_card(g, [x for x in view.gauges_for(ScopeKind.GROUP) if x.scope == f"group:{g.name}"],
                        view.firm.currency) for g in view.groups]


def _group_card(g: GroupSummary, gauges: list[Gauge], currency: str) -> html.Div:
    pnl_class = "pos" if g.daily_pnl > 0 else "neg" if g.daily_pnl < 0 else ""
    risk = next((x for x in gauges if x.limit == "max_group_risk"), None)
    return html.Div([
        html.Div([html.Span(g.name.replace("_", " ").title(), className="group-name"),
                  state_pill(g.state)], className="group-head"),
        html.Div([html.Span(money(g.equity, currency), className="group-equity"),
                  html.Span(f"{money(g.daily_pnl, currency)} ({g.daily_pnl_pct:+.2%})", className=f"{pnl_class}")],
                 className="group-line"),
        html.Div([
            _fact("Accounts", str(g.account_count)),
            _fact("Risk", f"{g.risk:.2%} / {risk.threshold:.0%}" if risk else f"{g.risk:.2%}",
                  f"level-{risk.level}" if risk else ""),
            _fact("Allocation", f"{g.actual_allocation:.1%} (target {g.target_allocation:.0%})"),
            _fact("Best", g.best_performer or "-"),
            _fact("Worst", g.worst_performer or "-"),
            _fact("Mode", "live" if g.live_trading else "simulated only"),
        ], className="facts"),
    ], className="card group-card", id=f"group-card-{g.name}")


def _fact(label: str, value: str, extra: str = "") -> html.Div:
    return html.Div([html.Span(label, className="fact-label"), html.Span(value, className=f"fact-value {extra}")],
                    className="fact")


def render_account_limits(view: DashboardView) -> html.Table:
    """Linear gauges per account and limit: a 50-account fleet fits on one screen."""
    by_account: dict[str, dict[str, Gauge]] = {}
    for g in view.gauges_for(ScopeKind.ACCOUNT):
        by_account.setdefault(g.scope.split(":", 1)[1], {})[g.limit] = g
    limits = [("max_drawdown_per_account", "Drawdown"), ("max_daily_loss", "Daily loss"),
              ("margin_call_threshold", "Margin use")]
    header = html.Tr([html.Th("Account"), *[html.Th(label) for _, label in limits]])
    rows = [html.Tr([html.Td(acc, className="acc-id"), *[html.Td(_bar(gs[key])) for key, _ in limits]])
            for acc, gs in by_account.items()]
    return html.Table([html.Thead(header), html.Tbody(rows)], className="limit-table")


def _bar(g: Gauge) -> html.Div:
    width = min(g.ratio, 1.0) * 100
    return html.Div([
        html.Div(className=f"bar-fill level-{g.level}", style={"width": f"{width:.1f}%"}),
        html.Span(f"{g.used:.2%} / {g.threshold:.0%}", className="bar-text"),
    ], className="bar", title=f"{g.scope} {g.label}: {g.ratio:.0%} of limit")
