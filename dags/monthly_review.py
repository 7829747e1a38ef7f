"""
### Monthly review — 07:00 Europe/London on the first trading day of the month

Seed *Monthly Review Checklist* for the previous month: account and group performance, cost analysis,
correlation review, limit breaches, suggested parameter changes, disaster recovery test (restore the
last backup into a scratch database and compare), compliance checklist, and the monthly report
(an asset, downloadable from the task's link and the *Reports* page).
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from multiaccount.procedures import airflow_support as af
from multiaccount.procedures.airflow_links import report_task
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
        from multiaccount.procedures import monthly_review as p
        return p.performance_review(run)

    @task(pool=af.POOL)
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
    def suggest_parameter_changes(performance: dict, correlations: dict, breaches: dict) -> dict:
        from multiaccount.procedures import monthly_review as p
        return p.suggest_parameter_changes(performance, correlations, breaches)

    @task
    def disaster_recovery_test(run: dict) -> dict:
        from multiaccount.procedures import monthly_review as p
        return p.disaster_recovery_test(run)

    @task
    def compliance_review(run: dict, dr: dict, breaches: dict) -> dict:
        from multiaccount.procedures import monthly_review as p
        return p.compliance_review(run, dr, breaches)

    @report_task(outlets=[Asset(MONTHLY_REPORT)])
    def generate_monthly_report(run: dict, performance: dict, costs: dict, correlations: dict, breaches: dict,
                                suggestions: dict, dr: dict, compliance: dict) -> dict:
        from multiaccount.procedures import monthly_review as p
        return p.generate_monthly_report(run, {
            "performance": performance, "costs": costs, "correlations": correlations, "limit_breaches": breaches,
            "suggestions": suggestions, "disaster_recovery": dr, "compliance": compliance})

    run = resolve_run()
    perf, costs, corr, breaches = performance_review(run), cost_analysis(run), correlation_review(run), limit_breaches(run)
    sugg = suggest_parameter_changes(perf, corr, breaches)
    dr = disaster_recovery_test(run)
    comp = compliance_review(run, dr, breaches)
    generate_monthly_report(run, perf, costs, corr, breaches, sugg, dr, comp)


monthly_review()
