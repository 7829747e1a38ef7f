"""DagBag integrity: no import errors, light parse-time imports, tags, retries, notifier, pool, docs."""

from __future__ import annotations

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


def test_dag_files_when_parsed_then_no_heavy_module_is_imported_at_parse_time():
    """DAG files are parsed every few seconds: procedures, the store, risk maths and pandas load only
    inside task bodies. Checked in a fresh interpreter that parses every procedure DAG file."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    heavy = ["pandas", "numpy", "multiaccount.procedures.end_of_day", "multiaccount.store", "multiaccount.risk",
             "multiaccount.reports", "multiaccount.bootstrap", "multiaccount.brokers"]
    code = ("import sys\nfrom airflow.dag_processing.dagbag import DagBag\n"
            f"for f in {sorted(EXPECTED)!r}:\n"
            f"    assert not DagBag(dag_folder='{root}/dags/' + f + '.py').import_errors, f\n"
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], env=os.environ.copy(), capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_broker_tasks_when_inspected_then_use_the_terminal_pool(dagbag):
    assert dagbag.get_dag("daily_startup").get_task("verify_connection").pool == "mt5_terminals"
    assert dagbag.get_dag("end_of_day").get_task("close_day_positions").pool == "mt5_terminals"
