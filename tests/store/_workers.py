"""Process entry points for the concurrency tests (importable, so `spawn` children can run them)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from multiaccount.domain import OrderIntent, Scope, Side, TradingState
from multiaccount.domain.ports import StaleStateError


def _store(url: str):  # noqa: ANN202
    from multiaccount.store import Store

    return Store.open(url, migrate=False)


def reserve_orders(url: str, client_ids: list[str], barrier, results) -> None:  # noqa: ANN001
    """Reserve every id (a retry storm): report how many reservations this process won."""
    store = _store(url)
    barrier.wait()
    won = 0
    for cid in client_ids:
        intent = OrderIntent(client_id=cid, account_id="EU_HF_001", symbol="EURUSD", side=Side.BUY, volume=0.1)
        won += store.orders.reserve(intent, datetime.now(UTC))
    results.put(won)


def reserve_order_batches(url: str, batches: list[list[str]], barrier, results) -> None:  # noqa: ANN001
    """Reserve each batch with one `reserve_many` (a signal's fan-out), every batch started together with
    the other workers' (the barrier is cyclic); report the ids this process won."""
    store = _store(url)
    won: list[str] = []
    for batch in batches:
        barrier.wait()
        intents = [OrderIntent(cid, "EU_HF_001", "EURUSD", Side.BUY, 0.1) for cid in batch]
        answers = store.orders.reserve_many(intents, datetime.now(UTC))
        won.extend(cid for cid, ok in zip(batch, answers, strict=True) if ok)
    results.put(won)


def bump_state(url: str, times: int, barrier, results) -> None:  # noqa: ANN001
    """Read-modify-write the firm state `times` times with optimistic retries; report retries seen."""
    store = _store(url)
    barrier.wait()
    stale = 0
    for _ in range(times):
        while True:
            current = store.trading_states.get(Scope.firm())
            nxt = TradingState.REDUCING if current.state is TradingState.ACTIVE else TradingState.ACTIVE
            try:
                store.trading_states.set(Scope.firm(), nxt, f"bump from v{current.version}", "worker",
                                         expected_version=current.version)
                break
            except StaleStateError:
                stale += 1
    results.put(stale)


def write_then_hang(url: str, committed: int, in_flight, ) -> None:  # noqa: ANN001
    """Commit `committed` audit rows, then open a transaction that writes and never ends."""
    store = _store(url)
    for i in range(committed):
        store.audit.record("writer", "committed", detail={"i": i})
    with store.session():
        store.audit.record("writer", "uncommitted")
        store.trading_states.set(Scope.firm(), TradingState.HALTED, "never committed", "writer")
        in_flight.set()
        time.sleep(600)


def open_store(url: str, barrier, results) -> None:  # noqa: ANN001
    """Open (and so create/migrate) the store at the same moment as other processes."""
    from multiaccount.store import Store, current_revision

    barrier.wait()
    store = Store.open(url)
    store.audit.record("starter", "opened")
    results.put(current_revision(url))
