"""The simulated accounts' journal: other processes replay it to the same book; cut lines, compaction,
the former file format; the indexed client-id look-up; concurrent senders in two real processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import multiaccount.brokers.simulated as mt5
from multiaccount.brokers import retcodes as rc
from multiaccount.brokers.mt5 import MT5Broker
from multiaccount.brokers.simulated import SimulatedTerminal, StateStore, state
from multiaccount.domain import OrderStatus, OrderType, Side

LOGIN = 50110001  # EU_HF_001
ACCOUNT = "EU_HF_001"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def market(symbol="EURUSD", type_=mt5.ORDER_TYPE_BUY, volume=1.0, **kw):
    req = {"action": mt5.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": type_, "deviation": 10,
           "magic": 7, "comment": kw.pop("comment", "t"), "type_filling": mt5.ORDER_FILLING_FOK}
    req.update(kw)
    return req


def _terminal(seed_firm, clock, root: Path) -> SimulatedTerminal:
    """A terminal with its own store: its own cache and descriptors, like another process."""
    term = SimulatedTerminal(seed_firm, seed=7, clock=clock, store=StateStore(root))
    assert term.initialize(login=LOGIN)
    return term


def _view(term: SimulatedTerminal) -> tuple:
    return (term.account_info(), term.positions_get(), term.orders_get(), term.history_deals_get(0, 2**40))


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "sim"


def test_journal_when_two_stores_change_one_account_in_turn_then_each_replays_the_same_book(seed_firm, clock, root):
    a, b = _terminal(seed_firm, clock, root), _terminal(seed_firm, clock, root)
    eur = a.order_send(market(comment="o1"))
    gbp = b.order_send(market("GBPUSD", mt5.ORDER_TYPE_SELL, 0.5, comment="o2"))
    jpy = a.order_send(market("USDJPY", volume=0.3, comment="o3"))
    bid = a.symbol_info_tick("EURUSD").bid
    pending = b.order_send({"action": mt5.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.2,
                            "type": mt5.ORDER_TYPE_SELL_STOP, "price": round(bid * 0.97, 5), "comment": "p1",
                            "type_filling": mt5.ORDER_FILLING_RETURN})
    steps = [
        lambda: a.order_send({"action": mt5.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": eur.order,
                              "sl": round(bid - 0.06, 5), "tp": round(bid + 0.06, 5)}),
        lambda: b.order_send({"action": mt5.TRADE_ACTION_MODIFY, "order": pending.order,
                              "price": round(bid * 0.96, 5), "sl": 0.0, "tp": 0.0}),
        lambda: a.order_send(market("GBPUSD", mt5.ORDER_TYPE_BUY, 0.2, position=gbp.order, comment="c2")),
        lambda: b.order_send(market("USDJPY", mt5.ORDER_TYPE_SELL, 0.3, position=jpy.order, comment="c3")),
        lambda: clock.set(datetime(2026, 12, 2, 22, 30, tzinfo=UTC)),  # two rollovers: swaps, booked by a reader
        lambda: a.balance_operation(250.0, "dep-1"),
        lambda: b.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": pending.order}),
        lambda: a.order_send(market(volume=0.4, comment="o4")),
    ]
    for i, step in enumerate(steps):
        step()
        first = _view(b) if i % 2 else _view(a)  # the other terminal evaluates second
        assert (_view(a) if i % 2 else _view(b)) == first, f"step {i}"
    fresh = _terminal(seed_firm, clock, root)
    assert _view(fresh) == _view(a)
    assert StateStore(root).read_only(LOGIN).to_json() == a._store.read_only(LOGIN).to_json()
    assert [p.comment for p in fresh.positions_get()] == ["o1", "o2", "o4"]  # the writer's order


def test_journal_when_order_committed_then_one_short_line_without_the_other_positions(seed_firm, clock, root):
    term = _terminal(seed_firm, clock, root)
    for i in range(5):
        assert term.order_send(market(volume=0.1, comment=f"n{i}")).retcode == rc.DONE
    lines = (root / f"account_{LOGIN}.jsonl").read_bytes().splitlines()
    last = json.loads(lines[-1])
    assert [p["comment"] for p in last["p"]] == ["n4"] and len(last["d"]) == 1 and "h" not in last
    assert len(lines[-1]) < len(lines[0]) + 1500


def test_journal_when_last_line_is_cut_short_then_ignored_and_overwritten(seed_firm, clock, root):
    term = _terminal(seed_firm, clock, root)
    term.order_send(market(comment="kept"))
    path = root / f"account_{LOGIN}.jsonl"
    with path.open("ab") as fh:
        fh.write(b'{"s":{"balance":1.0},"p":[')  # a writer killed mid-line
    other = _terminal(seed_firm, clock, root)
    assert [p.comment for p in other.positions_get()] == ["kept"]
    assert other.account_info().balance == term.account_info().balance != 1.0
    assert other.order_send(market(comment="after")).retcode == rc.DONE
    assert all(line.endswith(b"}") for line in path.read_bytes().splitlines())
    assert [p.comment for p in _terminal(seed_firm, clock, root).positions_get()] == ["kept", "after"]


def test_journal_when_longer_than_the_limit_then_compacted_and_other_stores_reload(seed_firm, clock, root,
                                                                                   monkeypatch):
    monkeypatch.setattr(state, "COMPACT_RECORDS", 4)
    a, b = _terminal(seed_firm, clock, root), _terminal(seed_firm, clock, root)
    assert b.positions_get() == ()
    for i in range(9):
        assert a.order_send(market(volume=0.1, comment=f"k{i}")).retcode == rc.DONE
    lines = (root / f"account_{LOGIN}.jsonl").read_bytes().splitlines()
    assert len(lines) <= 4 and "h" in json.loads(lines[0])
    assert _view(b) == _view(a) and len(b.positions_get()) == 9


def test_state_when_account_is_in_the_former_whole_file_format_then_migrated_to_the_journal(seed_firm, clock, root):
    old = _terminal(seed_firm, clock, root)
    old.order_send(market(comment="legacy"))
    book = old._store.read_only(LOGIN)
    (root / f"account_{LOGIN}.json").write_text(book.to_json())
    (root / f"account_{LOGIN}.jsonl").unlink()
    term = _terminal(seed_firm, clock, root)
    assert [p.comment for p in term.positions_get()] == ["legacy"]
    assert term.account_info().balance == book.balance
    assert (root / f"account_{LOGIN}.jsonl").exists() and not (root / f"account_{LOGIN}.json").exists()


class _WithoutLookup:
    """The terminal as a real MetaTrader5 module looks: no `client_order_lookup`."""

    def __init__(self, terminal: SimulatedTerminal):
        self._terminal = terminal

    def __getattr__(self, name: str):
        if name == "client_order_lookup":
            raise AttributeError(name)
        return getattr(self._terminal, name)


def test_find_when_terminal_has_the_index_then_same_answers_as_scanning(make_broker, sim_terminal, intent, clock):
    indexed = make_broker(ACCOUNT, sim_terminal)
    scanning = make_broker(ACCOUNT, _WithoutLookup(sim_terminal))
    filled = indexed.send(intent(signal="f1", volume=0.1))
    placed = indexed.send(intent(signal="p1", volume=0.1, order_type=OrderType.LIMIT,
                                 price=round(filled.price * 0.98, 5)))
    closed = indexed.send(intent(signal="c1", volume=0.1, side=Side.SELL))
    assert indexed.close(closed.ticket, client_id="close-c1").status is OrderStatus.FILLED
    clock.advance(timedelta(minutes=5))
    cases = [(filled.client_id, 0), (placed.client_id, 0), (closed.client_id, 0), ("close-c1", 1),
             ("close-c1", 0), ("never-sent", 0), ("never-sent", 1)]
    answers = [(indexed._find(cid, entry), scanning._find(cid, entry)) for cid, entry in cases]
    assert all(x == y for x, y in answers), answers
    assert [a is not None for a, _ in answers] == [True, True, True, True, False, False, False]
    assert answers[1][0].status is OrderStatus.PLACED and answers[3][0].ticket == closed.ticket


_SENDER = r"""
import json, sys, time
from datetime import UTC, datetime
from pathlib import Path
from multiaccount.brokers.factory import build_broker
from multiaccount.config import load_firm
from multiaccount.domain import ManualClock, OrderIntent, Side

config, account, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
ids = json.loads(sys.stdin.readline())
broker = build_broker(load_firm(config), account, clock=ManualClock(datetime(2026, 12, 1, 9, tzinfo=UTC)),
                      mode="simulated", seed=7)
broker.connect()
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
out = {}
for cid in ids:
    o = broker.send(OrderIntent(cid, account, "EURUSD", Side.BUY, 0.01, deviation=10))
    out[cid] = [o.status.value, o.ticket]
print(json.dumps(out), flush=True)
"""


@pytest.mark.slow
def test_send_when_two_processes_send_to_one_account_at_once_then_nothing_lost_and_no_id_twice(tmp_path, seed_firm,
                                                                                               clock):
    # both walk the same ids in the same order, and every order_send takes 5 ms between look-up and
    # fill: without the per-login lock nearly every shared id would be sent by both
    (state.sim_dir() / state.SCENARIO_FILE).write_text(json.dumps(
        {"name": "slow", "events": [{"kind": "latency", "ms": 5}]}))
    shared = [f"both-{i:02d}" for i in range(30)]
    plans = [shared + [f"a-{i}" for i in range(10)], shared + [f"b-{i}" for i in range(10)]]
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _SENDER, str(PROJECT_ROOT / "config"), ACCOUNT, str(go)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in plans]
    for proc, ids in zip(procs, plans):
        proc.stdin.write(json.dumps(ids) + "\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    go.touch()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))

    for cid in shared:  # every shared id executed by exactly one process, the other saw it
        assert sorted(r[cid][0] for r in results) == ["duplicate", "filled"], cid
        assert results[0][cid][1] == results[1][cid][1]
    distinct = set(plans[0]) | set(plans[1])
    assert all(r[c][0] == "filled" for r, plan in zip(results, plans) for c in plan if not c.startswith("both"))
    term = SimulatedTerminal(seed_firm, seed=7, clock=clock)
    assert term.initialize(login=LOGIN)
    positions = term.positions_get()
    assert sorted(p.comment for p in positions) == sorted(distinct)  # no fill lost, none twice
    deals = term.history_deals_get(0, 2**40)
    assert sorted(d.comment for d in deals) == sorted(distinct)
    assert len({d.ticket for d in deals}) == len(deals) and len({p.ticket for p in positions}) == len(positions)
    initial = float(seed_firm.accounts[ACCOUNT].account_info.initial_balance)
    assert term.account_info().balance == pytest.approx(initial + sum(d.commission for d in deals), abs=0.001)
