"""multiaccount's Airflow seam: the only part of the package (with `multiaccount.triggers`) that imports Airflow.

- `timetable`: `TradingDayTimetable`, registered by `plugins/multiaccount_plugin.py` under this
  qualified name (every Airflow component must resolve the same class);
- `links`: the "Download report" operator link and the `@report_task` decorator;
- `dags`: what every DAG file shares (default args with retries and the Slack notifier, params,
  the run resolver, the terminal pool name);
- `report_browser`: the FastAPI app the plugin mounts to serve `paths.reports_dir()` (no Airflow import).

Procedures (`multiaccount.procedures`) stay plain Python; DAG files call them one step per task.
"""
