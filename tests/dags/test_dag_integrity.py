"""DagBag integrity: no import errors, parse time, tags, retries, notifier, pool, docs."""

from __future__ import annotations

import time

import pytest

EXPECTED = {"daily_startup", "end_of_day", "rebalancing", "backup", "monthly_review"}


def test_dagbag_when_loaded_then_no_import_errors_and_every_procedure_present(dagbag):
    assert dagbag.import_errors == {}
    assert EXPECTED <= set(dagbag.dag_ids)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_when_inspected_then_documented_tagged_retried_and_alerting(dagbag, dag_id):
    dag = dagbag.get_dag(dag_id)
    assert dag.doc_md and dag.tags
    assert dag.max_active_runs == 1
    for t in dag.tasks:
        if t.task_id == "approve_live_transfers":
            continue
        assert t.retries >= 2, t.task_id
        assert t.on_failure_callback, f"{dag_id}.{t.task_id} has no failure notifier"


def test_dag_files_when_parsed_again_then_each_under_one_second(dagbag):
    from airflow.dag_processing.dagbag import DagBag

    for f in sorted({d.fileloc for d in dagbag.dags.values() if d.dag_id in EXPECTED}):
        t0 = time.perf_counter()
        bag = DagBag(dag_folder=f)
        elapsed = time.perf_counter() - t0
        assert not bag.import_errors
        assert elapsed < 1.0, f"{f} parsed in {elapsed:.2f}s"


def test_broker_tasks_when_inspected_then_use_the_terminal_pool(dagbag):
    assert dagbag.get_dag("daily_startup").get_task("verify_connection").pool == "mt5_terminals"
    assert dagbag.get_dag("end_of_day").get_task("close_day_positions").pool == "mt5_terminals"
