"""Report files for the procedures: the reports package when present, else a plain HTML + CSV.

Paths are stable per period (`daily/<day>/`, `monthly/<YYYY-MM>/`) so a rerun overwrites rather
than adds, and the Airflow plugin serves them from the report folder.
"""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from typing import Any

from multiaccount import paths
from multiaccount.procedures.common import RunInfo


def _table(rows: dict[str, dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["account", *columns])
    body = "".join("<tr><td>" + html.escape(k) + "</td>" + "".join(
        f"<td>{html.escape(str(v.get(c, '')))}</td>" for c in columns) + "</tr>" for k, v in sorted(rows.items()))
    return f"<table border=1 cellpadding=4><tr>{head}</tr>{body}</table>"


def _write(folder: Path, name: str, text: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return (folder / name).relative_to(paths.reports_dir()).as_posix()


def write_daily_report(app: Any, r: RunInfo, perf: dict[str, Any]) -> list[str]:
    folder = paths.reports_dir() / "daily" / r.key
    cols = ["group", "balance", "equity", "pnl", "return", "positions"]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Daily report {r.key}</title></head><body>"
            f"<h1>Daily report {r.key}</h1><p>Firm equity {perf['firm']['equity']:,.2f}, P&amp;L "
            f"{perf['firm']['pnl']:+,.2f}</p>{_table(perf['accounts'], cols)}</body></html>")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["account", *cols])
    for acc, row in sorted(perf["accounts"].items()):
        w.writerow([acc, *(row.get(c, "") for c in cols)])
    return [_write(folder, "daily_report.html", page), _write(folder, "daily_report.csv", buf.getvalue())]


def write_monthly_report(r: RunInfo, month: str, sections: dict[str, Any]) -> list[str]:
    folder = paths.reports_dir() / "monthly" / month
    parts = [f"<h2>{html.escape(k.replace('_', ' ').title())}</h2><pre>{html.escape(json.dumps(v, indent=1, default=str))}</pre>"
             for k, v in sections.items()]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Monthly review {month}</title></head><body>"
            f"<h1>Monthly review {month}</h1>{''.join(parts)}</body></html>")
    return [_write(folder, "monthly_review.html", page),
            _write(folder, "monthly_review.json", json.dumps(sections, indent=1, sort_keys=True, default=str))]
