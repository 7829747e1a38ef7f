"""The last step of daily startup and monthly review: the seed's checklist (`multiaccount.checklists`).

Results are recorded in `store.checklists` under `<name>:<period>` (a rerun replaces them), written
as a small HTML page next to that period's report (`reports/daily/<day>/checklist.html`,
`reports/monthly/<month>/checklist.html`; `multiaccount.reports` takes no extra sections) and indexed
in `store.reports` with kind "checklist", so the report browser and the task's *Download report*
link show it. A failing item alerts; it never fails the step. An exception does.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

from multiaccount import paths
from multiaccount.bootstrap import App
from multiaccount.domain import Scope, Severity
from multiaccount.procedures._shared import publish

FOLDER = {"daily": "daily", "monthly": "monthly"}


def run(name: str, period: str, app: App) -> dict[str, Any]:
    """Run, record, render and index checklist `name` ("daily" | "monthly") for `period`."""
    from multiaccount.checklists import ChecklistContext, Status, record_checklist, run_checklist

    ctx = ChecklistContext(app.firm, app.store, app.clock.now(), pool=None)
    results = run_checklist(name, ctx)
    run_id = record_checklist(name, ctx, results, run_id=f"{name}:{period}", actor=f"procedure:{name}")
    path = _write_html(name, period, results)
    app.store.reports.upsert("checklist", f"{name}:{period}", "html", str(path), created_at=ctx.now,
                             size=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                             meta={"title": f"{name.title()} checklist {period}", "run_id": run_id})
    failed = [r for r in results if r.status is Status.FAIL]
    if failed:
        publish(app, "checklist", Severity.WARNING, Scope.firm(),
                f"{name.title()} checklist {period}: {len(failed)} item(s) failed",
                "; ".join(f"{r.item}: {r.evidence}" for r in failed), limit_name=f"checklist-{name}-{period}")
    return {"checklist": name, "period": period, "run_id": run_id,
            "href": path.relative_to(paths.reports_dir()).as_posix(),
            "passed": sum(r.status is Status.PASS for r in results), "failed": [r.item for r in failed],
            "sign_off": [r.item for r in results if r.status is Status.SIGN_OFF], "total": len(results)}


def _write_html(name: str, period: str, results: list[Any]) -> Path:
    folder = paths.reports_dir() / FOLDER[name] / period
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"<tr class='{html.escape(r.status.value)}'><td>{html.escape(r.item)}</td>"
                   f"<td>{html.escape(r.status.value)}</td><td>{html.escape(r.evidence)}</td></tr>" for r in results)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{name.title()} checklist {period}</title>"
            "<style>td,th{padding:4px 8px;border-bottom:1px solid #ccc}.fail{color:#b00}"
            ".needs-sign-off{color:#a60}</style></head><body>"
            f"<h1>{name.title()} checklist {html.escape(period)}</h1><p><a href='report.html'>Report</a></p>"
            f"<table id='checklist'><tr><th>Item</th><th>Status</th><th>Evidence</th></tr>{rows}</table>"
            "</body></html>")
    path = folder / "checklist.html"
    path.write_text(page, encoding="utf-8")
    return path
