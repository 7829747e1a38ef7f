"""The fleet view the router sizes against: answers from the monitor's last read, re-reads exactly the
accounts written since, never loses a write that raced a read, and expires with the clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from multiaccount.domain import (
    AccountState,
    ManualClock,
    OrderIntent,
    OrderOutcome,
    OrderStatus,
    Position,
    Side,
    TradingSignal,
    client_order_id,
)
from multiaccount.realtime.fleetview import FleetView, read_fleet

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACCOUNTS = ("A1", "A2", "A3")


class TerminalsFake:
    """Terminals holding states and positions; `send_many` fills at once; reads are recorded.

    `hold_reads` makes the next read wait (after taking its picture of the terminals) until
    `release_reads` is set, so a test can land a write in the middle of a read."""

    def __init__(self) -> None:
        self.states = {a: AccountState(a, 10_000.0, 10_000.0, 0.0, 10_000.0, None, at=T0) for a in ACCOUNTS}
        self.pos: dict[str, list[Position]] = {a: [] for a in ACCOUNTS}
        self.reads: list[tuple[str, ...] | None] = []
        self.calls: list[tuple[str, str]] = []
        self.hold_reads = threading.Event()
        self.read_started = threading.Event()
        self.release_reads = threading.Event()
        self.fail_partial = False
        self._tickets = count(1)

    def read(self, accounts=None):
        self.reads.append(None if accounts is None else tuple(accounts))
        if accounts is not None and self.fail_partial:
            raise ConnectionError("terminal went away")
        ids = ACCOUNTS if accounts is None else accounts
        picture = ({a: self.states[a] for a in ids}, {a: list(self.pos[a]) for a in ids})
        if self.hold_reads.is_set():
            self.read_started.set()
            self.release_reads.wait(5)
        return picture

    def send_many(self, intents):
        out = []
        for i in intents:
            ticket = next(self._tickets)
            self.pos[i.account_id].append(_position(i.account_id, ticket, sl=i.sl))
            out.append(OrderOutcome(i.client_id, i.account_id, OrderStatus.FILLED, 10009, "done", i.volume, 1.1,
                                    ticket))
        return out

    def close_positions(self, account_id, tickets=None):
        self.pos[account_id] = [p for p in self.pos[account_id] if tickets is not None and p.ticket not in tickets]
        return []

    def call(self, account_id, method, *args, **kwargs):
        self.calls.append((account_id, method))

    def account_states(self):
        return dict(self.states)

    def positions(self, account_id=None):
        return {a: list(ps) for a, ps in self.pos.items()}


def _position(account: str, ticket: int, sl: float | None = 1.09) -> Position:
    return Position(account, ticket, "EURUSD", Side.BUY, 0.1, 1.1, sl, None, 1.1, 0.0, opened_at=T0)


def _intent(account: str, tag: str = "s") -> OrderIntent:
    return OrderIntent(client_order_id(tag, account), account, "EURUSD", Side.BUY, 0.1, sl=1.09)


@pytest.fixture
def terminals() -> TerminalsFake:
    return TerminalsFake()


@pytest.fixture
def view_clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def view(terminals, view_clock) -> FleetView:
    return FleetView(terminals, view_clock, max_age=timedelta(seconds=1.5))


def _tickets(positions) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for p in positions:
        out.setdefault(p.account_id, []).append(p.ticket)
    return out


def test_current_when_never_read_then_reads_the_whole_fleet_once_and_answers_from_memory_after(view, terminals):
    states, _ = view.current()
    assert {s.account_id for s in states} == set(ACCOUNTS)
    view.current()
    view.current()
    assert terminals.reads == [None]  # one full read, then memory
    assert view.stats["hits"] == 2


def test_current_when_orders_sent_then_rereads_only_those_accounts_and_shows_the_fills(view, terminals):
    view.refresh()
    view.send_many([_intent("A2")])
    _, positions = view.current()
    assert terminals.reads == [None, ("A2",)]
    assert list(_tickets(positions)) == ["A2"]
    view.current()
    assert terminals.reads == [None, ("A2",)]  # clean again: no further read


def test_current_when_a_write_lands_during_the_monitor_read_then_the_account_stays_dirty(view, terminals):
    """The read took its picture before the fill; clearing A1 on its return would hide the fill."""
    view.refresh()
    terminals.hold_reads.set()
    reader = threading.Thread(target=view.refresh)
    reader.start()
    assert terminals.read_started.wait(5)
    view.send_many([_intent("A1")])  # lands after the picture was taken
    terminals.hold_reads.clear()
    terminals.release_reads.set()
    reader.join(5)
    _, positions = view.current()
    assert terminals.reads[-1] == ("A1",)
    assert list(_tickets(positions)) == ["A1"]


def test_current_when_older_than_max_age_on_the_clock_then_reads_the_whole_fleet(view, terminals, view_clock):
    view.refresh()
    view_clock.advance(timedelta(seconds=1))
    view.current()
    assert terminals.reads == [None]
    view_clock.advance(timedelta(seconds=1))
    view.current()
    assert terminals.reads == [None, None]


def test_call_when_write_method_then_marks_dirty_and_read_methods_do_not(view, terminals):
    view.refresh()
    view.call("A3", "symbol_info", "EURUSD")
    view.call("A1", "account_state")
    view.current()
    assert terminals.reads == [None]
    view.call("A3", "modify", 7, 1.08, None)
    view.close_positions("A1")
    view.current()
    assert terminals.reads[-1] == ("A1", "A3")


def test_current_when_partial_read_fails_then_falls_back_to_a_full_read(view, terminals):
    view.refresh()
    view.send_many([_intent("A3")])
    terminals.fail_partial = True
    _, positions = view.current()
    assert terminals.reads[-2:] == [("A3",), None]
    assert list(_tickets(positions)) == ["A3"]


def test_read_fleet_when_pool_has_no_read_then_uses_states_and_positions(terminals):
    class Plain:
        def account_states(self):
            return list(terminals.states.values())

        def positions(self):
            return [_position("A1", 9)]

    states, positions = read_fleet(Plain(), ["A1", "A2"])
    assert set(states) == {"A1", "A2"}
    assert [p.ticket for p in positions["A1"]] == [9] and positions["A2"] == []


# ---------------------------------------------------------------- through the real pool and router
def test_terminal_pool_read_when_subset_then_only_those_accounts_with_states_and_positions(seed_firm, clock):
    from multiaccount.brokers.factory import build_pool

    with build_pool(seed_firm, clock=clock, mode="simulated", seed=7, pool_mode="thread") as pool:
        sent = pool.send_many([OrderIntent(client_order_id("sub", "EU_HF_001"), "EU_HF_001", "EURUSD", Side.BUY,
                                           0.1)])
        assert sent[0].status is OrderStatus.FILLED, sent
        states, positions = pool.read(["EU_HF_001", "SW_001"])
        assert set(states) == {"EU_HF_001", "SW_001"} == set(positions)
        assert states["EU_HF_001"].connected and len(positions["EU_HF_001"]) == 1
        assert positions["SW_001"] == []


@pytest.fixture
def pool_runtime(seed_firm, clock):
    """The realtime runtime over the simulated terminal pool (thread workers), as `multiaccount serve`
    builds it, with a SQLite store in the test's home."""
    from multiaccount.bootstrap import bootstrap
    from multiaccount.brokers.factory import build_broker, build_pool
    from multiaccount.domain.ports import RecordingEventSink
    from multiaccount.realtime.pool import TerminalPoolAdapter
    from multiaccount.realtime.runtime import build_runtime
    from multiaccount.store import Store

    pool = TerminalPoolAdapter(build_pool(seed_firm, clock=clock, mode="simulated", seed=7,
                                          pool_mode="thread").start())
    store = Store.open()
    sink = RecordingEventSink()
    app = bootstrap(seed_firm, clock=clock, store=store, events=sink, fleet=object())
    rt = build_runtime(app, pool=pool, store=store, alerts=sink, publishers=[], flatten_backoff_seconds=0.0)
    outside = build_broker(seed_firm, "SW_001", clock=clock, mode="simulated", seed=7)
    outside.connect()
    yield rt, outside
    rt.pool.close()


def test_signal_when_a_previous_signal_filled_since_the_monitor_read_then_its_positions_count(pool_runtime):
    """Two signals in one second: the second is sized against the fills of the first (re-read), and an
    order placed behind the service's back shows only once the view is older than `max_age`."""
    rt, outside_broker = pool_runtime
    rt.monitor.tick()
    bid = rt.pool.call("EU_HF_001", "symbol_info", "EURUSD").bid
    first = rt.submit_signal(TradingSignal(id="fv-1", symbol="EURUSD", side="buy", stop=round(bid - 0.0040, 5),
                                           strategy="ict_patterns", created=rt.clock.now()))
    filled = {r["account_id"] for r in first["results"] if r["status"] == "filled"}
    assert filled, first
    _, positions = rt.pool.current()
    assert filled <= set(_tickets(positions))
    assert rt.pool.stats["partial_reads"] == 1 and rt.pool.stats["full_reads"] == 1

    outside = outside_broker.send(OrderIntent(client_order_id("manual", "SW_001"), "SW_001", "EURUSD", Side.BUY,
                                              0.1))  # a trade made on the terminal itself
    assert outside.status is OrderStatus.FILLED
    _, positions = rt.pool.current()
    assert outside.ticket not in _tickets(positions).get("SW_001", [])  # within max_age: the monitor's window
    rt.clock.advance(rt.pool.max_age + timedelta(seconds=0.5))
    _, positions = rt.pool.current()
    assert outside.ticket in _tickets(positions)["SW_001"]
