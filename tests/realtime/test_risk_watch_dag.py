"""`risk_watch` with `dag.test()`: the deferrable sensor picks up a risk event, and a stale heartbeat
with open risk escalates to an emergency stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from multiaccount.domain import Scope, Severity, SystemClock, TradingState
from multiaccount.realtime.events import RiskEvent
from multiaccount.realtime.runtime import StoreEventLog
from multiaccount.realtime.watch import CURSOR_KEY, STALE_ACK_KEY, watch_position
from tests.fixtures.realtime import open_positions

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow_dag_runs")]


@pytest.fixture
def watch_app(seed_firm):
    """bootstrap() for the DAG's tasks: the seed firm on simulated terminals, a SQLite store, a recording sink."""
    from multiaccount import bootstrap as b
    from multiaccount.domain.ports import RecordingEventSink
    from multiaccount.realtime.pool import FleetPool
    from multiaccount.store import Store
    from tests.fixtures.realtime import sim_brokers

    clock = SystemClock()
    brokers = sim_brokers(seed_firm, clock)
    store = Store.open()
    sink = RecordingEventSink()
    fleet = b.BrokerFleet(brokers)
    app = b.bootstrap(seed_firm, clock=clock, fleet=fleet, store=store, events=sink)
    app.extras["realtime_pool"] = FleetPool(fleet, list(seed_firm.accounts))  # used by build_runtime()
    b.set_default(lambda: app)
    yield app, brokers
    b.set_default(None)


def _states(dr) -> dict[str, str]:
    from airflow.utils.session import create_session

    with create_session() as s:
        return {ti.task_id: str(ti.state) for ti in dr.get_task_instances(session=s)}


def test_risk_watch_when_risk_event_written_then_alerts_records_incident_and_advances_cursor(dagbag, watch_app):
    app, _ = watch_app
    store = app.store
    store.heartbeat.beat("risk_monitor", datetime.now(UTC), {"status": "ok"})
    start = watch_position(store)["cursor"]
    StoreEventLog(store.risk_events).append(RiskEvent(
        kind="flatten", severity=Severity.CRITICAL, scope=Scope.account("EU_HF_002"), title="flatten account:EU_HF_002",
        at=datetime.now(UTC), reason="MAX_DRAWDOWN: account=EU_HF_002, measured=0.156, limit=0.100"))
    dag = dagbag.get_dag("risk_watch")
    # Act
    dr = dag.test()
    # Assert
    assert set(_states(dr).values()) == {"success"}
    assert store.kv.get(CURSOR_KEY) == start + 1
    incidents = store.incidents.list()
    assert len(incidents) == 1 and "critical risk event" in incidents[0].title
    assert any("MAX_DRAWDOWN" in e.text for e in incidents[0].entries)
    assert [e.kind for e in app.events.events] == ["risk_watch"]
    assert app.states.get(Scope.firm()).state is TradingState.ACTIVE


def test_risk_watch_when_heartbeat_stale_and_open_risk_then_emergency_stop(dagbag, watch_app):
    app, brokers = watch_app
    open_positions(brokers, {"EU_HF_001": ("EURUSD", 0.5)}, tag="watch")
    store = app.store
    store.heartbeat.beat("risk_monitor", datetime.now(UTC) - timedelta(seconds=120), {"status": "ok"})
    watch_position(store)
    # Act
    dr = dagbag.get_dag("risk_watch").test()
    # Assert
    assert set(_states(dr).values()) == {"success"}
    assert app.states.get(Scope.firm()).state is TradingState.HALTED
    assert app.extras["realtime_pool"].positions() == []
    kinds = {e.kind for e in app.events.events}
    assert {"monitor_dead", "emergency_stop"} <= kinds
    assert store.kv.get(STALE_ACK_KEY) is not None
    titles = [i.title for i in store.incidents.list()]
    assert "Realtime monitor dead" in titles and any(t.startswith("EMERGENCY STOP") for t in titles)
