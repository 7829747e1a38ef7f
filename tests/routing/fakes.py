"""Fakes for routing tests: the risk fixtures' FakePool plus the broker behaviours routing must handle."""

from __future__ import annotations

import threading
from typing import Any

from multiaccount.domain import OrderIntent, OrderOutcome, OrderStatus
from tests.fixtures.risk import FakePool


class RoutingPool(FakePool):
    """FakePool that can refuse at send (10019 NO_MONEY, as MT5 does), fail the whole fan-out, count
    `order_check` calls, and hold calls on barriers: a barrier of n parties only opens when n calls
    are in flight at once, so a sequential caller breaks it (a concurrency test without timing)."""

    def __init__(self, *args: Any, send_rejects: set[str] | None = None, send_error: Exception | None = None,
                 check_barrier: threading.Barrier | None = None, read_barrier: threading.Barrier | None = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.send_rejects = send_rejects or set()
        self.send_error = send_error
        self.check_barrier = check_barrier
        self.read_barrier = read_barrier
        self.checks: list[str] = []

    def _meet(self, barrier: threading.Barrier | None) -> None:
        if barrier is not None:
            barrier.wait()

    def account_states(self):
        self._meet(self.read_barrier)
        return super().account_states()

    def positions(self):
        self._meet(self.read_barrier)
        return super().positions()

    def call(self, account_id: str, method: str, *args):
        if method == "check":
            self.checks.append(account_id)
            self._meet(self.check_barrier)
        return super().call(account_id, method, *args)

    def send_many(self, intents: list[OrderIntent]) -> list[OrderOutcome]:
        if self.send_error is not None:
            self.sent.extend(intents)
            raise self.send_error
        refused = [i for i in intents if i.account_id in self.send_rejects]
        out = {o.client_id: o for o in super().send_many([i for i in intents if i.account_id not in self.send_rejects])}
        for i in refused:
            out[i.client_id] = OrderOutcome(i.client_id, i.account_id, OrderStatus.REJECTED, 10019,
                                            "NO_MONEY: Not enough money")
        return [out[i.client_id] for i in intents]


class FailingReserveLedger:
    """Delegates to a real ledger but raises on the n-th reserve (a database failure mid-batch).

    `reserve_many` counts one reserve per intent: a batch holding the n-th reserves the intents before
    it, then raises, as one failing statement inside the caller's transaction would."""

    def __init__(self, inner: Any, fail_at: int):
        self.inner = inner
        self.fail_at = fail_at
        self.reserves = 0

    def reserve(self, intent: OrderIntent, at) -> bool:
        self.reserves += 1
        if self.reserves == self.fail_at:
            raise RuntimeError("database is locked")
        return self.inner.reserve(intent, at)

    def reserve_many(self, intents: list[OrderIntent], at) -> list[bool]:
        before = self.reserves
        self.reserves += len(intents)
        if before < self.fail_at <= self.reserves:
            self.reserves = self.fail_at
            self.inner.reserve_many(intents[:self.fail_at - before - 1], at)
            raise RuntimeError("database is locked")
        return self.inner.reserve_many(intents, at)

    def get(self, client_id: str) -> OrderOutcome | None:
        return self.inner.get(client_id)

    def complete(self, outcome: OrderOutcome, at) -> None:
        self.inner.complete(outcome, at)

    def complete_many(self, outcomes: list[OrderOutcome], at) -> None:
        self.inner.complete_many(outcomes, at)


class CountingStateRepository:
    """A trading-state repository that counts reads (routing must read the states once per signal)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.gets = 0
        self.alls = 0

    def get(self, scope):
        self.gets += 1
        return self.inner.get(scope)

    def all(self):
        self.alls += 1
        return self.inner.all()

    def set(self, *args: Any, **kwargs: Any):
        return self.inner.set(*args, **kwargs)

    def history(self, *args: Any, **kwargs: Any):
        return self.inner.history(*args, **kwargs)
