"""Shared DAG plumbing: default args, params (UI forms), the run resolver, the broker pool.

Airflow seam (imported only by `dags/`, `plugins/` and tests). Keeping these here keeps each DAG
file to orchestration only, and makes every DAG retry, alert and read its params the same way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Param

from multiaccount.procedures.calendar import Rule, load_holidays
from multiaccount.procedures.common import RunInfo, account_ids_on_disk

log = logging.getLogger(__name__)

POOL = "mt5_terminals"  # sized like the terminal pool (config: master terminal_pool.size, default 10)
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
OWNER = "trading-ops"


class DeferredFailureNotifier:
    """Builds the alerts package's notifier (the Slack provider's SlackNotifier / SlackWebhookNotifier, or
    the outbox when Slack is not configured) when a task fails, not when the DAG file is parsed: the
    dag-processor parses every file often, and loading the firm configuration and the Slack provider
    on each parse would cost most of the parse-time budget."""

    def __call__(self, context: Any) -> None:
        from multiaccount.alerts.airflow import failure_notifier

        failure_notifier().notify(context)

    def __repr__(self) -> str:
        return "DeferredFailureNotifier(multiaccount.alerts.airflow.failure_notifier)"


def failure_callbacks() -> list[Any]:
    """The alerts package's Slack notifier (task-level: DAG-level failure callbacks do not fire in 3.1+)."""
    return [DeferredFailureNotifier()]


def default_args(retries: int = 3) -> dict[str, Any]:
    """Retries with exponential backoff (a broker hiccup heals itself); Slack on final failure."""
    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": failure_callbacks(),
    }


def trading_timetable(at_zone: tuple, rule: Rule = Rule.TRADING_DAY):
    from multiaccount.airflow.timetable import TradingDayTimetable

    at, zone = at_zone
    return TradingDayTimetable(at.strftime("%H:%M"), zone, rule.value, load_holidays())


def params(*, force_rebalance: bool = False, accounts: bool = True, extra: dict[str, Param] | None = None
           ) -> dict[str, Param]:
    """UI form: dry run, trading-day override, accounts subset (+ per-DAG extras)."""
    out: dict[str, Param] = {
        "dry_run": Param(False, type="boolean", title="Dry run",
                         description="Compute and report, change nothing (no orders, no state changes)."),
        "trading_day": Param("", type=["null", "string"], title="Trading day (YYYY-MM-DD)",
                             description="Leave empty to use the run's logical date in the procedure's time zone.",
                             pattern=r"^(\d{4}-\d{2}-\d{2})?$"),
    }
    if accounts:
        out["accounts"] = Param([], type="array", title="Accounts subset", items={"type": "string"},
                                examples=account_ids_on_disk(),
                                description="Empty = every configured account.")
    if force_rebalance:
        out["force_rebalance"] = Param(False, type="boolean", title="Force rebalance",
                                       description="Rebalance even when drift is below the threshold.")
    out.update(extra or {})
    return out


def resolve_run(context: dict[str, Any], timezone: str) -> dict[str, Any]:
    """RunInfo for this DAG run: the trading day from the `trading_day` param or the logical date.

    Asset-triggered and some manual runs have no logical date; their `run_after` is used instead.
    """
    p = context["params"]
    dag_run = context["dag_run"]
    instant = context.get("logical_date") or dag_run.run_after
    info = RunInfo.create(instant=instant, timezone=timezone, run_id=dag_run.run_id,
                          trading_day=p.get("trading_day") or None, dry_run=bool(p.get("dry_run", False)),
                          accounts=p.get("accounts") or (), force_rebalance=bool(p.get("force_rebalance", False)))
    return info.to_dict()


def approver(context: dict[str, Any], approval_task_id: str) -> str:
    """Who approved a human-in-the-loop task, from its XCom when Airflow records the user, else a generic actor."""
    got = context["ti"].xcom_pull(task_ids=approval_task_id) or {}
    user = got.get("responded_by_user") if isinstance(got, dict) else None
    name = (user.get("name") or user.get("id")) if isinstance(user, dict) else user
    return f"airflow:{name}" if name else "airflow-hitl"
