"""
### Rebalancing — after startup (asset-triggered) or on demand

Targets per group and account, drift, a transfer plan that respects free margin and the minimum
transfer. Simulated accounts execute directly; live transfers wait on **Approve / Reject** under
*Browse → Required Actions* and are confirmed in the store only once
approved. The plan is frozen in the store per trading day and the executor finds done legs in the
broker's history, so clearing any task never moves money twice.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Asset, dag, task

from multiaccount.airflow import dags as af
from multiaccount.procedures.assets import REBALANCE_REQUESTED
from multiaccount.procedures.calendar import STARTUP_AT

TZ = STARTUP_AT[1]


@dag(dag_id="rebalancing", schedule=[Asset(REBALANCE_REQUESTED)], start_date=af.START_DATE, catchup=False,
     max_active_runs=1, default_args=af.default_args(), params=af.params(force_rebalance=True), doc_md=__doc__,
     tags=["multiaccount", "procedure", "rebalancing"])
def rebalancing():
    @task
    def resolve_run(**context) -> dict:
        return af.resolve_run(context, TZ)

    @task(pool=af.POOL)
    def compute_targets(run: dict) -> dict:
        """Read every account into the store; target capital and drift per account."""
        from multiaccount.procedures import rebalance as p
        return p.compute_targets(run)

    @task
    def plan_transfers(run: dict, targets: dict) -> dict:
        """The day's plan, frozen in the store on first computation."""
        from multiaccount.procedures import rebalance as p
        return p.plan_transfers(run, targets)

    @task(pool=af.POOL)
    def execute_simulated_transfers(run: dict, plan: dict) -> dict:
        """Simulated transfers now (each leg once, from the broker's history); live ones stay pending."""
        from multiaccount.procedures import rebalance as p
        return p.execute_simulated_transfers(run, plan)

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def has_live_transfers(run: dict) -> bool:
        from multiaccount.procedures import rebalance as p
        return p.has_live_transfers(run)

    approve = ApprovalOperator(
        task_id="approve_live_transfers",
        subject="Confirm live transfers for {{ ti.xcom_pull(task_ids='resolve_run')['trading_day'] }}",
        body="{% for t in ti.xcom_pull(task_ids='plan_transfers')['transfers'] if t['live'] %}"
             "- {{ t['transfer_id'] }}: {{ t['from_account'] }} -> {{ t['to_account'] }}: {{ t['amount'] }}\n"
             "{% endfor %}",
        response_timeout=timedelta(hours=8),
    )

    @task
    def record_live_transfers(run: dict, **context) -> dict:
        """Confirm each approved live transfer in the store (who, when)."""
        from multiaccount.procedures import rebalance as p
        return p.record_live_transfers(run, approved_by=af.approver(context, "approve_live_transfers"))

    run = resolve_run()
    plan = plan_transfers(run, compute_targets(run))
    done = execute_simulated_transfers(run, plan)
    live = has_live_transfers(run)
    done >> live >> approve >> record_live_transfers(run)


rebalancing()
