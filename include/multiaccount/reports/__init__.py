"""Reports: the daily report and the monthly review as self-contained HTML, CSV and XLSX, indexed in the store.

`data` builds the contents from frames (pure), `render` writes files and index rows, `service` gathers
the frames from the store for the CLI and procedures.
"""

from multiaccount.reports.data import Report, ReportInputs, build_daily, build_monthly
from multiaccount.reports.render import render_html, write_report

__all__ = ["Report", "ReportInputs", "build_daily", "build_monthly", "render_html", "write_report"]
