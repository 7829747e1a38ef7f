"""
### Rebalancing — after startup (asset-triggered) or on demand

Targets per group and account, drift, a transfer plan that respects free margin and the minimum
transfer. Simulated accounts execute directly; live transfers wait on **Approve / Reject** under
*Browse → Required Actions* and are recorded only once approved. The plan is frozen per trading day
and every leg is recorded by id, so clearing any task never moves money twice.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Asset, dag, task

from multiaccount.procedures import airflow_support as af
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
        from multiaccount.procedures import rebalance as p
        return p.compute_targets(run)

    @task(pool=af.POOL)
    def plan_transfers(run: dict, targets: dict) -> dict:
        from multiaccount.procedures import rebalance as p
        return p.plan_transfers(run, targets)

    @task(pool=af.POOL)
    def execute_simulated_transfers(run: dict, plan: dict) -> dict:
        from multiaccount.procedures import rebalance as p
        return p.execute_simulated_transfers(run, plan)

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def has_live_transfers(plan: dict) -> bool:
        from multiaccount.procedures import rebalance as p
        return bool(p.live_transfer_legs(plan))

    approve = ApprovalOperator(
        task_id="approve_live_transfers",
        subject="Approve live transfers for {{ ti.xcom_pull(task_ids='resolve_run')['trading_day'] }}",
        body="{% for leg in ti.xcom_pull(task_ids='plan_transfers')['legs'] if leg['live'] %}"
             "- {{ leg['from'] }} -> {{ leg['to'] }}: {{ leg['amount'] }}\n{% endfor %}",
        response_timeout=timedelta(hours=8),
    )

    @task
    def record_live_transfers(run: dict, plan: dict) -> dict:
        from multiaccount.procedures import rebalance as p
        return p.record_live_transfers(run, plan, approved_by="airflow-hitl")

    run = resolve_run()
    plan = plan_transfers(run, compute_targets(run))
    done = execute_simulated_transfers(run, plan)
    live = has_live_transfers(plan)
    done >> live >> approve >> record_live_transfers(run, plan)


rebalancing()
