"""The batch writes of the signal path (ledger reserve/complete, signal routes) on both dialects.

A batch must answer and store exactly what the same calls one at a time would: the in-memory ledger is
the reference the SQL ledger is compared with.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from multiaccount.domain import OrderIntent, OrderOutcome, OrderStatus, Side, TradingSignal
from multiaccount.domain.ports import InMemoryOrderLedger
from multiaccount.store import Store
from multiaccount.store.models import ORDER_PENDING
from multiaccount.store.repositories import base

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=2)


def _intent(cid: str, account: str = "EU_HF_001", volume: float = 0.37) -> OrderIntent:
    return OrderIntent(client_id=cid, account_id=account, symbol="EURUSD", side=Side.BUY, volume=volume,
                       price=1.08512, sl=1.08012, signal_id="sig-1", factors={"base": 0.5})


def _outcome(cid: str, status: OrderStatus = OrderStatus.FILLED, account: str = "EU_HF_001",
             volume: float = 0.37, ticket: int | None = 7) -> OrderOutcome:
    filled = status is OrderStatus.FILLED
    return OrderOutcome(cid, account, status, retcode=10009 if filled else 10019,
                        reason="" if filled else "NO_MONEY", volume=volume, price=1.08515, ticket=ticket,
                        deal=None if ticket is None else ticket + 1, latency_ms=12.5)


# ------------------------------------------------------------------ reserve_many
def test_reserve_many_when_ids_exist_or_repeat_then_only_first_new_occurrences_win_in_input_order(store):
    store.orders.reserve(_intent("ma-b"), T0)
    batch = [_intent("ma-c", "EU_HF_003"), _intent("ma-b", "EU_HF_002"), _intent("ma-a", "EU_HF_001"),
             _intent("ma-c", "EU_HF_009"), _intent("ma-d", "EU_HF_004")]

    won = store.orders.reserve_many(batch, T1)

    assert won == [True, False, True, False, True]
    rows = {r.client_id: r for r in store.orders.list()}
    assert sorted(rows) == ["ma-a", "ma-b", "ma-c", "ma-d"]
    assert rows["ma-c"].account_id == "EU_HF_003"  # the first occurrence was written, not the repeat
    assert (rows["ma-b"].account_id, rows["ma-b"].reserved_at) == ("EU_HF_001", T0)  # the earlier row is kept


def test_reserve_many_when_batch_empty_then_answers_nothing_and_writes_nothing(store):
    assert store.orders.reserve_many([], T0) == []
    assert store.orders.list() == []


def test_reserve_many_when_all_new_then_rows_equal_single_reserves(store):
    single, batched = _intent("ma-single"), _intent("ma-batched")

    assert store.orders.reserve(single, T0) is True
    assert store.orders.reserve_many([batched], T0) == [True]

    def columns(cid: str) -> dict:
        row = store.orders.row(cid)
        return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in ("id", "client_id")}

    assert columns("ma-single") == columns("ma-batched")
    assert columns("ma-batched")["volume"] == Decimal("0.37000000")
    assert columns("ma-batched")["status"] == ORDER_PENDING and columns("ma-batched")["reserved_at"] == T0


def test_reserve_many_when_batch_spans_chunks_then_each_answer_matches_its_intent(store, monkeypatch):
    monkeypatch.setattr(base, "CHUNK", 4)  # 23 rows: six statements, existing ids in several of them
    ids = [f"ma-{i:03d}" for i in range(23)]
    existing = set(ids[1::5])
    store.orders.reserve_many([_intent(c) for c in sorted(existing)], T0)

    won = store.orders.reserve_many([_intent(c) for c in reversed(ids)], T1)

    assert won == [c not in existing for c in reversed(ids)]
    assert len(store.orders.list()) == len(ids)


def test_reserve_many_when_unit_of_work_rolls_back_then_nothing_is_kept(store):
    with pytest.raises(RuntimeError), store.session():
        assert store.orders.reserve_many([_intent("ma-a"), _intent("ma-b")], T0) == [True, True]
        raise RuntimeError("broker fan-out failed before commit")
    assert store.orders.list() == []
    assert store.orders.reserve_many([_intent("ma-a")], T0) == [True]


# ------------------------------------------------------------------ complete_many
def test_complete_many_when_some_ids_never_reserved_then_every_outcome_is_recorded(store):
    store.orders.reserve_many([_intent("ma-a"), _intent("ma-b", "EU_HF_002")], T0)

    rejected = _outcome("ma-b", OrderStatus.REJECTED, "EU_HF_002", 0.0, None)
    never_reserved = _outcome("ma-x", account="EU_SW_001", volume=0.12)
    store.orders.complete_many([_outcome("ma-a"), rejected, never_reserved], T1)

    assert store.orders.get("ma-a") == _outcome("ma-a")
    assert store.orders.get("ma-b") == rejected
    assert store.orders.get("ma-x") == never_reserved
    reserved, unknown = store.orders.row("ma-a"), store.orders.row("ma-x")
    # the reservation's columns survive the outcome; a never-reserved id gets the outcome's account
    lots = Decimal("0.37000000")
    assert (reserved.symbol, reserved.volume, reserved.factors) == ("EURUSD", lots, {"base": 0.5})
    assert (reserved.reserved_at, reserved.completed_at, reserved.filled_volume) == (T0, T1, lots)
    assert (unknown.account_id, unknown.symbol, unknown.reserved_at) == ("EU_SW_001", "", T1)
    assert store.orders.pending() == [] and len(store.orders.list()) == 3


def test_complete_many_when_id_repeats_then_last_outcome_is_kept(store):
    store.orders.reserve(_intent("ma-a"), T0)

    store.orders.complete_many([_outcome("ma-a", OrderStatus.UNKNOWN, ticket=None),
                                _outcome("ma-a", OrderStatus.FILLED, ticket=99)], T1)

    assert store.orders.get("ma-a") == _outcome("ma-a", OrderStatus.FILLED, ticket=99)
    assert len(store.orders.list()) == 1


def test_complete_many_when_batch_empty_then_nothing_changes(store):
    store.orders.reserve(_intent("ma-a"), T0)
    store.orders.complete_many([], T1)
    assert [r.client_id for r in store.orders.pending()] == ["ma-a"]


def test_complete_when_called_alone_then_same_row_as_complete_many(store):
    store.orders.reserve_many([_intent("ma-a"), _intent("ma-b")], T0)

    store.orders.complete(_outcome("ma-a"), T1)
    store.orders.complete_many([_outcome("ma-b")], T1)

    columns = ("status", "retcode", "filled_volume", "fill_price", "ticket", "completed_at")
    a, b = store.orders.row("ma-a"), store.orders.row("ma-b")
    assert [getattr(a, c) for c in columns] == [getattr(b, c) for c in columns]
    assert a.status == OrderStatus.FILLED.value and a.completed_at == T1


# ------------------------------------------------------------------ parity with the in-memory ledger
def test_ledgers_when_given_the_same_batches_then_sql_answers_like_in_memory(store):
    memory = InMemoryOrderLedger()
    batches = [["ma-a", "ma-b"], ["ma-b", "ma-c", "ma-c", "ma-a", "ma-d"], [], ["ma-e", "ma-d", "ma-e"]]
    outcomes = [_outcome("ma-a"), _outcome("ma-c", OrderStatus.REJECTED, volume=0.0, ticket=None),
                _outcome("ma-z", OrderStatus.UNKNOWN, volume=0.0, ticket=None), _outcome("ma-a", ticket=11)]

    answers = {name: [ledger.reserve_many([_intent(c) for c in batch], T0) for batch in batches]
               for name, ledger in (("sql", store.orders), ("memory", memory))}
    for ledger in (store.orders, memory):
        ledger.complete_many(outcomes, T1)
        ledger.reserve(_intent("ma-z"), T1)  # completed without a reservation: the id is taken

    assert answers["sql"] == answers["memory"] == [[True, True], [False, True, False, False, True], [],
                                                   [True, False, False]]
    ids = ["ma-a", "ma-b", "ma-c", "ma-d", "ma-e", "ma-z", "ma-never"]
    assert [store.orders.get(c) for c in ids] == [memory.get(c) for c in ids]
    assert store.orders.reserve_many([_intent("ma-z"), _intent("ma-new")], T1) \
        == memory.reserve_many([_intent("ma-z"), _intent("ma-new")], T1) == [False, True]


# ------------------------------------------------------------------ record_routes
def _signal(store: Store) -> None:
    signal = TradingSignal(id="sig-1", symbol="EURUSD", side=Side.BUY, stop=1.07, strategy="trend",
                           created=T0)
    store.signals.record(signal, T0)


def test_record_routes_when_signal_rerouted_then_each_account_keeps_its_latest_route(store):
    _signal(store)
    store.signals.record_routes("sig-1", [
        {"account_id": "EU_HF_001", "status": "routed", "client_id": "ma-1", "volume": 0.3,
         "factors": {"base": 0.5}},
        {"account_id": "EU_HF_002", "status": "rejected", "reason": "MAX_GROUP_RISK: after=0.09"},
    ], at=T0)

    store.signals.record_routes("sig-1", [
        {"account_id": "EU_HF_002", "status": "failed_over", "reason": "HALTED"},
        {"account_id": "EU_HF_003", "status": "routed", "client_id": "ma-3", "volume": 0.2},
    ], at=T1)

    routes = store.signals.routes("sig-1")
    assert [(r.account_id, r.status, r.reason, r.client_id, r.volume, r.at) for r in routes] == [
        ("EU_HF_001", "routed", "", "ma-1", 0.3, T0),
        ("EU_HF_002", "failed_over", "HALTED", None, None, T1),  # replaced in place: every column rewritten
        ("EU_HF_003", "routed", "", "ma-3", 0.2, T1),
    ]
    assert routes[0].factors == {"base": 0.5} and routes[1].factors == {}


def test_record_routes_when_account_repeats_in_batch_then_last_route_wins(store):
    _signal(store)
    store.signals.record_routes("sig-1", [
        {"account_id": "EU_HF_001", "status": "rejected", "reason": "HALTED"},
        {"account_id": "EU_HF_001", "status": "routed", "client_id": "ma-1"},
    ], at=T0)
    assert [(r.status, r.client_id) for r in store.signals.routes("sig-1")] == [("routed", "ma-1")]


def test_record_routes_when_route_has_unknown_field_then_raises_and_writes_nothing(store):
    _signal(store)
    with pytest.raises(TypeError, match="latency_ms"):
        store.signals.record_routes("sig-1", [
            {"account_id": "EU_HF_001", "status": "routed"},
            {"account_id": "EU_HF_002", "status": "routed", "latency_ms": 3.0},
        ])
    assert store.signals.routes("sig-1") == []


def test_record_route_when_mixed_with_record_routes_then_one_row_per_account(store):
    _signal(store)
    store.signals.record_routes("sig-1", [], at=T0)
    store.signals.record_route("sig-1", "EU_HF_001", "rejected", reason="HALTED", at=T0)
    store.signals.record_routes("sig-1", [{"account_id": "EU_HF_001", "status": "routed", "volume": 0.1}],
                                at=T1)
    assert [(r.account_id, r.status, r.reason, r.volume) for r in store.signals.routes()] == [
        ("EU_HF_001", "routed", "", 0.1)]
