"""Concurrent writers for real: threads and spawned processes against SQLite (WAL) and PostgreSQL.

The realtime process, Airflow tasks and the dashboard write at once; these tests check that a
trading-state change is never lost, an order id is never reserved twice, and a writer killed in the
middle of a transaction loses nothing that was committed (and blocks nobody afterwards).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from multiaccount.domain import OrderIntent, Scope, Side, TradingState
from multiaccount.domain.ports import StaleStateError
from multiaccount.store import Store
from tests.store import _workers

SPAWN = mp.get_context("spawn")
# Process races run on PostgreSQL, the production database (threads cover SQLite's WAL path above).
POSTGRES_ONLY = pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                        indirect=True)


def _bump(store: Store, times: int, barrier: threading.Barrier) -> int:
    barrier.wait()
    stale = 0
    for _ in range(times):
        while True:
            cur = store.trading_states.get(Scope.firm())
            try:
                store.trading_states.set(Scope.firm(), TradingState.REDUCING, f"v{cur.version}", "t",
                                         expected_version=cur.version)
                break
            except StaleStateError:
                stale += 1
    return stale


def _assert_no_lost_update(store: Store, total: int) -> None:
    record = store.trading_states.get(Scope.firm())
    history = store.trading_states.history(Scope.firm(), limit=total + 10)
    assert record.version == total
    assert sorted(h.version for h in history) == list(range(1, total + 1))
    # every change was made from the version it read: each predecessor version appears exactly once
    assert sorted(h.reason for h in history) == sorted(f"v{v}" for v in range(total))


def test_set_when_threads_race_with_expected_version_then_no_update_lost(store):
    threads, times = 6, 8
    barrier = threading.Barrier(threads)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: _bump(store, times, barrier), range(threads)))
    _assert_no_lost_update(store, threads * times)


def test_reserve_when_threads_retry_same_ids_then_each_reserved_once(store):
    ids = [f"ma-{i:04d}" for i in range(40)]
    barrier = threading.Barrier(4)

    def storm(_: int) -> int:
        barrier.wait()
        return sum(store.orders.reserve(OrderIntent(c, "EU_HF_001", "EURUSD", Side.BUY, 0.1), datetime.now(UTC))
                   for c in ids)

    with ThreadPoolExecutor(4) as pool:
        won = sum(pool.map(storm, range(4)))
    assert won == len(ids) and len(store.orders.list()) == len(ids)


def _overlapping_batches(ids: list[str], worker: int, size: int) -> list[list[str]]:
    """Every worker gets the same batches, each in its own order (forward, reversed, rotated): racing
    workers insert the same ids in opposite orders, what deadlocks unordered multi-row inserts."""
    batches = [ids[i:i + size] for i in range(0, len(ids), size)]
    return [[b, b[::-1], b[size // 2:] + b[:size // 2]][worker % 3] for b in batches]


def test_reserve_many_when_threads_race_overlapping_batches_then_each_id_won_once(store):
    ids = [f"ma-{i:04d}" for i in range(60)]
    barrier = threading.Barrier(3)

    def storm(worker: int) -> list[str]:
        won: list[str] = []
        for batch in _overlapping_batches(ids, worker, 12):
            barrier.wait()  # every batch raced by all three threads at once
            intents = [OrderIntent(c, "EU_HF_001", "EURUSD", Side.BUY, 0.1) for c in batch]
            answers = store.orders.reserve_many(intents, datetime.now(UTC))
            won.extend(c for c, ok in zip(batch, answers, strict=True) if ok)
        return won

    with ThreadPoolExecutor(3) as pool:
        won = [c for part in pool.map(storm, range(3)) for c in part]
    assert sorted(won) == ids  # every id won, none twice
    assert sorted(r.client_id for r in store.orders.list()) == ids


def _run_processes(target, args_for, n: int) -> list:  # noqa: ANN001
    """Start n spawned workers behind a barrier; collect one result each, failing fast if one dies."""
    import queue

    barrier, results = SPAWN.Barrier(n), SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*args_for(i), barrier, results)) for i in range(n)]
    for p in procs:
        p.start()
    out: list = []
    deadline = time.monotonic() + 180
    while len(out) < n:
        try:
            out.append(results.get(timeout=0.5))
        except queue.Empty:
            crashed = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if crashed or time.monotonic() > deadline:
                for p in procs:
                    p.kill()
                pytest.fail(f"worker processes failed (exit codes {crashed}) or timed out")
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return out


@pytest.mark.slow
@pytest.mark.xdist_group("store_processes")
@POSTGRES_ONLY
def test_reserve_when_processes_retry_same_ids_then_each_reserved_once(db_url):
    Store.open(db_url)
    ids = [f"ma-p{i:04d}" for i in range(40)]
    won = _run_processes(_workers.reserve_orders, lambda i: (db_url, ids if i % 2 else ids[::-1]), 3)
    assert sum(won) == len(ids)
    assert len(Store.open(db_url).orders.list()) == len(ids)


@pytest.mark.slow
@pytest.mark.xdist_group("store_processes")
def test_reserve_many_when_processes_race_overlapping_batches_then_each_id_won_once(db_url):
    Store.open(db_url)
    ids = [f"ma-b{i:04d}" for i in range(120)]
    won = _run_processes(_workers.reserve_order_batches, lambda i: (db_url, _overlapping_batches(ids, i, 20)),
                         3)
    assert sorted(c for part in won for c in part) == ids  # every id won by exactly one process
    assert sorted(r.client_id for r in Store.open(db_url).orders.list()) == ids


@pytest.mark.slow
@pytest.mark.xdist_group("store_processes")
@POSTGRES_ONLY
def test_set_when_processes_race_with_expected_version_then_no_update_lost(db_url):
    store = Store.open(db_url)
    procs, times = 3, 10
    _run_processes(_workers.bump_state, lambda i: (db_url, times), procs)
    record = store.trading_states.get(Scope.firm())
    history = store.trading_states.history(Scope.firm(), limit=100)
    assert record.version == procs * times
    assert sorted(h.version for h in history) == list(range(1, procs * times + 1))
    # each change was based on the version just before it: no two writers won from the same read
    assert sorted(h.reason for h in history) == sorted(f"bump from v{v}" for v in range(procs * times))


@pytest.mark.slow
@pytest.mark.xdist_group("store_processes")
def test_open_when_processes_start_together_on_fresh_database_then_migrated_once(empty_db_url):
    from multiaccount.store import head_revision

    revisions = _run_processes(_workers.open_store, lambda i: (empty_db_url,), 3)
    assert revisions == [head_revision()] * 3
    assert len(Store.open(empty_db_url).audit.list()) == 3


@pytest.mark.slow
@pytest.mark.xdist_group("store_processes")
def test_writer_when_killed_mid_transaction_then_committed_rows_kept_and_nothing_blocked(db_url):
    store = Store.open(db_url)
    in_flight = SPAWN.Event()
    proc = SPAWN.Process(target=_workers.write_then_hang, args=(db_url, 5, in_flight))
    proc.start()
    assert in_flight.wait(timeout=120), "writer never reached its open transaction"
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL

    actions = [a.action for a in store.audit.list()]
    assert actions.count("committed") == 5 and "uncommitted" not in actions
    assert store.trading_states.get(Scope.firm()).version == 0
    # the killed writer's locks are gone: a new state change goes through
    assert store.trading_states.set(Scope.firm(), TradingState.HALTED, "after crash", "ops",
                                    expected_version=0).version == 1


def test_claim_due_when_senders_race_then_each_alert_claimed_once(store):
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    ids = {store.outbox.enqueue(f"key-{i}", "warning", "#ops", {"i": i}, at=at).id for i in range(60)}
    barrier = threading.Barrier(4)

    def sender(_: int) -> list[int]:
        barrier.wait()
        got: list[int] = []
        while batch := store.outbox.claim_due(limit=7, at=at):
            got.extend(row.id for row in batch)
        return got

    with ThreadPoolExecutor(4) as pool:
        claimed = [i for part in pool.map(sender, range(4)) for i in part]
    assert sorted(claimed) == sorted(ids)  # every alert claimed, none twice


def test_risk_event_cursor_when_appenders_race_then_poller_misses_none(store):
    writers, per_writer = 4, 25
    seen: list[int] = []
    done = threading.Event()

    def append(w: int) -> None:
        for n in range(per_writer):
            store.risk_events.append({"kind": "tick", "writer": w, "n": n})

    def poll() -> None:
        cursor = 0
        while True:
            finished = done.is_set()  # read before polling, so the last poll sees every commit
            for event in store.risk_events.since(cursor):
                seen.append(event["id"])
                cursor = event["id"]
            if finished:
                return

    poller = threading.Thread(target=poll)
    poller.start()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(append, range(writers)))
    done.set()
    poller.join(timeout=60)
    assert len(seen) == len(set(seen)) == writers * per_writer
    assert seen == sorted(seen)
