"""Every DAG end to end with `dag.test()` on the simulated firm and the store; fail once, rerun, converge.

Simulated time comes from MULTIACCOUNT_CLOCK_START (`clock_from_env`), so tasks, the simulated
terminals and the assertions agree on the trading day whatever the wall clock says.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from multiaccount.domain import OrderIntent, Side, client_order_id

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow_dag_runs")]

TUESDAY_EOD = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)  # 17:00 New York
TUESDAY_STARTUP = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # 06:30 London
MONTHLY = datetime(2027, 1, 4, 7, tzinfo=UTC)  # first trading day of January (1st holiday, 2-3 weekend)


@pytest.fixture
def sim_time(monkeypatch):
    """Set simulated time for this test's tasks (and for `bootstrap()` in the test itself)."""
    def at(when: datetime) -> None:
        monkeypatch.setenv("MULTIACCOUNT_CLOCK_START", when.isoformat())
        monkeypatch.setenv("MULTIACCOUNT_CLOCK_ANCHOR", str(time.time()))
    return at


def _no_retries(dag) -> None:
    for t in dag.tasks:
        t.retries = 0


def _ti_states(dr) -> dict[str, str]:
    from airflow.utils.session import create_session

    with create_session() as s:
        return {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in dr.get_task_instances(session=s)}


def _open_positions(accounts: list[str]) -> None:
    from multiaccount.bootstrap import bootstrap

    app = bootstrap()
    for acc in accounts:
        app.fleet.connect(acc)
        out = app.fleet.broker(acc).send(OrderIntent(client_id=client_order_id("test-open", acc), account_id=acc,
                                                     symbol="EURUSD", side=Side.BUY, volume=0.1))
        assert out.status.value == "filled", out


def _store():
    from multiaccount.store import Store

    return Store.open()


def test_end_of_day_when_one_account_fails_once_then_rerun_sends_one_close_per_position_and_one_report(
        dagbag, monkeypatch, sim_time):
    intraday = ["EU_HF_001", "EU_HF_002", "EU_HF_003"]
    sim_time(TUESDAY_EOD)
    _open_positions(intraday)
    monkeypatch.setenv("MULTIACCOUNT_FAULT_CONNECT_ONCE", "EU_HF_002")
    dag = dagbag.get_dag("end_of_day")
    _no_retries(dag)

    first = dag.test(logical_date=TUESDAY_EOD, run_conf={"accounts": intraday})
    assert str(first.state) == "failed"
    assert _ti_states(first)["close_day_positions[1]"] == "failed"
    assert sorted(o.account_id for o in _store().orders.list()) == ["EU_HF_001", "EU_HF_003"]

    second = dag.test(logical_date=TUESDAY_EOD, run_conf={"accounts": intraday})  # clears and reruns the run
    assert str(second.state) == "success"

    store = _store()
    orders = store.orders.list()
    assert sorted(o.account_id for o in orders) == sorted(intraday)  # exactly one close each
    assert all(o.reduce_only and o.status == "filled" for o in orders)
    from multiaccount import paths
    from multiaccount.bootstrap import bootstrap

    app = bootstrap()
    assert all(app.fleet.positions(a) == [] for a in intraday)
    assert [r.period for r in store.reports.list(kind="daily") if r.format == "html"] == ["2026-12-01"]
    assert (paths.reports_dir() / "daily" / "2026-12-01" / "report.html").exists()
    assert len(store.backups.list()) == 1  # the day's archive, written once


def test_daily_startup_when_run_then_every_account_connected_risk_checked_and_checklist_linked(dagbag, sim_time):
    sim_time(TUESDAY_STARTUP)
    dag = dagbag.get_dag("daily_startup")
    _no_retries(dag)
    dr = dag.test(logical_date=TUESDAY_STARTUP)
    assert str(dr.state) == "success"  # failing checklist items (no monitor heartbeat here) alert, not fail
    store = _store()
    assert store.kv.get("procedure:daily_startup:2026-12-01:connections")["connected"] == 10
    assert store.kv.get("procedure:daily_startup:2026-12-01:session")["active_groups"]
    assert set(store.kv.get("risk.baseline")["peaks"]) >= {"EU_HF_001", "firm"}
    assert len(store.checklists.results("daily", "daily:2026-12-01")) == 10
    assert _ti_states(dr)["daily_checklist[-1]"] == "success"


def test_rebalancing_when_run_twice_then_each_transfer_executed_once(dagbag, sim_time):
    from multiaccount.bootstrap import bootstrap

    sim_time(TUESDAY_STARTUP)
    app = bootstrap()
    app.fleet.connect("SW_001")
    app.fleet.transfer("SW_001", Decimal("30000"), "test drift")  # SW_001 now 30 % above target
    dag = dagbag.get_dag("rebalancing")
    _no_retries(dag)
    assert str(dag.test(logical_date=TUESDAY_STARTUP).state) == "success"
    store = _store()
    first = [(t.id, t.status, t.amount) for t in store.transfers.list(plan_key="rebalance:2026-12-01")]
    assert first and {s for _, s, _ in first} == {"executed"}
    balance = bootstrap().fleet.account_state("SW_001").balance
    assert str(dag.test(logical_date=TUESDAY_STARTUP).state) == "success"
    assert [(t.id, t.status, t.amount) for t in store.transfers.list(plan_key="rebalance:2026-12-01")] == first
    assert bootstrap().fleet.account_state("SW_001").balance == balance


def test_backup_and_monthly_review_when_run_then_archive_verified_restored_and_report_written(dagbag, sim_time):
    from multiaccount import paths

    sim_time(TUESDAY_EOD)
    dag = dagbag.get_dag("backup")
    _no_retries(dag)
    assert str(dag.test(logical_date=TUESDAY_EOD).state) == "success"
    sim_time(MONTHLY)
    dag = dagbag.get_dag("monthly_review")
    _no_retries(dag)
    dr = dag.test(logical_date=MONTHLY)
    assert str(dr.state) == "success", _ti_states(dr)
    store = _store()
    [archive] = store.backups.list()
    assert archive.status == "verified"
    assert store.kv.get("procedure:monthly_review:2026-12:dr_test")["ok"] is True
    page = (paths.reports_dir() / "monthly" / "2026-12" / "report.html").read_text()
    assert "PASSED" in page
    assert store.reports.get("checklist", "monthly:2026-12", "html") is not None
