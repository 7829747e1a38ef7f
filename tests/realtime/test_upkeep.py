"""The monitor's upkeep: lifecycle rules applied from the tick's own read, snapshots and violations stored."""

from __future__ import annotations

from datetime import timedelta

from multiaccount.domain import OrderIntent, Side, client_order_id
from multiaccount.realtime.events import EventKind


def _tick(rt, clock, seconds: float):
    clock.advance(timedelta(seconds=seconds))
    return rt.monitor.tick()


def test_tick_when_position_has_no_stop_then_lifecycle_sets_stop_and_tp(sim_runtime, clock):
    rt = sim_runtime
    rt.upkeep.lifecycle = True
    out = rt.brokers["EU_HF_001"].send(OrderIntent(client_order_id("up-1", "EU_HF_001"), "EU_HF_001", "EURUSD",
                                                   Side.BUY, 1.0))
    assert out.status.value == "filled"
    result = rt.monitor.tick()
    assert result.ok
    [p] = rt.brokers["EU_HF_001"].positions()
    assert p.sl is not None and p.sl < p.price_open and p.tp is not None and p.tp > p.price_open
    kinds = [e.kind for e in result.events]
    assert EventKind.LIFECYCLE in kinds
    stored = [e for e in rt.store.risk_events.since(0, 500) if e["kind"] == EventKind.LIFECYCLE]
    assert stored and "MISSING_STOP" in stored[0]["payload"]["reason"]


def test_tick_when_verdict_persists_then_one_violation_row_until_it_clears(sim_runtime, clock):
    rt = sim_runtime
    rt.upkeep.lifecycle = False
    # EU_HF_001 with a large unprotected position: account risk above its cap (fallback stop distance)
    rt.brokers["EU_HF_001"].send(OrderIntent(client_order_id("up-2", "EU_HF_001"), "EU_HF_001", "EURUSD",
                                             Side.BUY, 8.0))
    first = rt.monitor.tick()
    assert first.ok and first.assessment.verdicts, "the oversized position must produce a verdict"
    rows_after_first = len(rt.store.violations.list())
    assert rows_after_first == len({v.key for v in first.assessment.verdicts})
    for _ in range(3):
        _tick(rt, clock, 1)
    assert len(rt.store.violations.list()) == rows_after_first  # same verdicts: no new rows


def test_tick_when_snapshot_interval_elapsed_then_account_snapshots_stored(sim_runtime, clock):
    rt = sim_runtime
    rt.monitor.tick()
    assert len(rt.store.snapshots.latest()) == 10
    n = len(rt.store.snapshots.series())
    _tick(rt, clock, 5)
    assert len(rt.store.snapshots.series()) == n  # within the interval: not stored again
    _tick(rt, clock, rt.upkeep.snapshot_every.total_seconds())
    assert len(rt.store.snapshots.series()) == n + 10


def test_monitor_when_drawdown_breach_persists_then_flatten_event_written_once(sim_runtime, clock):
    from tests.fixtures.realtime import SHOCK_PLAN, open_positions

    rt = sim_runtime
    rt._t0 = clock.now()  # noqa: SLF001
    open_positions(rt.brokers, SHOCK_PLAN)
    rt.monitor.tick()
    for s in range(20, 30):  # the GBPUSD shock at +20 s: EU_HF_002 drawdown ~15 % -> halt and flatten
        clock.set(rt._t0 + timedelta(seconds=s))  # noqa: SLF001
        rt.monitor.tick()
    flattens = [e for e in rt.store.risk_events.since(0, 1000)
                if e["kind"] == EventKind.FLATTEN and e["scope"] == "account:EU_HF_002"]
    assert len(flattens) == 1, [e["payload"].get("reason") for e in flattens]
    assert rt.brokers["EU_HF_002"].positions() == []
