"""`make demo` in a reduced form: every stage succeeds and the summary's numbers match the store."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
import subprocess
import sys
from pathlib import Path

import pytest

from multiaccount.store import Store

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MULTIACCOUNT_"))}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--reduced", "--home", str(home)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    summary = json.loads((home / "summary.json").read_text()) if (home / "summary.json").exists() else None
    return proc, home, summary


def test_demo_when_reduced_then_every_stage_succeeds(demo_run):
    proc, home, summary = demo_run
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert summary is not None
    assert all(s["ok"] for s in summary["stages"].values()), summary["stages"]
    assert "demo complete" in proc.stdout


def test_demo_summary_when_compared_with_store_then_numbers_match(demo_run):
    _, home, summary = demo_run
    store = Store.open(f"sqlite:///{home / 'multiaccount.db'}")
    day = datetime.fromisoformat(summary["simulated_day"]).replace(tzinfo=UTC)
    violations = store.violations.list(since=day)
    assert summary["violations"] == len(violations)
    assert summary["warnings"] == sum(v.severity == "warning" for v in violations)
    assert {(f["limit"], f["scope"], f["severity"]) for f in summary["limits_fired"]} == {
        (v.limit_name, v.scope, v.severity) for v in violations if v.severity == "critical"}
    orders = store.orders.list()
    assert summary["orders"]["total"] == len(orders)
    for status, count in summary["orders"].items():
        if status != "total":
            assert count == sum(o.status == status for o in orders)
    assert summary["incidents"] == len(store.incidents.list())
    assert summary["reports"] == sorted(r.path for r in store.reports.list())
    assert all(Path(p).exists() for p in summary["reports"])
    assert summary["backups"] == [b.name for b in store.backups.list()]
    assert summary["trading_states"] == {str(r.scope): r.state.value for r in store.trading_states.all()}


def test_demo_when_shock_then_daily_loss_halt_and_drawdown_flatten_fired(demo_run):
    _, home, summary = demo_run
    fired = {(f["limit"], f["severity"]) for f in summary["limits_fired"]}
    assert ("max_daily_loss", "critical") in fired
    assert ("max_drawdown_per_account", "critical") in fired
    halted = {scope for scope, state in summary["trading_states"].items() if state == "HALTED"}
    assert any(s.startswith("account:") for s in halted)
    assert summary["stages"]["daily_startup"]["ok"] and summary["stages"]["monthly_review"]["ok"]
