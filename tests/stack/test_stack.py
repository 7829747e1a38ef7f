"""The production stack (CeleryExecutor, PostgreSQL, Redis) started as processes, driven through the REST API.

Starts api-server, scheduler, dag-processor, triggerer and a Celery worker with scripts/stack.py on
scratch databases, unpauses `daily_startup`, sees one mapped task fail on an injected terminal fault
(it keeps failing through its retries until "fixed"), fixes it and clears the task through the API, waits for the run to succeed on the Celery worker, checks the store, and
stops everything it started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from multiaccount.store import Store

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.xdist_group("stack")]

PORT = 8093
DB = f"af_stacktest_{os.getpid()}"
FAULTY = "EU_HF_002"


def _stack(env: dict[str, str], *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "stack.py"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def stack(tmp_path):
    env = {**os.environ, "MULTIACCOUNT_STACK_DIR": str(tmp_path / "stack"), "MULTIACCOUNT_STACK_DB": DB,
           "MULTIACCOUNT_STACK_REDIS_DB": "7", "MULTIACCOUNT_FAULT_CONNECT_UNTIL_FIXED": FAULTY,
           "MULTIACCOUNT_CONFIG_DIR": str(ROOT / "config")}
    env.pop("MULTIACCOUNT_HOME", None)
    env.pop("MULTIACCOUNT_DB_URL", None)
    up = _stack(env, "up", "--port", str(PORT))
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        password = json.loads((tmp_path / "stack" / "passwords.json").read_text())["admin"]
        token = httpx.post(f"http://127.0.0.1:{PORT}/auth/token",
                           json={"username": "admin", "password": password}, timeout=30).json()["access_token"]
        client = httpx.Client(base_url=f"http://127.0.0.1:{PORT}/api/v2",
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)
        yield client, tmp_path / "stack"
    finally:
        _stack(env, "down", "--drop", timeout=120)


def _wait(predicate, timeout: float, what: str, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last={last!r}")


def test_stack_when_task_fails_then_cleared_through_api_and_run_succeeds_on_celery(stack):
    client, stack_dir = stack
    _wait(lambda: client.get("/dags/daily_startup").status_code == 200, 300, "daily_startup parsed")
    # Unpausing schedules the latest trading day's run (catchup=False, max_active_runs=1): drive that one.
    assert client.patch("/dags/daily_startup", json={"is_paused": False}).status_code == 200
    runs = _wait(lambda: client.get("/dags/daily_startup/dagRuns").json()["dag_runs"], 120, "a scheduled run")
    assert len(runs) == 1 and runs[0]["run_type"] == "scheduled"
    run_id = runs[0]["dag_run_id"]

    def tis():
        return client.get(f"/dags/daily_startup/dagRuns/{run_id}/taskInstances",
                          params={"limit": 100}).json()["task_instances"]

    def faulty_ti():
        for ti in tis():
            if ti["task_id"] == "verify_connection" and ti.get("rendered_map_index") == FAULTY:
                return ti if ti["state"] in ("up_for_retry", "failed") else None
        return None

    failed = _wait(faulty_ti, 600, f"verify_connection[{FAULTY}] to fail")
    # The operator fixes the terminal, then clears the task from the UI (here: the REST API).
    (stack_dir / "multiaccount" / "faults" / f"fixed-{FAULTY}").touch()
    cleared = client.post("/dags/daily_startup/clearTaskInstances", json={
        "dry_run": False, "dag_run_id": run_id, "only_failed": False,
        "task_ids": [["verify_connection", failed["map_index"]]]})
    assert cleared.status_code == 200, cleared.text

    def finished():
        state = client.get(f"/dags/daily_startup/dagRuns/{run_id}").json()["state"]
        return state if state in ("success", "failed") else None

    assert _wait(finished, 900, "run to finish") == "success", [(t["task_id"], t["state"]) for t in tis()]
    final = tis()
    verify = [t for t in final if t["task_id"] == "verify_connection"]
    assert len(verify) == 10 and all(t["state"] == "success" for t in verify)
    assert all(t["executor"] in (None, "CeleryExecutor") for t in final)
    assert all(t["hostname"] for t in final if t["state"] == "success")
    worker_log = (stack_dir / "logs" / "worker-1.log").read_text(errors="replace")
    assert "verify_connection" in worker_log or "daily_startup" in worker_log
    faulty = next(t for t in verify if t.get("rendered_map_index") == FAULTY)
    assert faulty["try_number"] >= 2
    assert all(t["try_number"] == 1 for t in verify if t is not faulty)

    store = Store.open(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{DB}_store")
    latest = store.snapshots.latest()
    assert set(latest) == set(json.loads((ROOT / "config" / "accounts" / "account_groups" /
                                          "high_frequency_group.json").read_text())["group"]["accounts"]) | {
        "SW_001", "SW_002", "SW_003", "RD_001", "RD_002"}
    assert all(s.connected for s in latest.values())
    store.engine.dispose()
