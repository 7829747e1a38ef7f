"""Run a procedure's Airflow DAG with `dag.test()` inside the simulation (`use_dags=True`).

The DAG file is loaded from `dags/` by path (Airflow is imported there, never here), its tasks get
the simulation's app through `bootstrap.set_default`, and the accounts come from the simulated
firm's configuration directory. Needs a migrated AIRFLOW_HOME (see tests/fixtures/airflow.py).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"


def load_dag(dag_id: str) -> Any:
    """Build the DAG object from `dags/<dag_id>.py` (its @dag function has the DAG's name)."""
    spec = importlib.util.spec_from_file_location(f"_simulation_dag_{dag_id}", DAGS_DIR / f"{dag_id}.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(DAGS_DIR / f"{dag_id}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, dag_id)()


def run_dag_test(dag_id: str, at: datetime, app: Any) -> bool:
    """`dag.test(logical_date=at)` with this process's app; True when the run succeeded."""
    from multiaccount import bootstrap

    old = os.environ.get("MULTIACCOUNT_CONFIG_DIR")
    os.environ["MULTIACCOUNT_CONFIG_DIR"] = str(app.firm.root)
    bootstrap.set_default(lambda: app)
    try:
        run = load_dag(dag_id).test(logical_date=at)
        state = str(getattr(run, "state", "")).lower()
        return state.endswith("success")
    except Exception as exc:  # a failed DAG run is a recorded failure, as in production
        log.warning("dag.test(%s, %s) failed: %s", dag_id, at, exc)
        return False
    finally:
        bootstrap.set_default(None)
        if old is None:
            os.environ.pop("MULTIACCOUNT_CONFIG_DIR", None)
        else:
            os.environ["MULTIACCOUNT_CONFIG_DIR"] = old
