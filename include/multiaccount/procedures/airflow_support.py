"""Moved to `multiaccount.airflow.dags`; kept as a re-export for `dags/risk_watch.py` (realtime's DAG)."""

from multiaccount.airflow.dags import *  # noqa: F401,F403
from multiaccount.airflow.dags import POOL, START_DATE, default_args  # noqa: F401
