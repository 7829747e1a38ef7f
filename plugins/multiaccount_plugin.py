"""multiaccount's Airflow plugin: the trading-day timetable, the report browser and its links.

- `timetables`: `TradingDayTimetable` (defined in the installed package so every Airflow component
  resolves the same class; the scheduler refuses to deserialize an unregistered custom timetable).
- `fastapi_apps`: the report folder served at `/multiaccount-reports`, behind Airflow's own login
  (the session cookie or a bearer token, via `airflow.api_fastapi.core_api.security.get_user`).
- `external_views`: a "Reports" entry in the navigation bar.
- `operator_extra_links`: "Download report" on report tasks.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from multiaccount.airflow.links import ReportDownloadLink
from multiaccount.airflow.timetable import TradingDayTimetable
from multiaccount.airflow.report_browser import URL_PREFIX, create_report_app


def _authenticated_report_app():
    from fastapi import Depends

    from airflow.api_fastapi.core_api.security import get_user

    return create_report_app(dependencies=[Depends(get_user)])


class MultiaccountPlugin(AirflowPlugin):
    name = "multiaccount"
    timetables = [TradingDayTimetable]
    operator_extra_links = [ReportDownloadLink()]
    fastapi_apps = [{"app": _authenticated_report_app(), "url_prefix": URL_PREFIX, "name": "multiaccount reports"}]
    external_views = [{
        "name": "Reports",
        "href": f"{URL_PREFIX}/",
        "destination": "nav",
        "category": "browse",
        "url_route": "multiaccount_reports",
    }]
