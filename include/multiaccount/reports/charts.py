"""Charts as self-contained HTML fragments (plotly). The first chart of a page carries plotly.js inline,
the others reuse it, so a report is one file that opens offline."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


class ChartSet:
    """Renders figures for one page; only the first embeds the plotly library."""

    def __init__(self) -> None:
        self._first = True

    def html(self, fig: go.Figure, div_id: str) -> str:
        fig.update_layout(margin={"l": 50, "r": 20, "t": 40, "b": 40}, height=360, template="plotly_white")
        out = fig.to_html(full_html=False, include_plotlyjs="inline" if self._first else False, div_id=div_id,
                          config={"displaylogo": False})
        self._first = False
        return out


def equity_curve(curves: pd.DataFrame) -> go.Figure:
    """Columns: one equity series per scope (firm, groups), index: time."""
    fig = go.Figure()
    for col in curves.columns:
        fig.add_trace(go.Scatter(x=curves.index, y=curves[col], mode="lines", name=str(col)))
    fig.update_layout(title="Equity", yaxis_title="equity")
    return fig


def drawdown(dd: pd.Series, limit: float | None = None) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[str(i) for i in dd.index], y=-dd.values * 100, fill="tozeroy", name="drawdown"))
    if limit is not None:
        fig.add_hline(y=-limit * 100, line_dash="dash", annotation_text="emergency stop")
    fig.update_layout(title="Firm drawdown (time-weighted)", yaxis_title="%")
    return fig


def allocation(groups: pd.DataFrame) -> go.Figure:
    """Rows: groups with `allocation_target` and `allocation_actual` (fractions)."""
    fig = go.Figure([
        go.Bar(x=groups["group_name"], y=groups["allocation_target"] * 100, name="target"),
        go.Bar(x=groups["group_name"], y=groups["allocation_actual"] * 100, name="actual"),
    ])
    fig.update_layout(title="Group allocation vs target", yaxis_title="% of firm equity", barmode="group")
    return fig


def correlation_heatmap(corr: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=corr.values, x=list(corr.columns), y=list(corr.index), zmin=-1, zmax=1,
                               colorscale="RdBu_r"))
    fig.update_layout(title="Correlation of account daily returns", height=max(360, 14 * len(corr)))
    return fig


def risk_usage(usage: pd.DataFrame) -> go.Figure:
    """Rows: `label` and `usage` (measured / threshold)."""
    colors = ["#c0392b" if u >= 1 else "#e67e22" if u >= 0.8 else "#27ae60" for u in usage["usage"]]
    fig = go.Figure(go.Bar(x=usage["usage"] * 100, y=usage["label"], orientation="h", marker_color=colors))
    fig.add_vline(x=100, line_dash="dash")
    fig.update_layout(title="Risk usage per limit", xaxis_title="% of limit", height=max(360, 22 * len(usage)))
    return fig
