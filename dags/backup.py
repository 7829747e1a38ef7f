"""
### Backup — after end of day (triggered by its asset) or on demand

`multiaccount.store.backup`: every store table plus the brokers' own account states in one archive
with a SHA-256 manifest, full verification (every checksum and row count, the archive's SHA-256
against the store's index), retention. One archive per trading day (end of day usually writes it):
a rerun reuses it while it verifies.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from multiaccount.airflow import dags as af
from multiaccount.procedures.assets import BACKUP, END_OF_DAY_COMPLETE
from multiaccount.procedures.calendar import END_OF_DAY_AT

TZ = END_OF_DAY_AT[1]


@dag(dag_id="backup", schedule=[Asset(END_OF_DAY_COMPLETE)], start_date=af.START_DATE, catchup=False,
     max_active_runs=1, default_args=af.default_args(), params=af.params(accounts=False), doc_md=__doc__,
     tags=["multiaccount", "procedure", "backup"])
def backup():
    @task
    def resolve_run(**context) -> dict:
        return af.resolve_run(context, TZ)

    @task
    def create_backup(run: dict) -> dict:
        from multiaccount.procedures import backup as p
        return p.create_backup(run)

    @task(outlets=[Asset(BACKUP)])
    def verify_backup(run: dict) -> dict:
        from multiaccount.procedures import backup as p
        return p.verify_backup(run)

    @task
    def apply_retention(run: dict) -> dict:
        from multiaccount.procedures import backup as p
        return p.apply_retention(run)

    run = resolve_run()
    create_backup(run) >> verify_backup(run) >> apply_retention(run)


backup()
