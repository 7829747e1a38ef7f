"""The order idempotency ledger: one row per client order id, ever.

Implements `multiaccount.domain.ports.OrderLedger`. `reserve` is a single INSERT .. ON CONFLICT DO
NOTHING on the unique `client_id`, so concurrent retries in different processes cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update

from multiaccount.domain import OrderIntent, OrderOutcome, OrderStatus
from multiaccount.store.models import ORDER_PENDING, OrderRow
from multiaccount.store.repositories.base import Repository, insert_ignore, when


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _outcome(row: OrderRow) -> OrderOutcome:
    return OrderOutcome(client_id=row.client_id, account_id=row.account_id, status=OrderStatus(row.status),
                        retcode=row.retcode, reason=row.reason, volume=_float(row.filled_volume) or 0.0,
                        price=_float(row.fill_price), ticket=row.ticket, deal=row.deal, latency_ms=row.latency_ms)


class SqlOrderLedger(Repository):
    def reserve(self, intent: OrderIntent, at: datetime) -> bool:
        """Insert a pending row; False when the client id already exists (a replay or a racing retry)."""
        values = {
            "client_id": intent.client_id, "account_id": intent.account_id, "signal_id": intent.signal_id,
            "symbol": intent.symbol, "side": intent.side.value, "order_type": intent.order_type.value,
            "volume": _dec(intent.volume), "price": _dec(intent.price), "sl": _dec(intent.sl),
            "tp": _dec(intent.tp), "deviation": intent.deviation, "position_ticket": intent.position_ticket,
            "reduce_only": intent.reduce_only, "factors": dict(intent.factors), "status": ORDER_PENDING,
            "reason": "", "reserved_at": when(at),
        }
        with self._session() as s:
            return insert_ignore(s, OrderRow.__table__, values, ["client_id"]) == 1

    def get(self, client_id: str) -> OrderOutcome | None:
        """The recorded outcome, or None when unknown or still pending."""
        row = self.row(client_id)
        return None if row is None or row.status == ORDER_PENDING else _outcome(row)

    def row(self, client_id: str) -> OrderRow | None:
        """The full ledger row (pending ones included)."""
        with self._session() as s:
            return s.scalar(select(OrderRow).where(OrderRow.client_id == client_id))

    def complete(self, outcome: OrderOutcome, at: datetime) -> None:
        """Record the outcome. An outcome for a never-reserved id is still recorded (nothing is lost)."""
        values = {"status": OrderStatus(outcome.status).value, "retcode": outcome.retcode,
                  "reason": outcome.reason, "filled_volume": _dec(outcome.volume),
                  "fill_price": _dec(outcome.price), "ticket": outcome.ticket, "deal": outcome.deal,
                  "latency_ms": outcome.latency_ms, "completed_at": when(at)}
        with self._session() as s:
            done = s.execute(update(OrderRow).where(OrderRow.client_id == outcome.client_id).values(**values))
            if not done.rowcount:
                insert_ignore(s, OrderRow.__table__, {
                    "client_id": outcome.client_id, "account_id": outcome.account_id, "symbol": "",
                    "side": "", "order_type": "", "volume": Decimal(0), "factors": {},
                    "reserved_at": when(at), **values}, ["client_id"])

    def list(self, since: datetime | None = None, account_id: str | None = None,
             status: str | None = None) -> list[OrderRow]:
        q = select(OrderRow).order_by(OrderRow.id)
        if since is not None:
            q = q.where(OrderRow.reserved_at >= when(since))
        if account_id is not None:
            q = q.where(OrderRow.account_id == account_id)
        if status is not None:
            q = q.where(OrderRow.status == status)
        with self._session() as s:
            return list(s.scalars(q))

    def pending(self, account_id: str | None = None) -> list[OrderRow]:
        """Reserved but never completed: candidates for reconciliation against broker deals."""
        return self.list(account_id=account_id, status=ORDER_PENDING)
