"""Execute a transfer plan, idempotently.

- Simulated terminals: a transfer is two balance operations, the withdrawal first (money never
  appears before it has left) and the deposit second, both commented with the transfer id. Before
  each leg the account's deal history is searched for that comment, so a rerun after a crash between
  the legs completes the missing leg and never repeats the other.
- Live accounts (or a terminal that raises `TransferNotSupported`): the transfer stays a pending
  instruction until a human confirms it (`confirm_transfer`), which records who and when.
- The ledger is checked first: an executed transfer is never touched again.
- Emergency plans: every risk reduction runs before any transfer; transfers out of an account whose
  reduction failed are held, because their margin capacity assumed the reduction done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from multiaccount.rebalancing.ledger import CONFIRMED, EXECUTED, TransferLedger, TransferRecord
from multiaccount.rebalancing.model import RiskReduction, Transfer, TransferPlan

log = logging.getLogger(__name__)

EXECUTED_NOW = "executed"
ALREADY_EXECUTED = "already_executed"
AWAITING_CONFIRMATION = "awaiting_confirmation"
FAILED = "failed"
HELD = "held"


@dataclass(frozen=True)
class TransferResult:
    transfer_id: str
    status: str
    detail: str = ""


@dataclass(frozen=True)
class ReductionResult:
    reduction: RiskReduction
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class ExecutionReport:
    plan_key: str
    reductions: tuple[ReductionResult, ...]
    transfers: tuple[TransferResult, ...]

    def count(self, status: str) -> int:
        return sum(1 for t in self.transfers if t.status == status)


def _has_leg(broker: Any, comment: str, sign: int, since: datetime) -> bool:
    """Is there already a balance deal with this comment and direction in the account's history?"""
    for deal in broker.deals(since):
        if getattr(deal, "kind", "trade") == "balance" and deal.comment == comment and deal.profit * sign > 0:
            return True
    return False


def _leg(broker: Any, amount: Decimal, comment: str, since: datetime) -> str | None:
    """Do one balance operation unless the history shows it done; an error text when refused."""
    sign = 1 if amount > 0 else -1
    if _has_leg(broker, comment, sign, since):
        return None
    outcome = broker.balance_operation(amount, comment)
    status = str(getattr(outcome, "status", "filled"))
    if status not in ("filled", "duplicate", "OrderStatus.FILLED", "OrderStatus.DUPLICATE"):
        return f"BALANCE_OPERATION_REFUSED: account={getattr(broker, 'account_id', '?')}, amount={amount}, " \
               f"retcode={getattr(outcome, 'retcode', None)}, reason={getattr(outcome, 'reason', '')}"
    return None


def execute_transfer(transfer: Transfer, ledger: TransferLedger, brokers: Mapping[str, Any],
                     simulated: Callable[[str], bool], now: datetime, since: datetime) -> TransferResult:
    from multiaccount.brokers.port import TransferNotSupported  # the port module only; no SDK

    rec: TransferRecord | None = ledger.get(transfer.transfer_id)
    if rec is not None and rec.status == EXECUTED:
        return TransferResult(transfer.transfer_id, ALREADY_EXECUTED)
    if not (simulated(transfer.from_account) and simulated(transfer.to_account)):
        if rec is not None and rec.status == CONFIRMED:
            ledger.mark_executed(transfer.transfer_id, now)
            return TransferResult(transfer.transfer_id, EXECUTED_NOW, "confirmed by a human")
        return TransferResult(transfer.transfer_id, AWAITING_CONFIRMATION,
                              f"live transfer {transfer.amount} {transfer.from_account} -> {transfer.to_account}")
    missing = [a for a in (transfer.from_account, transfer.to_account) if a not in brokers]
    if missing:
        return TransferResult(transfer.transfer_id, AWAITING_CONFIRMATION, f"NO_BROKER: accounts={','.join(missing)}")
    try:
        err = _leg(brokers[transfer.from_account], -transfer.amount, transfer.transfer_id, since)
        if err is None:
            err = _leg(brokers[transfer.to_account], transfer.amount, transfer.transfer_id, since)
    except TransferNotSupported as exc:
        return TransferResult(transfer.transfer_id, AWAITING_CONFIRMATION, f"TRANSFER_NOT_SUPPORTED: {exc}")
    if err is not None:
        log.warning("transfer %s failed: %s", transfer.transfer_id, err)
        return TransferResult(transfer.transfer_id, FAILED, err)
    ledger.mark_executed(transfer.transfer_id, now)
    log.info("transfer %s executed: %s %s -> %s", transfer.transfer_id, transfer.amount, transfer.from_account,
             transfer.to_account)
    return TransferResult(transfer.transfer_id, EXECUTED_NOW)


def execute_plan(plan: TransferPlan, ledger: TransferLedger, brokers: Mapping[str, Any],
                 simulated: Callable[[str], bool], now: datetime, actor: str = "system",
                 reduce: Callable[[RiskReduction], bool] | None = None) -> ExecutionReport:
    """Record the plan (idempotent), run its risk reductions, then its transfers in plan order."""
    ledger.record_plan(plan, actor)
    reductions: list[ReductionResult] = []
    failed_accounts: set[str] = set()
    for r in plan.reductions:
        try:
            ok = bool(reduce(r)) if reduce is not None else False
            detail = "" if reduce is not None else "NO_REDUCER: no risk-reduction callback given"
        except Exception as exc:  # noqa: BLE001 - a failed reduction holds transfers, it must not abort the rest
            ok, detail = False, f"REDUCTION_ERROR: {exc}"
        if not ok:
            failed_accounts.add(r.account_id)
        reductions.append(ReductionResult(r, ok, detail))
    since = plan.created_at - timedelta(days=1)
    results = []
    for t in plan.transfers:
        if t.from_account in failed_accounts:
            results.append(TransferResult(t.transfer_id, HELD,
                                          f"REDUCTION_FAILED: account={t.from_account}; transfer held"))
            continue
        results.append(execute_transfer(t, ledger, brokers, simulated, now, since))
    return ExecutionReport(plan.plan_key, tuple(reductions), tuple(results))


def confirm_transfer(ledger: TransferLedger, transfer_id: str, actor: str, at: datetime) -> TransferRecord:
    """A human confirms a live transfer was made at the broker: records who and when, then executed."""
    ledger.confirm(transfer_id, actor, at)
    return ledger.mark_executed(transfer_id, at)
