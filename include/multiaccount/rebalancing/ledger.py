"""Where transfers are recorded: a small port with an in-memory adapter and a store adapter.

The executor asks the ledger before it moves money, so a rerun never executes a transfer twice.
The store keys transfers by an autoincrement id; our deterministic id (`transfer_id(plan key, from,
to)`) travels in the transfer's `note` (`id=tr-...`) until the store grows a column for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from multiaccount.rebalancing.model import TransferPlan

PENDING, CONFIRMED, EXECUTED, CANCELLED = "pending", "confirmed", "executed", "cancelled"
NOTE_PREFIX = "id="


class TransferConfirmationError(Exception):
    """A confirmation that cannot be accepted (unknown id, no actor, wrong status); needs a human."""


@dataclass(frozen=True)
class TransferRecord:
    transfer_id: str
    plan_key: str
    from_account: str
    to_account: str
    amount: Decimal
    live: bool
    status: str
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    executed_at: datetime | None = None
    store_id: int | None = None


class TransferLedger(Protocol):
    def record_plan(self, plan: TransferPlan, actor: str) -> None:
        """Store the plan and its transfers as pending; a second call with the same plan key does nothing."""
        ...

    def get(self, transfer_id: str) -> TransferRecord | None:
        ...

    def list(self, status: str | None = None, plan_key: str | None = None) -> list[TransferRecord]:
        ...

    def confirm(self, transfer_id: str, actor: str, at: datetime) -> TransferRecord:
        ...

    def mark_executed(self, transfer_id: str, at: datetime) -> TransferRecord:
        ...


class InMemoryTransferLedger:
    """The fake used by unit tests; same rules as the store (confirm needs an actor, reruns are no-ops)."""

    def __init__(self) -> None:
        self._rows: dict[str, TransferRecord] = {}
        self._plans: set[str] = set()
        self._lock = threading.Lock()

    def record_plan(self, plan: TransferPlan, actor: str) -> None:
        with self._lock:
            if plan.plan_key in self._plans:
                return
            self._plans.add(plan.plan_key)
            for t in plan.transfers:
                self._rows[t.transfer_id] = TransferRecord(t.transfer_id, plan.plan_key, t.from_account,
                                                           t.to_account, t.amount, t.live, PENDING)

    def get(self, transfer_id: str) -> TransferRecord | None:
        return self._rows.get(transfer_id)

    def list(self, status: str | None = None, plan_key: str | None = None) -> list[TransferRecord]:
        return [r for r in self._rows.values()
                if (status is None or r.status == status) and (plan_key is None or r.plan_key == plan_key)]

    def confirm(self, transfer_id: str, actor: str, at: datetime) -> TransferRecord:
        with self._lock:
            row = self._rows.get(transfer_id)
            if row is None:
                raise TransferConfirmationError(f"UNKNOWN_TRANSFER: id={transfer_id}")
            if not actor:
                raise TransferConfirmationError("NO_ACTOR: a confirmation needs the confirming person's name")
            if row.status in (CONFIRMED, EXECUTED):
                return row
            if row.status != PENDING:
                raise TransferConfirmationError(f"BAD_STATUS: id={transfer_id}, status={row.status}")
            row = replace(row, status=CONFIRMED, confirmed_by=actor, confirmed_at=at)
            self._rows[transfer_id] = row
            return row

    def mark_executed(self, transfer_id: str, at: datetime) -> TransferRecord:
        with self._lock:
            row = self._rows[transfer_id]
            if row.status == EXECUTED:
                return row
            if row.live and row.status != CONFIRMED:
                raise TransferConfirmationError(f"NOT_CONFIRMED: id={transfer_id} is live and {row.status}")
            row = replace(row, status=EXECUTED, executed_at=at)
            self._rows[transfer_id] = row
            return row


class StoreTransferLedger:
    """Adapter over `multiaccount.store` (`store.transfers`: plans, transfers, confirm, mark_executed)."""

    def __init__(self, store: Any):
        self._repo = store.transfers

    @staticmethod
    def _record(row: Any, plan_key: str) -> TransferRecord:
        tid = row.note[len(NOTE_PREFIX):].split()[0] if row.note.startswith(NOTE_PREFIX) else f"#{row.id}"
        return TransferRecord(tid, plan_key, row.from_account,
                              row.to_account, row.amount, row.live, row.status, row.confirmed_by, row.confirmed_at,
                              row.executed_at, row.id)

    def record_plan(self, plan: TransferPlan, actor: str) -> None:
        specs = [{"from_account": t.from_account, "to_account": t.to_account, "amount": t.amount, "live": t.live,
                  "note": f"{NOTE_PREFIX}{t.transfer_id}"} for t in plan.transfers]
        detail = {"targets": {a: str(v) for a, v in plan.targets.items()},
                  "before": {a: str(v) for a, v in plan.before.items()}, "max_drift": plan.max_drift,
                  "threshold": plan.threshold, "shortfalls": list(plan.shortfalls),
                  "reductions": [{"account_id": r.account_id, "action": r.action,
                                  "margin_released": str(r.margin_released)} for r in plan.reductions]}
        self._repo.create_plan(plan.plan_key, specs, created_by=actor, reason=plan.reason, detail=detail,
                               at=plan.created_at)

    def list(self, status: str | None = None, plan_key: str | None = None) -> list[TransferRecord]:
        plans = [self._repo.plan(plan_key)] if plan_key is not None else self._repo.plans(limit=1_000_000)
        out = [self._record(t, p.plan_key) for p in plans if p is not None for t in p.transfers
               if status is None or t.status == status]
        return sorted(out, key=lambda r: r.store_id or 0)

    def _store_id(self, transfer_id: str) -> int | None:
        if transfer_id.startswith("#") and transfer_id[1:].isdigit():
            return int(transfer_id[1:])
        if transfer_id.isdigit():
            return int(transfer_id)
        for rec in self.list():
            if rec.transfer_id == transfer_id:
                return rec.store_id
        return None

    def get(self, transfer_id: str) -> TransferRecord | None:
        sid = self._store_id(transfer_id)
        if sid is None:
            return None
        return next((r for r in self.list() if r.store_id == sid), None)

    def confirm(self, transfer_id: str, actor: str, at: datetime) -> TransferRecord:
        sid = self._store_id(transfer_id)
        if sid is None:
            raise TransferConfirmationError(f"UNKNOWN_TRANSFER: id={transfer_id}")
        if not actor:
            raise TransferConfirmationError("NO_ACTOR: a confirmation needs the confirming person's name")
        current = self.get(transfer_id)
        if current is not None and current.status in (CONFIRMED, EXECUTED):
            return current
        self._repo.confirm(sid, actor, at=at)
        return self.get(transfer_id)  # type: ignore[return-value]

    def mark_executed(self, transfer_id: str, at: datetime) -> TransferRecord:
        sid = self._store_id(transfer_id)
        if sid is None:
            raise TransferConfirmationError(f"UNKNOWN_TRANSFER: id={transfer_id}")
        self._repo.mark_executed(sid, at=at)
        return self.get(transfer_id)  # type: ignore[return-value]
