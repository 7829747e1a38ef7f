"""Repositories against both dialects: each test asserts what a reader sees after a write."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from multiaccount.domain import (
    AccountState,
    OrderIntent,
    OrderOutcome,
    OrderStatus,
    Position,
    Scope,
    Side,
    TradingSignal,
    TradingState,
    client_order_id,
)
from multiaccount.store import StaleStateError, TransferStateError

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _intent(signal: str = "sig-1", account: str = "EU_HF_001") -> OrderIntent:
    return OrderIntent(client_id=client_order_id(signal, account), account_id=account, symbol="EURUSD",
                       side=Side.BUY, volume=0.37, price=1.08512, sl=1.08012, signal_id=signal,
                       factors={"base": 0.5, "correlation": 0.74})


def test_get_when_state_never_set_then_active_version_zero(store):
    record = store.trading_states.get(Scope.group("high_frequency"))
    assert (record.state, record.version) == (TradingState.ACTIVE, 0)


def test_set_when_expected_version_matches_then_version_increments_and_history_grows(store):
    scope = Scope.account("EU_HF_001")
    first = store.trading_states.set(scope, TradingState.REDUCING, "margin 82%", "monitor", expected_version=0, at=T0)
    second = store.trading_states.set(scope, TradingState.HALTED, "drawdown", "monitor",
                                      expected_version=first.version, at=T0 + timedelta(seconds=1))
    assert (first.version, second.version) == (1, 2)
    assert store.trading_states.get(scope).state is TradingState.HALTED
    history = store.trading_states.history(scope)
    assert [h.state for h in history] == [TradingState.HALTED, TradingState.REDUCING]
    assert history[0].changed_at == T0 + timedelta(seconds=1)


def test_set_when_expected_version_stale_then_raises_and_state_unchanged(store):
    scope = Scope.firm()
    store.trading_states.set(scope, TradingState.HALTED, "emergency", "ops", at=T0)
    with pytest.raises(StaleStateError):
        store.trading_states.set(scope, TradingState.ACTIVE, "resume", "ops", expected_version=0, at=T0)
    assert store.trading_states.get(scope).state is TradingState.HALTED
    assert len(store.trading_states.history()) == 1


def test_reserve_when_client_id_repeats_then_second_is_refused(store):
    intent = _intent()
    assert store.orders.reserve(intent, T0) is True
    assert store.orders.reserve(intent, T0) is False
    assert store.orders.get(intent.client_id) is None  # pending: no outcome yet
    assert len(store.orders.list()) == 1


def test_complete_when_filled_then_outcome_round_trips_with_exact_volume(store):
    intent = _intent()
    store.orders.reserve(intent, T0)
    store.orders.complete(OrderOutcome(intent.client_id, intent.account_id, OrderStatus.FILLED, retcode=10009,
                                       volume=0.37, price=1.08515, ticket=123, deal=456, latency_ms=12.5), T0)
    outcome = store.orders.get(intent.client_id)
    assert outcome.status is OrderStatus.FILLED and outcome.volume == 0.37 and outcome.ticket == 123
    row = store.orders.row(intent.client_id)
    assert row.volume == Decimal("0.37000000") and row.factors == {"base": 0.5, "correlation": 0.74}
    assert store.orders.list(account_id="EU_HF_002") == []


def test_snapshots_when_recorded_then_latest_and_series_are_aware(store):
    for i, equity in enumerate([100_000.0, 99_500.0, 101_000.0]):
        store.snapshots.record(AccountState("EU_HF_001", 100_000.0, equity, 1_000.0, equity - 1_000.0,
                                            equity / 10.0, at=T0 + timedelta(minutes=i)))
    store.snapshots.record(AccountState("EU_SW_001", 50_000.0, 50_000.0, 0.0, 50_000.0, None, connected=False,
                                        at=T0))
    latest = store.snapshots.latest()
    assert latest["EU_HF_001"].equity == 101_000.0 and latest["EU_SW_001"].connected is False
    frame = store.snapshots.series("EU_HF_001", since=T0 + timedelta(minutes=1))
    assert list(frame["equity"]) == [99_500.0, 101_000.0]
    assert str(frame["at"].dt.tz) == "UTC"


def test_replace_open_when_position_disappears_then_it_is_closed(store):
    def pos(ticket: int) -> Position:
        return Position("EU_HF_001", ticket, "EURUSD", Side.BUY, 0.1, 1.08, 1.07, None, 1.081, 10.0, opened_at=T0)

    store.positions.replace_open("EU_HF_001", [pos(1), pos(2)], T0)
    store.positions.replace_open("EU_HF_001", [pos(2)], T0 + timedelta(minutes=5))
    assert [p.ticket for p in store.positions.open()] == [2]
    closed = [r for r in store.positions.rows("EU_HF_001") if not r.is_open]
    assert closed[0].ticket == 1 and closed[0].closed_at == T0 + timedelta(minutes=5)


def test_record_deals_when_replayed_then_only_new_ones_count(store):
    deal = {"ticket": 9, "order": 8, "position_id": 7, "symbol": "EURUSD", "type": 0, "entry": 0,
            "volume": 0.1, "price": 1.08, "commission": -0.7, "time": int(T0.timestamp())}
    assert store.positions.record_deals("EU_HF_001", [deal]) == 1
    assert store.positions.record_deals("EU_HF_001", [deal, {**deal, "ticket": 10}]) == 1
    rows = store.positions.deals("EU_HF_001")
    assert [(r.ticket, r.side, r.entry, r.at) for r in rows] == [(9, "buy", "in", T0), (10, "buy", "in", T0)]


def test_signal_when_routed_then_routes_are_listed_per_account(store):
    signal = TradingSignal(id="sig-1", symbol="EURUSD", side=Side.BUY, stop=1.07, strategy="trend", created=T0)
    assert store.signals.record(signal, T0, source="api") is True
    assert store.signals.record(signal, T0, source="api") is False
    store.signals.record_route("sig-1", "EU_HF_001", "routed", client_id="ma-1", volume=0.3, at=T0)
    store.signals.record_route("sig-1", "EU_HF_002", "rejected", reason="MAX_GROUP_RISK: after=0.09", at=T0)
    store.signals.record_route("sig-1", "EU_HF_002", "failed_over", reason="HALTED", at=T0)
    got = store.signals.get("sig-1")
    assert [(r.account_id, r.status) for r in got.routes] == [("EU_HF_001", "routed"), ("EU_HF_002", "failed_over")]


def test_incident_when_opened_noted_and_closed_then_timeline_is_ordered(store):
    incident = store.incidents.open("Daily loss breached", "critical", Scope.group("high_frequency"), "monitor",
                                     key="daily_loss:2026-12-01", at=T0)
    again = store.incidents.open("Daily loss breached", "critical", key="daily_loss:2026-12-01", at=T0)
    assert again.id == incident.id
    store.violations.record(Scope.group("high_frequency"), "max_daily_loss", 0.031, 0.03, "critical",
                            action="halt", at=T0, incident_id=incident.id)
    store.incidents.add_entry(incident.id, "group halted", actor="monitor", kind="action", at=T0)
    store.incidents.close(incident.id, "ops", "reviewed", at=T0 + timedelta(hours=1))
    got = store.incidents.get(incident.id)
    assert [e.kind for e in got.entries] == ["opened", "action", "closed"]
    assert got.status == "closed" and got.closed_by == "ops"
    assert store.violations.list(severity="critical")[0].incident_id == incident.id


def test_create_plan_when_rerun_then_nothing_recorded_twice_and_amounts_exact(store):
    specs = [{"from_account": "EU_SW_001", "to_account": "EU_HF_001", "amount": Decimal("12345.675"),
              "live": True}, {"from_account": "EU_SW_002", "to_account": "EU_HF_002", "amount": "0.10"}]
    plan, created = store.transfers.create_plan("rebalance:2026-12-01", specs, at=T0)
    again, created_again = store.transfers.create_plan("rebalance:2026-12-01", specs, at=T0)
    assert (created, created_again, again.id) == (True, False, plan.id)
    assert [t.amount for t in store.transfers.list()] == [Decimal("12345.68"), Decimal("0.10")]


def test_mark_executed_when_live_transfer_unconfirmed_then_refused_until_confirmed(store):
    plan, _ = store.transfers.create_plan("p1", [TransferLike("A", "B", Decimal("100"), True)], at=T0)
    live = plan.transfers[0]
    with pytest.raises(TransferStateError):
        store.transfers.mark_executed(live.id, T0)
    confirmed = store.transfers.confirm(live.id, "alice", T0)
    executed = store.transfers.mark_executed(live.id, T0 + timedelta(minutes=1))
    assert (confirmed.confirmed_by, executed.status, executed.confirmed_at) == ("alice", "executed", T0)
    assert store.transfers.plan("p1").status == "done"


class TransferLike:
    def __init__(self, src: str, dst: str, amount: Decimal, live: bool):
        self.from_account, self.to_account, self.amount, self.live = src, dst, amount, live


def test_upsert_daily_when_rerun_then_row_replaced(store):
    store.performance.upsert_daily(date(2026, 12, 1), Scope.firm(), pnl=100.0, trades=3)
    store.performance.upsert_daily(date(2026, 12, 1), Scope.firm(), pnl=120.0, trades=4)
    store.performance.upsert_monthly("2026-12", "firm", pnl=120.0, sharpe=1.2)
    rows = store.performance.daily("firm")
    assert [(r.pnl, r.trades) for r in rows] == [(120.0, 4)]
    assert store.performance.monthly(month=date(2026, 12, 1))[0].sharpe == 1.2


def test_outbox_when_repeat_within_window_then_counted_not_requeued(store):
    first = store.outbox.enqueue("dd|firm", "critical", "#risk", {"text": "dd"}, at=T0)
    repeat = store.outbox.enqueue("dd|firm", "critical", "#risk", {"text": "dd"}, at=T0 + timedelta(minutes=5))
    later = store.outbox.enqueue("dd|firm", "critical", "#risk", {"text": "dd"}, at=T0 + timedelta(hours=1))
    assert (first.created, repeat.created, repeat.id, repeat.repeat_count) == (True, False, first.id, 1)
    assert later.created and later.id != first.id


def test_outbox_when_delivery_fails_then_retried_at_retry_time_only(store):
    item = store.outbox.enqueue("k", "warning", "#ops", {"text": "x"}, at=T0)
    claimed = store.outbox.claim_due(10, at=T0)
    assert [c.id for c in claimed] == [item.id] and store.outbox.claim_due(10, at=T0) == []
    store.outbox.mark_failed(item.id, "rate limited", retry_at=T0 + timedelta(minutes=1))
    assert store.outbox.claim_due(10, at=T0 + timedelta(seconds=30)) == []
    again = store.outbox.claim_due(10, at=T0 + timedelta(minutes=1))
    assert again[0].attempts == 2
    store.outbox.mark_sent(item.id, T0 + timedelta(minutes=1), thread_ts="171.1")
    assert store.outbox.get(item.id).thread_ts == "171.1" and store.outbox.counts() == {"sent": 1}


def test_outbox_when_claim_abandoned_then_reclaimed_after_lease(store):
    item = store.outbox.enqueue("k", "info", "#ops", {}, at=T0)
    store.outbox.claim_due(at=T0)
    assert store.outbox.claim_due(at=T0 + timedelta(minutes=1)) == []
    assert [c.id for c in store.outbox.claim_due(at=T0 + timedelta(minutes=6))] == [item.id]


def test_report_upsert_when_rerun_then_single_row(store):
    first = store.reports.upsert("daily", "2026-12-01", "html", "/r/a.html", created_at=T0)
    second = store.reports.upsert("daily", "2026-12-01", "html", "/r/b.html", created_at=T0, size=10)
    assert first == second
    assert [(r.path, r.size) for r in store.reports.list()] == [("/r/b.html", 10)]


def test_risk_events_when_polled_with_cursor_then_each_seen_once(store):
    ids = [store.risk_events.append({"kind": "breach", "severity": "critical", "limit": n, "at": T0})
           for n in range(3)]
    first = store.risk_events.since(0, limit=2)
    rest = store.risk_events.since(first[-1]["id"])
    assert [e["id"] for e in first + rest] == ids and rest[0]["payload"] == {"limit": 2}


def test_heartbeat_when_beating_then_last_shows_latest_and_count(store):
    store.heartbeat.beat("risk_monitor", T0, {"pid": 1})
    store.heartbeat.beat("risk_monitor", T0 + timedelta(seconds=1), {"pid": 1})
    last = store.heartbeat.last("risk_monitor")
    assert (last.at, last.beats) == (T0 + timedelta(seconds=1), 2)
    assert store.heartbeat.last("other") is None


def test_kv_audit_checklists_when_written_then_read_back(store):
    store.kv.set("sod_equity:firm", {"equity": 1_000_000.5, "at": T0.isoformat()})
    store.kv.set("peak:firm", 1_010_000.0)
    assert store.kv.get("sod_equity:firm")["equity"] == 1_000_000.5
    assert store.kv.items("peak:") == {"peak:firm": 1_010_000.0} and store.kv.get("nope", 7) == 7
    store.audit.record("alice", "resume", Scope.account("EU_HF_001"), {"reason": "reviewed"}, at=T0)
    assert store.audit.list(actor="alice")[0].scope == "account:EU_HF_001"
    store.checklists.record("daily_startup", "2026-12-01", [("connections 10/10", True, ""),
                                                            {"item": "violations", "ok": False, "detail": "1"}])
    store.checklists.record("daily_startup", "2026-12-01", [("connections 10/10", True, "")])
    assert [r.item for r in store.checklists.results("daily_startup")] == ["connections 10/10"]


def test_unit_of_work_when_block_raises_then_nothing_commits(store):
    with pytest.raises(RuntimeError), store.session():
        store.trading_states.set(Scope.firm(), TradingState.HALTED, "emergency", "ops", at=T0)
        store.audit.record("ops", "emergency_stop", at=T0)
        raise RuntimeError("broker call failed")
    assert store.trading_states.get(Scope.firm()).version == 0 and store.audit.list() == []


def test_store_when_naive_datetime_given_then_refused(store):
    with pytest.raises(ValueError, match="naive"):
        store.audit.record("ops", "x", at=datetime(2026, 12, 1, 9, 0))


def test_unit_of_work_when_two_store_objects_share_a_url_then_they_share_the_transaction(store):
    other = type(store).open(store.url)
    with pytest.raises(RuntimeError), store.session():
        other.audit.record("ops", "inside", at=T0)
        raise RuntimeError("abort")
    assert other.audit.list() == []
