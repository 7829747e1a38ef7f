"""Execution: simulated balance operations, live instructions awaiting a human, idempotent reruns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from multiaccount.brokers.port import Deal, DealEntry, TransferNotSupported
from multiaccount.domain import OrderOutcome, OrderStatus
from multiaccount.rebalancing import AccountCapital, RiskReduction, plan_emergency, plan_transfers
from multiaccount.rebalancing.executor import (
    ALREADY_EXECUTED,
    AWAITING_CONFIRMATION,
    EXECUTED_NOW,
    HELD,
    confirm_transfer,
    execute_plan,
)
from multiaccount.rebalancing.ledger import (
    EXECUTED,
    InMemoryTransferLedger,
    StoreTransferLedger,
    TransferConfirmationError,
)

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


class FakeTerminal:
    """A hand-written simulated terminal: balance operations append balance deals to its history."""

    def __init__(self, account_id: str, balance: float, crash_on_call: int | None = None, real: bool = False):
        self.account_id = account_id
        self.balance = balance
        self.history: list[Deal] = []
        self.calls = 0
        self.crash_on_call = crash_on_call
        self.real = real

    def deals(self, since: datetime) -> list[Deal]:
        return [d for d in self.history if d.time >= since]

    def balance_operation(self, amount: D, comment: str) -> OrderOutcome:
        if self.real:
            raise TransferNotSupported("real MT5 terminals cannot move money")
        self.calls += 1
        if self.crash_on_call == self.calls:
            raise ConnectionError("terminal died")
        if self.balance + float(amount) < 0:
            return OrderOutcome(comment, self.account_id, OrderStatus.REJECTED, 10019, "NO_MONEY")
        self.balance += float(amount)
        self.history.append(Deal(self.account_id, len(self.history) + 1, 0, NOW, "", None, DealEntry.IN, 0.0, 0.0,
                                 0.0, 0.0, float(amount), comment, 0, 0, kind="balance"))
        return OrderOutcome(comment, self.account_id, OrderStatus.FILLED)


def _setup(live_b: bool = False):
    cap = {"A": AccountCapital("A", "g", D(150_000), D(150_000), D(0)),
           "B": AccountCapital("B", "g", D(50_000), D(50_000), D(0), live=live_b),
           "C": AccountCapital("C", "g", D(100_000), D(100_000), D(0))}
    plan = plan_transfers(cap, {"A": D(100_000), "B": D(100_000), "C": D(100_000)}, plan_key="rebalance:2026-12-01",
                          created_at=NOW, min_transfer=D(1000), margin_buffer=0.5, threshold=0.05)
    brokers = {a: FakeTerminal(a, float(c.balance), real=c.live) for a, c in cap.items()}
    return plan, brokers


def test_execute_when_simulated_then_balances_move_once_even_if_rerun():
    plan, brokers = _setup()
    ledger = InMemoryTransferLedger()
    first = execute_plan(plan, ledger, brokers, simulated=lambda a: True, now=NOW)
    second = execute_plan(plan, ledger, brokers, simulated=lambda a: True, now=NOW + timedelta(minutes=5))
    assert first.count(EXECUTED_NOW) == 1 and second.count(ALREADY_EXECUTED) == 1
    assert brokers["A"].balance == 100_000 and brokers["B"].balance == 100_000
    assert len(brokers["A"].history) == 1 and len(brokers["B"].history) == 1
    assert brokers["A"].history[0].comment == plan.transfers[0].transfer_id
    assert ledger.get(plan.transfers[0].transfer_id).status == EXECUTED


def test_execute_when_crash_between_legs_then_rerun_completes_only_missing_leg():
    plan, brokers = _setup()
    brokers["B"].crash_on_call = 1  # the deposit leg dies after the withdrawal went through
    ledger = InMemoryTransferLedger()
    with pytest.raises(ConnectionError):
        execute_plan(plan, ledger, brokers, simulated=lambda a: True, now=NOW)
    assert brokers["A"].balance == 100_000 and brokers["B"].balance == 50_000
    assert ledger.get(plan.transfers[0].transfer_id).status == "pending"
    # the ledger alone would redo both legs; the deal history stops the withdrawal repeating
    report = execute_plan(plan, ledger, brokers, simulated=lambda a: True, now=NOW)
    assert report.count(EXECUTED_NOW) == 1
    assert brokers["A"].balance == 100_000 and brokers["B"].balance == 100_000
    assert len(brokers["A"].history) == 1


def test_execute_when_withdrawal_refused_then_failed_and_nothing_deposited():
    plan, brokers = _setup()
    brokers["A"].balance = 10.0  # the terminal disagrees with the plan's numbers
    report = execute_plan(plan, InMemoryTransferLedger(), brokers, simulated=lambda a: True, now=NOW)
    assert report.transfers[0].status == "failed" and "BALANCE_OPERATION_REFUSED" in report.transfers[0].detail
    assert brokers["B"].balance == 50_000


def test_execute_when_live_account_then_pending_until_human_confirms():
    plan, brokers = _setup(live_b=True)
    ledger = InMemoryTransferLedger()
    tid = plan.transfers[0].transfer_id
    report = execute_plan(plan, ledger, brokers, simulated=lambda a: a != "B", now=NOW)
    assert report.transfers[0].status == AWAITING_CONFIRMATION
    assert brokers["A"].balance == 150_000  # nothing moved on the terminal
    with pytest.raises(TransferConfirmationError):
        confirm_transfer(ledger, tid, "", NOW)
    rec = confirm_transfer(ledger, tid, "maria.ops", NOW + timedelta(hours=1))
    assert rec.status == EXECUTED and rec.confirmed_by == "maria.ops"
    assert rec.confirmed_at == NOW + timedelta(hours=1)
    again = execute_plan(plan, ledger, brokers, simulated=lambda a: a != "B", now=NOW)
    assert again.transfers[0].status == ALREADY_EXECUTED


def test_execute_when_terminal_refuses_transfers_then_instruction_waits():
    plan, brokers = _setup()
    brokers["A"].real = True
    report = execute_plan(plan, InMemoryTransferLedger(), brokers, simulated=lambda a: True, now=NOW)
    assert report.transfers[0].status == AWAITING_CONFIRMATION
    assert "TRANSFER_NOT_SUPPORTED" in report.transfers[0].detail


def test_execute_emergency_when_reduction_fails_then_transfers_out_of_account_held():
    cap = {"A": AccountCapital("A", "g", D(150_000), D(150_000), D(90_000)),
           "B": AccountCapital("B", "g", D(50_000), D(50_000), D(0))}
    plan = plan_emergency(cap, {"A": D(100_000), "B": D(100_000)},
                          [RiskReduction("A", "close #42", D(60_000), 42)], plan_key="emergency:x", created_at=NOW,
                          min_transfer=D(1000), margin_buffer=0.5)
    brokers = {a: FakeTerminal(a, float(c.balance)) for a, c in cap.items()}
    done: list[int] = []
    held = execute_plan(plan, InMemoryTransferLedger(), brokers, lambda a: True, NOW, reduce=lambda r: False)
    assert held.transfers[0].status == HELD and brokers["A"].balance == 150_000
    ok = execute_plan(plan, InMemoryTransferLedger(), brokers, lambda a: True, NOW,
                      reduce=lambda r: done.append(r.position_ticket) or True)
    assert done == [42] and ok.count(EXECUTED_NOW) == 1 and brokers["B"].balance == 100_000


def test_store_ledger_when_plan_executed_twice_then_one_plan_and_executed_once(sqlite_store):
    plan, brokers = _setup(live_b=True)
    ledger = StoreTransferLedger(sqlite_store)
    execute_plan(plan, ledger, brokers, simulated=lambda a: a != "B", now=NOW)
    execute_plan(plan, ledger, brokers, simulated=lambda a: a != "B", now=NOW)
    rows = ledger.list()
    assert len(rows) == 1 and rows[0].transfer_id == plan.transfers[0].transfer_id and rows[0].status == "pending"
    assert rows[0].amount == D("50000.00")
    rec = confirm_transfer(ledger, rows[0].transfer_id, "maria.ops", NOW)
    assert rec.status == EXECUTED and rec.confirmed_by == "maria.ops"
    assert ledger.list(status=EXECUTED)[0].executed_at == NOW
    assert confirm_transfer(ledger, rows[0].transfer_id, "maria.ops", NOW).status == EXECUTED
    assert ledger.get("tr-doesnotexist") is None
