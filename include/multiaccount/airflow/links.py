"""Airflow seam for reports: a TaskFlow decorator whose task carries a "Download report" extra link.

Part of the Airflow seam (`multiaccount.airflow`), imported only by `dags/` and `plugins/`. In Airflow 3 the worker computes each extra link when the task finishes and stores it in
XCom; the UI reads it back, so the link is the exact file this run produced.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.sdk import BaseOperatorLink
from airflow.sdk.bases.decorator import task_decorator_factory

from multiaccount.airflow.urls import URL_PREFIX


class ReportDownloadLink(BaseOperatorLink):
    """Button on the report task instance: opens the report served by the plugin's FastAPI app."""

    name = "Download report"

    def get_link(self, operator, *, ti_key) -> str:
        href = getattr(operator, "report_href", None)
        return f"{URL_PREFIX}/files/{href}" if href else f"{URL_PREFIX}/"


class _ReportDecoratedOperator(_PythonDecoratedOperator):
    custom_operator_name = "@report_task"
    operator_extra_links = (ReportDownloadLink(),)

    def execute(self, context) -> Any:
        result = super().execute(context)
        if isinstance(result, dict) and result.get("href"):
            self.report_href = result["href"]
        return result


def report_task(python_callable: Callable | None = None, **kwargs):
    """`@report_task(...)`: like `@task`, plus the download link; the callable returns {"href": ...}."""
    return task_decorator_factory(python_callable=python_callable, decorated_operator_class=_ReportDecoratedOperator,
                                  **kwargs)
