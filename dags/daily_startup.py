"""
### Daily startup — 06:30 Europe/London on FX trading days

Seed *Daily Startup Procedure*, one task per step: verify every MT5 connection (one mapped task per
account, so a failed account reruns alone), report n/N, overnight P&L, risk violations (critical
halts the account, warning halves its risk), drift check (emits the rebalance asset when needed),
start the session for active groups, then the seed's daily checklist (recorded in the store, linked
beside the day's report; a failing item alerts, it does not fail the run). Weekends and `config/sessions.json` holidays are skipped by the
`TradingDayTimetable`. Every task is safe to clear and rerun.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from multiaccount.airflow import dags as af
from multiaccount.airflow.links import report_task
from multiaccount.procedures.assets import REBALANCE_REQUESTED, STARTUP_COMPLETE
from multiaccount.procedures.calendar import STARTUP_AT

TZ = STARTUP_AT[1]


@dag(dag_id="daily_startup", schedule=af.trading_timetable(STARTUP_AT), start_date=af.START_DATE, catchup=False,
     max_active_runs=1, default_args=af.default_args(), params=af.params(force_rebalance=True), doc_md=__doc__,
     tags=["multiaccount", "procedure", "daily"])
def daily_startup():
    @task
    def resolve_run(**context) -> dict:
        """The trading day, accounts subset and flags this run works on."""
        return af.resolve_run(context, TZ)

    @task
    def accounts_of(run: dict) -> list:
        """The accounts this run covers (mapped tasks expand over them)."""
        return run["accounts"]

    @task(pool=af.POOL, map_index_template="{{ task.op_kwargs['account_id'] }}")
    def verify_connection(run: dict, account_id: str) -> dict:
        """Connect/reconnect one account's terminal (retries with backoff)."""
        from multiaccount.procedures import daily_startup as p
        return p.verify_connection(run, account_id)

    @task(trigger_rule="all_done")
    def summarize_connections(run: dict, results: list) -> dict:
        """n/N connected; alert on the missing ones."""
        from multiaccount.procedures import daily_startup as p
        return p.summarize_connections(run, list(results or []))

    @task(pool=af.POOL)
    def overnight_pnl(run: dict) -> dict:
        from multiaccount.procedures import daily_startup as p
        return p.overnight_pnl(run)

    @task(pool=af.POOL)
    def check_risk_violations(run: dict) -> dict:
        """Measure the firm with the risk engine; critical halts the account, warning reduces it."""
        from multiaccount.procedures import daily_startup as p
        return p.check_risk_violations(run)

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def check_rebalance_need(run: dict) -> bool:
        """True when drift exceeds the threshold (or forced): lets `request_rebalance` emit its asset."""
        from multiaccount.procedures import daily_startup as p
        return p.check_rebalance_need(run)["needed"]

    @task(outlets=[Asset(REBALANCE_REQUESTED)])
    def request_rebalance(run: dict) -> dict:
        """Emits the asset that triggers the `rebalancing` DAG."""
        return {"trading_day": run["trading_day"], "requested": True}

    @task(trigger_rule="none_failed", outlets=[Asset(STARTUP_COMPLETE)])
    def start_session(run: dict) -> dict:
        from multiaccount.procedures import daily_startup as p
        return p.start_session(run)

    @report_task(trigger_rule="none_failed")
    def daily_checklist(run: dict) -> dict:
        """The seed's daily checklist (store + HTML beside the report); failing items alert, not fail."""
        from multiaccount.procedures import daily_startup as p
        return p.run_daily_checklist(run)

    run = resolve_run()
    connected = verify_connection.partial(run=run).expand(account_id=accounts_of(run))
    summary = summarize_connections(run, connected)
    pnl = overnight_pnl(run)
    risk = check_risk_violations(run)
    need = check_rebalance_need(run)
    summary >> pnl >> risk >> need
    requested = request_rebalance(run)
    session = start_session(run)
    need >> requested >> session
    session >> daily_checklist(run)


daily_startup()
