"""Every DAG end to end with `dag.test()` on the simulated firm; fail once, rerun, converge."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from multiaccount.domain import OrderIntent, Side, client_order_id

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow_dag_runs")]

TUESDAY_EOD = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)  # 17:00 New York
TUESDAY_STARTUP = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # 06:30 London


def _no_retries(dag) -> None:
    for t in dag.tasks:
        t.retries = 0


def _ti_states(dr) -> dict[str, str]:
    from airflow.utils.session import create_session

    with create_session() as s:
        return {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in dr.get_task_instances(session=s)}


def _open_positions(accounts: list[str]) -> dict[str, int]:
    from multiaccount.bootstrap import bootstrap

    app = bootstrap()
    opened = {}
    for acc in accounts:
        sym = app.firm.accounts[acc].trading_config.specialization[0]
        sym = sym if sym in app.firm.symbols.symbols else "EURJPY"
        fleet = app.fleet
        fleet.connect(acc)
        out = fleet.broker(acc).send(OrderIntent(client_id=client_order_id("test-open", acc), account_id=acc,
                                                 symbol=sym, side=Side.BUY, volume=0.1))
        assert out.status.value == "filled", out
        opened[acc] = len(fleet.positions(acc))
    return opened


def _close_orders() -> list[dict]:
    from multiaccount import paths

    d = paths.home() / "procedures" / "orders"
    return [json.loads(p.read_text()) for p in d.glob("*.json")] if d.is_dir() else []


def test_end_of_day_when_one_account_fails_once_then_rerun_sends_one_close_per_position_and_one_report(
        dagbag, monkeypatch):
    intraday = ["EU_HF_001", "EU_HF_002", "EU_HF_003"]
    _open_positions(intraday)
    monkeypatch.setenv("MULTIACCOUNT_FAULT_CONNECT_ONCE", "EU_HF_002")
    dag = dagbag.get_dag("end_of_day")
    _no_retries(dag)

    first = dag.test(logical_date=TUESDAY_EOD, run_conf={"accounts": intraday})
    assert str(first.state) == "failed"
    assert _ti_states(first)["close_day_positions[1]"] == "failed"
    assert sorted(o["account_id"] for o in _close_orders()) == ["EU_HF_001", "EU_HF_003"]

    second = dag.test(logical_date=TUESDAY_EOD, run_conf={"accounts": intraday})  # clears and reruns the run
    assert str(second.state) == "success"

    orders = _close_orders()
    assert sorted(o["account_id"] for o in orders) == sorted(intraday)  # exactly one close each
    from multiaccount import paths
    from multiaccount.bootstrap import bootstrap

    app = bootstrap()
    assert all(app.fleet.positions(a) == [] for a in intraday)
    assert len(app.ledger.records("reports", "daily:")) == 1
    assert (paths.reports_dir() / "daily" / "2026-12-01" / "daily_report.html").exists()


def test_daily_startup_when_run_then_every_account_connected_and_session_started(dagbag):
    dag = dagbag.get_dag("daily_startup")
    _no_retries(dag)
    dr = dag.test(logical_date=TUESDAY_STARTUP)
    assert str(dr.state) == "success"
    from multiaccount.bootstrap import bootstrap

    app = bootstrap()
    assert app.ledger.get("connections", "2026-12-01")["connected"] == 10
    assert app.ledger.get("session", "2026-12-01")["active_groups"]


def test_rebalancing_when_run_twice_then_transfers_recorded_once(dagbag):
    from decimal import Decimal

    from multiaccount.bootstrap import bootstrap

    bootstrap().fleet.transfer("SW_001", Decimal("30000"), "test drift")  # SW_001 now 30 % above target
    dag = dagbag.get_dag("rebalancing")
    _no_retries(dag)
    assert str(dag.test(logical_date=TUESDAY_STARTUP).state) == "success"
    from multiaccount.bootstrap import bootstrap

    app = bootstrap()
    first = app.ledger.records("transfers")
    assert first, "the seed firm's capital is off target; a plan with legs is expected"
    ops = app.ledger.records("transfer_ops")
    assert str(dag.test(logical_date=TUESDAY_STARTUP).state) == "success"
    assert app.ledger.records("transfers") == first
    assert app.ledger.records("transfer_ops") == ops


def test_backup_and_monthly_review_when_run_then_backup_verified_and_report_written(dagbag):
    from multiaccount import paths

    for dag_id, when in (("backup", TUESDAY_EOD), ("monthly_review", datetime(2027, 1, 4, 7, tzinfo=UTC))):
        dag = dagbag.get_dag(dag_id)
        _no_retries(dag)
        assert str(dag.test(logical_date=when).state) == "success", dag_id
    assert (paths.backups_dir() / "daily" / "2026-12-01" / "manifest.json").exists()
    assert (paths.reports_dir() / "monthly" / "2026-12" / "monthly_review.html").exists()
