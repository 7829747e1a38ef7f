"""plotly figures built from the view model; formatting only, no data access and no maths beyond scaling."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from multiaccount.dashboard.data import LEVEL_BREACH, LEVEL_WARN, DashboardView, Gauge
from multiaccount.domain import ScopeKind

FONT = "Inter, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
COLORS = {"ok": "#2e7d32", "warn": "#ef8f00", "breach": "#c62828"}
TEMPLATE_JSON = pio.templates["plotly_white"].to_plotly_json()


def _figure(*args, **kwargs) -> go.Figure:
    """A figure that skips plotly's per-property validation: 40x faster, and every refresh builds six."""
    return go.Figure(*args, _validate=False, **kwargs)


GROUP_COLORS = ["#1f5fa8", "#00897b", "#8e44ad", "#d35400", "#7f8c8d", "#c0392b"]


def _base(fig: go.Figure, height: int, title: str | None = None, margin: dict | None = None) -> dict:
    """Common look; returns the figure as a dict with the template attached after the fact, because
    letting plotly validate the template on every refresh costs ~100 ms per figure."""
    fig.update_layout(height=height, font={"family": FONT, "size": 12},
                      margin=margin or {"l": 48, "r": 16, "t": 40 if title else 16, "b": 32},
                      title={"text": title, "x": 0.01, "font": {"size": 14}} if title else None,
                      legend={"orientation": "h", "y": -0.18, "x": 0}, uirevision="keep")
    out = fig.to_plotly_json()
    out["layout"]["template"] = TEMPLATE_JSON
    return out


def _empty(message: str, height: int) -> dict:
    fig = _figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 14, "color": "#6b7785"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base(fig, height)


def portfolio_performance(view: DashboardView) -> dict:
    """Firm equity (top) and each group's return since the first point shown (bottom)."""
    curve = view.equity_curve
    if curve.empty:
        return _empty("No equity readings yet", 380)
    fig = _figure()
    firm = curve[curve["group"] == "firm"]
    fig.add_trace(go.Scatter(_validate=False, x=firm["at"], y=firm["equity"], name="Firm equity", mode="lines",
                             line={"color": "#0b3d91", "width": 2.5}, fill="tozeroy",
                             fillcolor="rgba(11,61,145,0.08)"))
    for i, (group, rows) in enumerate(curve[curve["group"] != "firm"].groupby("group", sort=False)):
        first = rows["equity"].iloc[0]
        ret = (rows["equity"] / first - 1.0) if first else rows["equity"] * 0
        fig.add_trace(go.Scatter(_validate=False, x=rows["at"], y=ret, name=group, mode="lines",
                                 line={"color": GROUP_COLORS[i % len(GROUP_COLORS)], "width": 1.8},
                                 xaxis="x2", yaxis="y2"))
    low, high = float(firm["equity"].min()), float(firm["equity"].max())
    pad = max((high - low) * 0.15, high * 0.001, 1.0)
    fig.update_layout(
        xaxis={"domain": [0, 1], "anchor": "y", "matches": "x2", "showticklabels": False},
        yaxis={"domain": [0.44, 1], "range": [low - pad, high + pad], "tickprefix": "$", "tickformat": ",.0f"},
        xaxis2={"domain": [0, 1], "anchor": "y2"},
        yaxis2={"domain": [0, 0.38], "tickformat": ".2%", "zeroline": True, "zerolinecolor": "#9aa5b1",
                "title": {"text": "group return", "font": {"size": 11}}})
    return _base(fig, 380)


def risk_distribution(view: DashboardView) -> dict:
    """Open risk (money at stops) split firm -> group -> account."""
    acc = view.accounts[view.accounts["open_risk"] > 0]
    if acc.empty:
        return _empty("No open risk", 380)
    groups = acc.groupby("group")["open_risk"].sum()
    ids = ["firm", *[f"g:{g}" for g in groups.index], *[f"a:{a}" for a in acc["account_id"]]]
    labels = ["Firm", *groups.index, *acc["account_id"]]
    parents = ["", *["firm"] * len(groups), *[f"g:{g}" for g in acc["group"]]]
    values = [float(groups.sum()), *groups.to_list(), *acc["open_risk"].to_list()]
    fig = _figure(go.Sunburst(_validate=False, ids=ids, labels=labels, parents=parents, values=values, branchvalues="total",
                                hovertemplate="%{label}<br>$%{value:,.0f} at stops<br>%{percentRoot:.1%} of firm"
                                              "<extra></extra>",
                                marker={"colors": ["#dfe6ee", *GROUP_COLORS[:len(groups)]]}))
    return _base(fig, 380)


def _gauge_color(g: Gauge) -> str:
    return COLORS[g.level]


def firm_gauges(view: DashboardView) -> dict:
    gauges = view.gauges_for(ScopeKind.FIRM)
    fig = _figure()
    width = 1.0 / len(gauges)
    for i, g in enumerate(gauges):
        top = max(g.threshold * 1.25, g.used * 1.05)
        fig.add_trace(go.Indicator(_validate=False, 
            mode="gauge+number", value=g.used * 100, number={"suffix": "%", "valueformat": ".2f"},
            title={"text": f"{g.label}<br><span style='font-size:11px;color:#6b7785'>limit "
                           f"{g.threshold:.0%}</span>", "font": {"size": 13}},
            gauge={"axis": {"range": [0, top * 100], "ticksuffix": "%", "nticks": 5, "tickfont": {"size": 10}},
                   "bar": {"color": _gauge_color(g), "thickness": 0.6},
                   "steps": [{"range": [0, g.threshold * g.warn_fraction * 100], "color": "#eef5ee"},
                             {"range": [g.threshold * g.warn_fraction * 100, g.threshold * 100], "color": "#fff3e0"},
                             {"range": [g.threshold * 100, top * 100], "color": "#fdecea"}],
                   "threshold": {"line": {"color": "#c62828", "width": 3}, "value": g.threshold * 100}},
            domain={"x": [i * width + 0.02, (i + 1) * width - 0.02], "y": [0, 1]}))
    return _base(fig, 210, margin={"l": 24, "r": 24, "t": 48, "b": 8})


def group_gauges(view: DashboardView) -> dict:
    """Bullet gauges, one row per group limit: compact enough for many groups."""
    gauges = view.gauges_for(ScopeKind.GROUP)
    if not gauges:
        return _empty("No groups", 200)
    fig = _figure()
    n = len(gauges)
    row_h = 1.0 / n
    for i, g in enumerate(gauges):
        top = max(g.threshold * 1.25, g.used * 1.05)
        y0 = 1.0 - (i + 1) * row_h
        fig.add_trace(go.Indicator(_validate=False, 
            mode="number+gauge", value=g.used * 100, number={"suffix": "%", "valueformat": ".2f", "font": {"size": 13}},
            domain={"x": [0.34, 0.92], "y": [y0 + row_h * 0.2, y0 + row_h * 0.85]},
            title={"text": f"<b>{g.scope.split(':', 1)[1]}</b> {g.label} <span style='color:#6b7785'>"
                           f"/ {g.threshold:.0%}</span>", "font": {"size": 12}, "align": "right"},
            gauge={"shape": "bullet", "axis": {"range": [0, top * 100], "showticklabels": False, "ticks": ""},
                   "bar": {"color": _gauge_color(g), "thickness": 0.55},
                   "steps": [{"range": [0, g.threshold * g.warn_fraction * 100], "color": "#eef5ee"},
                             {"range": [g.threshold * g.warn_fraction * 100, g.threshold * 100], "color": "#fff3e0"},
                             {"range": [g.threshold * 100, top * 100], "color": "#fdecea"}],
                   "threshold": {"line": {"color": "#c62828", "width": 2}, "thickness": 0.9,
                                 "value": g.threshold * 100}}))
    return _base(fig, max(200, 34 * n + 20), margin={"l": 8, "r": 8, "t": 8, "b": 8})


def correlation_heatmap(view: DashboardView) -> dict:
    corr = view.correlation
    if corr is None or corr.empty:
        return _empty("Not enough returns for correlation yet", 420)
    fig = _figure(go.Heatmap(_validate=False, z=corr.to_numpy(), x=list(corr.columns), y=list(corr.index), zmin=-1, zmax=1,
                               colorscale="RdBu_r", colorbar={"title": "ρ", "thickness": 12},
                               text=corr.round(2).to_numpy(), texttemplate="%{text}", textfont={"size": 10},
                               hovertemplate="%{y} / %{x}: %{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _base(fig, 420, "Account P&L correlation")


def risk_exposure_chart(view: DashboardView) -> dict:
    """Open risk per account stacked by symbol, as % of the account's equity, against the group cap."""
    exp = view.exposure
    if exp.empty:
        return _empty("No open exposure", 420)
    equity = view.accounts.set_index("account_id")["equity"]
    data = exp.assign(pct=exp["risk"] / exp["account_id"].map(equity))
    order = [a for a in view.accounts["account_id"] if a in set(data["account_id"])]
    fig = _figure()
    for symbol, rows in data.groupby("symbol", sort=True):
        fig.add_trace(go.Bar(_validate=False, x=rows["account_id"], y=rows["pct"], name=symbol,
                             customdata=rows["risk"], hovertemplate="%{x} " + symbol +
                             ": %{y:.2%} of equity ($%{customdata:,.0f})<extra></extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(categoryorder="array", categoryarray=order)
    fig.update_yaxes(tickformat=".1%", title="risk at stops / equity")
    return _base(fig, 420, "Risk exposure by account and symbol")
