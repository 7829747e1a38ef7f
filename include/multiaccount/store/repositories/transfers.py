"""Rebalancing plans and their transfers, with exact amounts and a confirmation trail.

Status of a transfer: pending -> confirmed -> executed, or -> cancelled. A live transfer must be
confirmed by a human before it is executed; a simulated one may go from pending to executed.
Creating a plan is idempotent on `plan_key`, so a rerun of the rebalancing task records nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from multiaccount.store.models import RebalancingPlanRow, TransferRow
from multiaccount.store.repositories.base import Repository, insert_ignore, when
from multiaccount.store.types import ExactDecimal

MONEY = ExactDecimal(20, 2)
TERMINAL = ("executed", "cancelled")


class TransferStateError(Exception):
    """A transfer transition that is not allowed (e.g. executing an unconfirmed live transfer)."""


@dataclass(frozen=True)
class TransferSpec:
    from_account: str
    to_account: str
    amount: Decimal
    currency: str = "USD"
    live: bool = False
    note: str = ""


def _spec_values(spec: TransferSpec | Mapping[str, Any]) -> dict[str, Any]:
    get = spec.get if isinstance(spec, Mapping) else lambda k, d=None: getattr(spec, k, d)
    amount = MONEY.quantize(get("amount"))
    if amount <= 0:
        raise ValueError(f"transfer amount must be positive, got {amount}")
    if get("from_account") == get("to_account"):
        raise ValueError(f"transfer from {get('from_account')} to itself")
    return {"from_account": get("from_account"), "to_account": get("to_account"), "amount": amount,
            "currency": get("currency", "USD") or "USD", "live": bool(get("live", False)),
            "note": get("note", "") or "", "status": "pending"}


def _refresh_plan_status(plan: RebalancingPlanRow) -> None:
    statuses = {t.status for t in plan.transfers}
    if statuses and statuses <= set(TERMINAL):
        plan.status = "cancelled" if statuses == {"cancelled"} else "done"
    elif "confirmed" in statuses or "executed" in statuses:
        plan.status = "in_progress"
    else:
        plan.status = "pending"


class TransferRepository(Repository):
    def create_plan(self, plan_key: str, transfers: Iterable[TransferSpec | Mapping[str, Any]],
                    created_by: str = "system", reason: str = "", detail: dict[str, Any] | None = None,
                    at: datetime | None = None) -> tuple[RebalancingPlanRow, bool]:
        """(plan, created). When `plan_key` exists the stored plan is returned untouched."""
        at = when(at)
        specs = [_spec_values(t) for t in transfers]
        with self._session() as s:
            created = insert_ignore(s, RebalancingPlanRow.__table__,
                                    {"plan_key": plan_key, "created_at": at, "created_by": created_by,
                                     "reason": reason, "status": "pending" if specs else "done",
                                     "detail": detail or {}}, ["plan_key"]) == 1
            plan = s.scalar(select(RebalancingPlanRow).where(RebalancingPlanRow.plan_key == plan_key))
            if created:
                plan.transfers.extend(TransferRow(**v) for v in specs)
                s.flush()
            return plan, created

    def plan(self, plan_key: str) -> RebalancingPlanRow | None:
        with self._session() as s:
            return s.scalar(select(RebalancingPlanRow).where(RebalancingPlanRow.plan_key == plan_key))

    def plans(self, status: str | None = None, limit: int = 100) -> list[RebalancingPlanRow]:
        q = select(RebalancingPlanRow).order_by(RebalancingPlanRow.id.desc()).limit(limit)
        if status is not None:
            q = q.where(RebalancingPlanRow.status == status)
        with self._session() as s:
            return list(s.scalars(q))

    def get(self, transfer_id: int) -> TransferRow | None:
        with self._session() as s:
            return s.get(TransferRow, transfer_id)

    def list(self, status: str | None = None, plan_key: str | None = None) -> list[TransferRow]:
        q = select(TransferRow).order_by(TransferRow.id)
        if status is not None:
            q = q.where(TransferRow.status == status)
        if plan_key is not None:
            q = q.join(RebalancingPlanRow).where(RebalancingPlanRow.plan_key == plan_key)
        with self._session() as s:
            return list(s.scalars(q))

    def _transition(self, transfer_id: int, allowed_from: tuple[str, ...], target: str,
                    **changes: Any) -> TransferRow:
        with self._session() as s:
            row = s.get(TransferRow, transfer_id, with_for_update=True, populate_existing=True)
            if row is None:
                raise TransferStateError(f"no transfer {transfer_id}")
            if row.status == target:
                return row  # idempotent rerun
            if row.status not in allowed_from:
                raise TransferStateError(f"transfer {transfer_id} is {row.status}; cannot become {target}")
            row.status = target
            for key, value in changes.items():
                setattr(row, key, value)
            _refresh_plan_status(row.plan)
            s.flush()
            return row

    def confirm(self, transfer_id: int, actor: str, at: datetime | None = None) -> TransferRow:
        """A human confirms a pending transfer (required before a live one is executed)."""
        if not actor:
            raise TransferStateError("a confirmation needs the confirming person's name")
        return self._transition(transfer_id, ("pending",), "confirmed", confirmed_by=actor,
                                confirmed_at=when(at))

    def mark_executed(self, transfer_id: int, at: datetime | None = None) -> TransferRow:
        """Record execution; a live transfer must have been confirmed first."""
        current = self.get(transfer_id)
        if current is None:
            raise TransferStateError(f"no transfer {transfer_id}")
        allowed = ("confirmed",) if current.live else ("pending", "confirmed")
        return self._transition(transfer_id, allowed, "executed", executed_at=when(at))

    def cancel(self, transfer_id: int, actor: str, note: str = "", at: datetime | None = None) -> TransferRow:
        return self._transition(transfer_id, ("pending", "confirmed"), "cancelled", cancelled_at=when(at),
                                note=note or f"cancelled by {actor}")
