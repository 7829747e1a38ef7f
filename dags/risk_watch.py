"""
### Risk watch — continuous: react to the realtime monitor, or to its silence

One run at a time (`@continuous`, `max_active_runs=1`): a deferrable sensor waits in the triggerer
(no worker slot) for a new risk event in the store (cursor on `risk_events`, woken early by the Redis
stream when `MULTIACCOUNT_REDIS_URL` is set) or a stale monitor heartbeat. Then:
`alert` -> `escalate` (emergency stop when the monitor is dead and the firm has open risk) ->
`record_incident` -> `acknowledge` (advance the cursor), and the next run starts waiting again.
Logic lives in `multiaccount.realtime.watch`; the trigger in `multiaccount.triggers.risk_watch`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, dag, task

from multiaccount.procedures import airflow_support as af

STALE_AFTER_SECONDS = float(os.environ.get("MULTIACCOUNT_HEARTBEAT_STALE_SECONDS", "10"))
POLL_SECONDS = float(os.environ.get("MULTIACCOUNT_RISK_WATCH_POLL_SECONDS", "2"))


class RiskEventSensor(BaseSensorOperator):
    """Defers to `RiskWatchTrigger` from the saved cursor; returns the trigger's payload (XCom)."""

    def __init__(self, *, stale_after_seconds: float = STALE_AFTER_SECONDS, poll_seconds: float = POLL_SECONDS,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.stale_after_seconds = stale_after_seconds
        self.poll_seconds = poll_seconds

    def execute(self, context: Any) -> None:
        from multiaccount.realtime.watch import watch_position
        from multiaccount.store import Store, db_url
        from multiaccount.triggers.risk_watch import RiskWatchTrigger

        url = db_url()
        pos = watch_position(Store.open(url))
        self.defer(trigger=RiskWatchTrigger(cursor=pos["cursor"], acked_beat=pos["acked_beat"],
                                            stale_after_seconds=self.stale_after_seconds,
                                            poll_seconds=self.poll_seconds, db_url=url,
                                            redis_url=os.environ.get("MULTIACCOUNT_REDIS_URL") or None),
                   method_name="execute_complete")

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        if not event:
            raise RuntimeError("risk_watch trigger ended without an event")
        return event


@dag(dag_id="risk_watch", schedule="@continuous", max_active_runs=1, start_date=af.START_DATE, catchup=False,
     default_args={**af.default_args(retries=2), "retry_delay": timedelta(seconds=5),
                   "execution_timeout": timedelta(minutes=5)},
     doc_md=__doc__, tags=["multiaccount", "risk", "realtime"])
def risk_watch():
    wait = RiskEventSensor(task_id="wait_for_risk_event", execution_timeout=None)

    @task
    def alert(event: dict) -> int:
        """Critical alert for a dead monitor; a summary of critical events."""
        from multiaccount.bootstrap import bootstrap
        from multiaccount.realtime import watch

        app = bootstrap()
        return watch.alert(event, app.events, app.clock.now())

    @task
    def escalate(event: dict) -> dict:
        """Emergency stop if the monitor is dead and the firm has open risk (and is not halted)."""
        from multiaccount.realtime import watch
        from multiaccount.realtime.runtime import build_runtime

        return watch.escalate(event, build_runtime())

    @task
    def record_incident(event: dict, escalation: dict) -> int | None:
        """An incident with the events' timeline (idempotent by key)."""
        from multiaccount.bootstrap import bootstrap
        from multiaccount.realtime import watch

        app = bootstrap()
        return watch.record(event, escalation, app.store, app.clock.now())

    @task
    def acknowledge(event: dict) -> None:
        """Advance the cursor so the next run waits for something new."""
        from multiaccount.bootstrap import bootstrap
        from multiaccount.realtime import watch

        watch.acknowledge(event, bootstrap().store)

    event = wait.output
    alerted = alert(event)
    escalation = escalate(event)
    alerted >> escalation
    recorded = record_incident(event, escalation)
    recorded >> acknowledge(event)


risk_watch()
