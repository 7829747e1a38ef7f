"""Asset URIs the procedures publish and consume (plain strings: no Airflow here).

The DAGs wrap them in `airflow.sdk.Asset`; an asset event is emitted only when the producing task
succeeds, so a consumer (rebalancing after startup, backup after end of day) never runs on a
half-finished producer.
"""

STARTUP_COMPLETE = "multiaccount://procedures/daily_startup"
REBALANCE_REQUESTED = "multiaccount://procedures/rebalance_request"
END_OF_DAY_COMPLETE = "multiaccount://procedures/end_of_day"
DAILY_REPORT = "multiaccount://reports/daily"
MONTHLY_REPORT = "multiaccount://reports/monthly"
BACKUP = "multiaccount://backups/latest"
