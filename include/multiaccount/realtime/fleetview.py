"""The fleet view: the latest read of every account's state and positions, kept by the 1 Hz monitor, so
a signal is sized against it instead of reading 50 terminals on its critical path.

Why it stays exact for what this process does: every write that goes through the view (orders,
closes, stop changes, transfers) marks its account dirty when it is submitted and again when it
returns, and `current()` re-reads the dirty accounts (only those) before answering. A mark made while
a read was in flight survives that read (generations), so a fill can never be lost between a read and
its answer. What the view can miss is a change made outside this process (a manual trade on a
terminal) for at most `max_age` of the clock: the window in which the monitor would see it anyway.
Older than that, `current()` reads the whole fleet again.

Reads that must be live (the monitor's `refresh()`, `account_states()`, `positions()`) always go to
the terminals; only `current()` answers from memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from multiaccount.domain import AccountState, Clock, OrderIntent, OrderOutcome, Position

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE = timedelta(seconds=1.5)  # one missed 1 Hz tick is tolerated, two are not
# Broker-port methods that change nothing on the account; any other call through the view marks it dirty.
READ_METHODS = frozenset({"account_state", "positions", "pending_orders", "symbol_info", "symbol_info_tick",
                          "deals", "is_connected", "check", "connect", "terminal_info"})

FleetRead = tuple[dict[str, AccountState], dict[str, list[Position]]]


def read_fleet(pool: Any, accounts: Sequence[str] | None = None) -> FleetRead:
    """States and positions of `accounts` (all when None) in one concurrent read.

    Pools with `read(accounts)` (the terminal pool: states and positions requests leave together)
    use it; any other `PoolPort` is read with `account_states()` and `positions()`. Accounts whose
    positions could not be read are absent from the positions map."""
    reader = getattr(pool, "read", None)
    if callable(reader):
        return reader(accounts)
    return read_separately(pool, accounts)


def read_separately(pool: Any, accounts: Sequence[str] | None = None) -> FleetRead:
    """`read_fleet` for a pool without a batched read: `account_states()`, then `positions()`."""
    raw_states = pool.account_states()
    states = raw_states if isinstance(raw_states, Mapping) else {s.account_id: s for s in raw_states}
    raw_pos = pool.positions()
    if isinstance(raw_pos, Mapping):
        positions = {a: list(ps) for a, ps in raw_pos.items()}
    else:
        positions = {}
        for p in raw_pos:
            positions.setdefault(p.account_id, []).append(p)
        positions.update({a: [] for a, s in states.items() if s.connected and a not in positions})
    if accounts is not None:
        wanted = set(accounts)
        states = {a: s for a, s in states.items() if a in wanted}
        positions = {a: ps for a, ps in positions.items() if a in wanted}
    return dict(states), positions


class FleetView:
    """A `PoolPort` over another one that remembers the last fleet read and tracks writes per account."""

    def __init__(self, pool: Any, clock: Clock, max_age: timedelta = DEFAULT_MAX_AGE):
        self.inner = pool
        self.clock = clock
        self.max_age = max_age
        self._lock = threading.Lock()
        self._states: dict[str, AccountState] = {}
        self._positions: dict[str, list[Position]] = {}
        self._read_at: datetime | None = None
        self._generation = 0
        self._dirty: dict[str, int] = {}  # account -> generation of its latest write mark
        self.stats = {"hits": 0, "partial_reads": 0, "full_reads": 0}

    # ---------------------------------------------------------------- writes mark accounts dirty
    def _mark(self, accounts: Iterable[str]) -> None:
        with self._lock:
            self._generation += 1
            for a in accounts:
                self._dirty[a] = self._generation

    def send_many(self, intents: Sequence[OrderIntent]) -> list[OrderOutcome]:
        touched = {i.account_id for i in intents}
        self._mark(touched)
        try:
            return list(self.inner.send_many(intents))
        finally:
            self._mark(touched)

    def close_positions(self, account_id: str, tickets: Sequence[int] | None = None) -> list[OrderOutcome]:
        self._mark([account_id])
        try:
            return list(self.inner.close_positions(account_id, tickets))
        finally:
            self._mark([account_id])

    def call(self, account_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if method in READ_METHODS:
            return self.inner.call(account_id, method, *args, **kwargs)
        self._mark([account_id])
        try:
            return self.inner.call(account_id, method, *args, **kwargs)
        finally:
            self._mark([account_id])

    # ---------------------------------------------------------------- live reads
    def account_states(self) -> Any:
        return self.inner.account_states()

    def positions(self, account_id: str | None = None) -> Any:
        return self.inner.positions() if account_id is None else self.inner.positions(account_id)

    def read(self, accounts: Sequence[str] | None = None) -> FleetRead:
        return read_fleet(self.inner, accounts)

    def refresh(self) -> tuple[list[AccountState], list[Position]]:
        """Read the whole fleet now (the monitor, every tick) and keep it as the view."""
        with self._lock:
            generation, at = self._generation, self.clock.now()
        states, positions = read_fleet(self.inner)
        with self._lock:
            self._states, self._positions, self._read_at = dict(states), dict(positions), at
            self._dirty = {a: g for a, g in self._dirty.items() if g > generation}
            self.stats["full_reads"] += 1
        return list(states.values()), [p for ps in positions.values() for p in ps]

    # ---------------------------------------------------------------- the router's read
    def current(self) -> tuple[list[AccountState], list[Position]]:
        """The view, with accounts written since re-read; the whole fleet when older than `max_age`."""
        with self._lock:
            age = None if self._read_at is None else self.clock.now() - self._read_at
            fresh = age is not None and timedelta(0) <= age <= self.max_age
            dirty, generation = sorted(self._dirty), self._generation
            if fresh and not dirty:
                self.stats["hits"] += 1
                return list(self._states.values()), [p for ps in self._positions.values() for p in ps]
        if not fresh:
            return self.refresh()
        try:
            states, positions = read_fleet(self.inner, dirty)
        except Exception as exc:  # noqa: BLE001 - a partial read failed: read everything the usual way
            log.warning("re-reading %s accounts failed (%s); reading the whole fleet", len(dirty), exc)
            return self.refresh()
        with self._lock:
            self._states.update(states)
            for a in dirty:
                if a in positions:
                    self._positions[a] = positions[a]
                else:
                    self._positions.pop(a, None)  # unreachable now: like a full read, no positions
            self._dirty = {a: g for a, g in self._dirty.items() if g > generation or a not in dirty}
            self.stats["partial_reads"] += 1
            return list(self._states.values()), [p for ps in self._positions.values() for p in ps]

    # ---------------------------------------------------------------- everything else passes through
    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def close(self) -> None:
        closer = getattr(self.inner, "close", None)
        if callable(closer):
            closer()
