"""
### End of day — 17:00 America/New_York (FX rollover) on trading days

Seed *End of Day Procedure*: the lifecycle's closing rules per account (intraday groups flat before
the rollover, positions past their holding period, the weekend policy on Fridays; one mapped task per
account; each close carries a deterministic client id, so a rerun never sends a second order),
daily performance into the store, the daily report (an asset, downloadable from the task's
*Download report* link and the *Reports* page), the day's store backup with the brokers' account
states, arm overnight monitoring (emits the asset that starts the `backup` DAG).
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from multiaccount.airflow import dags as af
from multiaccount.airflow.links import report_task
from multiaccount.procedures.assets import DAILY_REPORT, END_OF_DAY_COMPLETE
from multiaccount.procedures.calendar import END_OF_DAY_AT

TZ = END_OF_DAY_AT[1]


@dag(dag_id="end_of_day", schedule=af.trading_timetable(END_OF_DAY_AT), start_date=af.START_DATE, catchup=False,
     max_active_runs=1, default_args=af.default_args(), params=af.params(), doc_md=__doc__,
     tags=["multiaccount", "procedure", "daily"])
def end_of_day():
    @task
    def resolve_run(**context) -> dict:
        return af.resolve_run(context, TZ)

    @task
    def accounts_of(run: dict) -> list:
        """The accounts this run covers (mapped tasks expand over them)."""
        return run["accounts"]

    @task(pool=af.POOL, map_index_template="{{ task.op_kwargs['account_id'] }}")
    def close_day_positions(run: dict, account_id: str) -> dict:
        """Lifecycle closes for one account (idempotent client ids, recorded in the store's order ledger)."""
        from multiaccount.procedures import end_of_day as p
        return p.close_day_positions(run, account_id)

    @task(pool=af.POOL)
    def calculate_daily_performance(run: dict) -> dict:
        from multiaccount.procedures import end_of_day as p
        return p.calculate_daily_performance(run)

    @report_task(outlets=[Asset(DAILY_REPORT)])
    def generate_daily_report(run: dict, performance: dict) -> dict:
        from multiaccount.procedures import end_of_day as p
        return p.generate_daily_report(run, performance)

    @task(pool=af.POOL)
    def backup_account_states(run: dict) -> dict:
        from multiaccount.procedures import end_of_day as p
        return p.backup_account_states(run)

    @task(outlets=[Asset(END_OF_DAY_COMPLETE)])
    def arm_overnight_monitoring(run: dict) -> dict:
        from multiaccount.procedures import end_of_day as p
        return p.arm_overnight_monitoring(run)

    run = resolve_run()
    closed = close_day_positions.partial(run=run).expand(account_id=accounts_of(run))
    perf = calculate_daily_performance(run)
    closed >> perf
    report = generate_daily_report(run, perf)
    states = backup_account_states(run)
    report >> states >> arm_overnight_monitoring(run)


end_of_day()
