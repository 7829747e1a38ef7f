"""A small FastAPI app that lists and serves the report folder (mounted in Airflow's API server).

Airflow has no artifact download of its own; the plugin in `plugins/multiaccount_plugin.py` mounts
this app under `/multiaccount-reports` (with Airflow's own authentication as a dependency) and adds
a nav entry and an operator extra link that point here. Only files under the report folder are
served: paths are resolved and must stay inside it.
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from multiaccount import paths

from multiaccount.airflow.urls import URL_PREFIX  # noqa: E402  (re-exported for the plugin)
SERVED_SUFFIXES = {".html", ".csv", ".xlsx", ".json", ".png", ".svg", ".pdf", ".txt"}


def list_reports(root: Path) -> list[dict[str, Any]]:
    """Every servable file under `root`, newest first, as JSON-able rows."""
    if not root.is_dir():
        return []
    rows = []
    for p in root.rglob("*"):
        if p.is_file() and p.suffix.lower() in SERVED_SUFFIXES:
            st = p.stat()
            rows.append({"path": p.relative_to(root).as_posix(), "bytes": st.st_size, "mtime": st.st_mtime})
    return sorted(rows, key=lambda r: (-r["mtime"], r["path"]))


def resolve_inside(root: Path, relative: str) -> Path:
    """The file for `relative`, or 404 when it does not exist or escapes `root`."""
    base = root.resolve()
    target = (base / relative).resolve()
    if base not in target.parents or not target.is_file() or target.suffix.lower() not in SERVED_SUFFIXES:
        raise HTTPException(status_code=404, detail="report not found")
    return target


def create_report_app(root: Callable[[], Path] = paths.reports_dir, dependencies: Sequence[Any] = ()) -> FastAPI:
    """The report browser; `root` is called per request so MULTIACCOUNT_REPORTS_DIR changes are seen."""
    app = FastAPI(title="multiaccount reports", dependencies=list(dependencies))

    @app.get("/api/reports")
    def reports_json() -> list[dict[str, Any]]:
        return list_reports(root())

    @app.get("/files/{relative:path}")
    def download(relative: str) -> FileResponse:
        target = resolve_inside(root(), relative)
        media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        inline = target.suffix.lower() in {".html", ".png", ".svg", ".pdf", ".txt", ".json"}
        return FileResponse(target, media_type=media, filename=target.name,
                            content_disposition_type="inline" if inline else "attachment")

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        rows = "".join(
            f'<tr><td><a href="files/{html.escape(r["path"])}">{html.escape(r["path"])}</a></td>'
            f'<td style="text-align:right">{r["bytes"]:,}</td></tr>' for r in list_reports(root()))
        return ("<!doctype html><html><head><meta charset='utf-8'><title>Reports</title></head><body>"
                "<h1>multiaccount reports</h1><table><tr><th>Report</th><th>Bytes</th></tr>"
                f"{rows or '<tr><td colspan=2>No reports yet</td></tr>'}</table></body></html>")

    return app
