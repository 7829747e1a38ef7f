"""Render a `Report` to one self-contained HTML file plus CSV and XLSX of its tables, and index them.

Files go to `paths.reports_dir()/<kind>/<period>/`: `report.html`, `<table>.csv` per table and
`tables.xlsx` (one sheet per table). A rerun overwrites the same files, and the index upserts by
(kind, period, format), so there are never duplicates.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from multiaccount import paths
from multiaccount.reports import charts

log = logging.getLogger(__name__)

PERCENT_COLUMNS = {"daily_return", "period_return", "drawdown", "max_drawdown", "margin_use", "drift", "usage",
                   "win_rate", "exposure_time", "allocation_target", "allocation_actual", "avg_return",
                   "group_return", "month_return", "volatility", "max_margin_use", "measured", "threshold",
                   "current_weight", "suggested_weight"}
SHEET_MAX = 31


def _fmt(value: Any, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if math.isinf(value):
            return "∞"
        if column in PERCENT_COLUMNS:
            return f"{value * 100:.2f}%"
        return f"{value:,.2f}"
    return str(value)


def _env() -> Environment:
    env = Environment(loader=PackageLoader("multiaccount.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["money"] = lambda v: f"{v:,.2f}"
    env.filters["pct"] = lambda v: "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v * 100:.2f}%"
    env.filters["num"] = lambda v: "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.2f}"
    return env


def _table(df: pd.DataFrame, hide: tuple[str, ...] = ("label",)) -> dict[str, Any]:
    cols = [c for c in df.columns if c not in hide]
    rows = [[_fmt(v.item() if hasattr(v, "item") else v, c) for c, v in zip(cols, row)]
            for row in df[cols].itertuples(index=False)]
    return {"columns": cols, "rows": rows}


def render_html(report, firm, generated_at: datetime) -> str:
    cs = charts.ChartSet()
    series = report.series
    figures = {}
    if not series["curves"].empty:
        figures["equity"] = Markup(cs.html(charts.equity_curve(series["curves"]), "chart-equity"))
    if len(series["drawdown"]):
        figures["drawdown"] = Markup(cs.html(charts.drawdown(
            series["drawdown"], float(firm.master.master_account.emergency_stop_threshold)), "chart-drawdown"))
    if "groups" in report.tables:
        figures["allocation"] = Markup(cs.html(charts.allocation(report.tables["groups"]), "chart-allocation"))
    if not series["correlation"].empty:
        figures["correlation"] = Markup(cs.html(charts.correlation_heatmap(series["correlation"]),
                                                "chart-correlation"))
    if "risk_usage" in report.tables:
        figures["risk_usage"] = Markup(cs.html(charts.risk_usage(report.tables["risk_usage"]), "chart-risk"))
    template = _env().get_template(f"{report.kind}.html.j2")
    return template.render(report=report, summary=asdict(report.summary), firm=firm, figures=figures,
                           tables={k: _table(v) for k, v in report.tables.items()}, sections=report.sections,
                           generated_at=generated_at.isoformat(timespec="seconds"),
                           currency=firm.master.master_account.currency)


def report_dir(kind: str, period: str) -> Path:
    path = paths.reports_dir() / kind / period
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_convert("UTC").dt.tz_localize(None)
        elif out[c].dtype == object:
            out[c] = out[c].map(lambda v: v if v is None or isinstance(v, (int, float, str, bool)) else str(v))
    return out.replace([float("inf"), float("-inf")], None)


def write_report(report, firm, generated_at: datetime, store: Any | None = None) -> dict[str, Path]:
    """Write HTML, CSV per table and XLSX; upsert the index rows when a store is given."""
    folder = report_dir(report.kind, report.period)
    html_path = folder / "report.html"
    html_path.write_text(render_html(report, firm, generated_at), encoding="utf-8")
    csv_files = []
    for name, df in report.tables.items():
        p = folder / f"{name}.csv"
        df.to_csv(p, index=False)
        csv_files.append(p.name)
    xlsx_path = folder / "tables.xlsx"
    with pd.ExcelWriter(xlsx_path, engine="openpyxl") as xw:
        for name, df in report.tables.items():
            _excel_safe(df).to_excel(xw, sheet_name=name[:SHEET_MAX], index=False)
    out = {"html": html_path, "xlsx": xlsx_path, "csv": folder}
    if store is not None:
        meta = {"title": report.title, "tables": sorted(report.tables)}
        store.reports.upsert(report.kind, report.period, "html", str(html_path), created_at=generated_at,
                             size=html_path.stat().st_size, sha256=_sha(html_path), meta=meta)
        store.reports.upsert(report.kind, report.period, "xlsx", str(xlsx_path), created_at=generated_at,
                             size=xlsx_path.stat().st_size, sha256=_sha(xlsx_path), meta=meta)
        store.reports.upsert(report.kind, report.period, "csv", str(folder), created_at=generated_at,
                             size=sum((folder / f).stat().st_size for f in csv_files), sha256=None,
                             meta={**meta, "files": csv_files})
    log.info("report %s/%s written to %s", report.kind, report.period, folder)
    return out
