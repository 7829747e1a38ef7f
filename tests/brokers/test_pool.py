"""TerminalPool: fan-out, idempotency, disconnects mid-stream, worker crash and restart, bad requests."""

from __future__ import annotations

import math
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest

from multiaccount.brokers import retcodes as rc
from multiaccount.brokers.factory import build_pool
from multiaccount.brokers.pool import assign_accounts
from multiaccount.domain import OrderStatus, Side
from multiaccount.domain.ports import RecordingEventSink

CUT = {"name": "cut", "events": [{"kind": "disconnect", "accounts": ["EU_HF_001"],
                                  "start": "2026-12-01T09:05:00Z", "end": "2026-12-01T09:10:00Z"}]}


@pytest.fixture
def thread_pool(seed_firm, clock):
    with build_pool(seed_firm, clock=clock, mode="simulated", seed=7, pool_mode="thread", reconnect_attempts=2,
                    reconnect_backoff=0.001) as pool:
        yield pool


def test_assign_accounts_when_fewer_terminals_than_accounts_then_balanced_round_robin():
    groups = assign_accounts([f"A{i:02d}" for i in range(10)], 4)
    assert [len(g) for g in groups] == [3, 3, 2, 2] and sorted(sum(groups, [])) == [f"A{i:02d}" for i in range(10)]
    assert len(assign_accounts(["A", "B"], 10)) == 2


def test_start_when_simulated_then_every_account_connected_and_states_read(thread_pool, seed_firm):
    states = thread_pool.account_states()
    assert set(states) == set(seed_firm.accounts) and all(s.connected for s in states.values())
    assert thread_pool.connected_count() == (10, 10)
    assert states["EU_HF_001"].balance == float(seed_firm.accounts["EU_HF_001"].account_info.initial_balance)
    assert thread_pool.login_switches() == 0  # ten terminals, one account each


def test_send_many_when_replayed_then_duplicates_and_one_position_per_account(thread_pool, intent):
    intents = [intent(a, signal="fan-1", volume=0.1) for a in ("EU_HF_001", "EU_HF_002", "SW_001")]
    first = thread_pool.send_many(intents)
    assert [o.status for o in first] == [OrderStatus.FILLED] * 3
    assert [o.account_id for o in first] == ["EU_HF_001", "EU_HF_002", "SW_001"]
    again = thread_pool.send_many(intents)
    assert [o.status for o in again] == [OrderStatus.DUPLICATE] * 3
    positions = thread_pool.positions()
    assert [len(positions[a]) for a in ("EU_HF_001", "EU_HF_002", "SW_001")] == [1, 1, 1]


def test_send_many_when_requests_are_bad_then_each_rejected_with_its_retcode_and_pool_survives(thread_pool, intent):
    bad = [intent(volume=-1.0, signal="b1"), intent(symbol="ZZZZZZ", signal="b2"),
           intent(order_type=__import__("multiaccount.domain", fromlist=["OrderType"]).OrderType.LIMIT,
                  price=math.nan, signal="b3"),
           intent(account_id="NOPE_001", signal="b4"), intent(signal="good")]
    out = thread_pool.send_many(bad)
    assert [(o.status, o.retcode) for o in out[:4]] == [
        (OrderStatus.REJECTED, rc.INVALID_VOLUME), (OrderStatus.REJECTED, rc.INVALID),
        (OrderStatus.REJECTED, rc.INVALID_PRICE), (OrderStatus.REJECTED, rc.INVALID)]
    assert out[4].status is OrderStatus.FILLED
    with pytest.raises(AttributeError):
        thread_pool.call("EU_HF_001", "no_such_method")
    assert thread_pool.call("EU_HF_001", "is_connected") is True


def test_stream_when_terminal_disconnects_then_reported_not_raised_and_resumes_after(seed_firm, clock, intent,
                                                                                    write_scenario):
    events = RecordingEventSink()
    with build_pool(seed_firm, clock=clock, seed=7, scenario=write_scenario(CUT), pool_mode="thread",
                    reconnect_attempts=2, reconnect_backoff=0.001, events=events) as pool:
        outcomes = []
        for minute in range(0, 14, 2):
            clock.set(datetime(2026, 12, 1, 9, minute, tzinfo=UTC))
            states = pool.account_states()
            out = pool.send_many([intent("EU_HF_001", signal=f"s{minute}", volume=0.1),
                                  intent("EU_HF_002", signal=f"s{minute}", volume=0.1)])
            outcomes.append((minute, states["EU_HF_001"].connected, out[0], out[1]))
        for minute, connected, eu1, eu2 in outcomes:
            down = 5 <= minute < 10
            assert connected is not down
            assert eu2.status is OrderStatus.FILLED
            if down:
                assert (eu1.status, eu1.retcode) == (OrderStatus.REJECTED, rc.CONNECTION)  # not sent: safe to retry
            else:
                assert eu1.status is OrderStatus.FILLED
        assert pool.status()["EU_HF_001"].connected
        assert events.of_kind("connection_failure")
        # the orders refused while down are resent after reconnection: exactly once each
        retry = pool.send_many([intent("EU_HF_001", signal=f"s{m}", volume=0.1) for m in (6, 8)])
        assert [o.status for o in retry] == [OrderStatus.FILLED, OrderStatus.FILLED]
        assert len(pool.positions()["EU_HF_001"]) == 7


def test_status_when_disconnected_then_shows_error_and_since(seed_firm, clock, write_scenario):
    with build_pool(seed_firm, clock=clock, seed=7, scenario=write_scenario(CUT), pool_mode="thread",
                    reconnect_attempts=1, reconnect_backoff=0.001) as pool:
        clock.set(datetime(2026, 12, 1, 9, 6, tzinfo=UTC))
        pool.account_states()
        st = pool.status()["EU_HF_001"]
        assert not st.connected and st.since == clock.now() and "IPC" in st.last_error
        assert pool.connected_count() == (9, 10)


def test_close_positions_when_account_has_two_then_both_closed_once(thread_pool, intent):
    thread_pool.send_many([intent(signal="c1", volume=0.2), intent(signal="c2", volume=0.3, side=Side.SELL)])
    out = thread_pool.close_positions("EU_HF_001", client_prefix="flat-test")
    assert sorted(o.volume for o in out) == [0.2, 0.3] and all(o.status is OrderStatus.FILLED for o in out)
    assert thread_pool.positions()["EU_HF_001"] == []
    assert thread_pool.close_positions("EU_HF_001", client_prefix="flat-test") == []


@pytest.mark.slow
@pytest.mark.xdist_group("process_pool")
def test_process_pool_when_worker_killed_then_restarted_reported_and_serving(seed_firm, clock, intent):
    events = RecordingEventSink()
    accounts = ["EU_HF_001", "EU_HF_002", "SW_001", "SW_002"]
    with build_pool(seed_firm, clock=clock, seed=7, pool_mode="process", size=2, accounts=accounts,
                    reconnect_attempts=2, reconnect_backoff=0.001, events=events) as pool:
        assert pool.send_many([intent("EU_HF_001", signal="pre-crash", volume=0.1)])[0].status is OrderStatus.FILLED
        index = pool.worker_of("EU_HF_001")
        pid = pool.worker_pids()[index]
        os.kill(pid, signal.SIGKILL)
        assert pool.wait_restarted(index, 1)
        st = pool.status()["EU_HF_001"]
        assert st.restarts == 1 and "crashed" in st.last_error
        assert events.of_kind("terminal_restarted")[0].data["worker"] == index
        assert pool.worker_pids()[index] != pid
        again = pool.send_many([intent("EU_HF_001", signal="pre-crash", volume=0.1),
                                intent("EU_HF_001", signal="post-crash", volume=0.1)])
        assert [o.status for o in again] == [OrderStatus.DUPLICATE, OrderStatus.FILLED]
        # the parent's ManualClock drives terminals in other processes: a Saturday is closed there too
        clock.set(datetime(2026, 12, 5, 12, tzinfo=UTC))
        assert pool.send_many([intent("SW_001", signal="weekend", volume=0.1)])[0].retcode == rc.MARKET_CLOSED
        clock.set(datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(hours=1))
        states = pool.account_states()
        assert all(s.connected for s in states.values())
        assert pool.login_switches() >= 0
