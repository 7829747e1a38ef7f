"""
### Monthly review — 07:00 Europe/London on the first trading day of the month

Seed *Monthly Review Checklist* for the previous month, from the store: account and firm performance,
cost analysis, correlation review, limit breaches, suggested parameter changes, disaster recovery
test (restore the last backup into a scratch SQLite database and compare), the monthly report (an
asset, downloadable from the task's link and the *Reports* page, with the DR result in it), then the
seed's monthly checklist (recorded in the store, linked beside the report; failing items alert).
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from multiaccount.airflow import dags as af
from multiaccount.airflow.links import report_task
from multiaccount.procedures.assets import MONTHLY_REPORT
from multiaccount.procedures.calendar import MONTHLY_REVIEW_AT, Rule

TZ = MONTHLY_REVIEW_AT[1]


@dag(dag_id="monthly_review", schedule=af.trading_timetable(MONTHLY_REVIEW_AT, Rule.FIRST_TRADING_DAY_OF_MONTH),
     start_date=af.START_DATE, catchup=False, max_active_runs=1, default_args=af.default_args(),
     params=af.params(), doc_md=__doc__, tags=["multiaccount", "procedure", "monthly"])
def monthly_review():
    @task
    def resolve_run(**context) -> dict:
        return af.resolve_run(context, TZ)

    @task
    def performance_review(run: dict) -> dict:
        """Month return, drawdown, Sharpe, Sortino per account and firm; monthly rows in the store."""
        from multiaccount.procedures import monthly_review as p
        return p.performance_review(run)

    @task
    def cost_analysis(run: dict) -> dict:
        from multiaccount.procedures import monthly_review as p
        return p.cost_analysis(run)

    @task
    def correlation_review(run: dict) -> dict:
        from multiaccount.procedures import monthly_review as p
        return p.correlation_review(run)

    @task
    def limit_breaches(run: dict) -> dict:
        from multiaccount.procedures import monthly_review as p
        return p.limit_breaches(run)

    @task
    def suggest_parameter_changes(run: dict, performance: dict) -> dict:
        from multiaccount.procedures import monthly_review as p
        return p.suggest_parameter_changes(run, performance)

    @task
    def disaster_recovery_test(run: dict) -> dict:
        """Restore the newest backup into a scratch database and compare."""
        from multiaccount.procedures import monthly_review as p
        return p.disaster_recovery_test(run)

    @report_task(outlets=[Asset(MONTHLY_REPORT)])
    def generate_monthly_report(run: dict, dr: dict) -> dict:
        from multiaccount.procedures import monthly_review as p
        return p.generate_monthly_report(run, dr)

    @report_task(trigger_rule="none_failed")
    def monthly_checklist(run: dict) -> dict:
        """The seed's monthly checklist; failing items alert, they do not fail the run."""
        from multiaccount.procedures import monthly_review as p
        return p.run_monthly_checklist(run)

    run = resolve_run()
    perf = performance_review(run)
    analyses = [perf, cost_analysis(run), correlation_review(run), limit_breaches(run),
                suggest_parameter_changes(run, perf)]
    report = generate_monthly_report(run, disaster_recovery_test(run))
    analyses >> report
    report >> monthly_checklist(run)


monthly_review()
