"""Open positions and deal history as brokers report them (MT5 TradePosition / TradeDeal)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from multiaccount.domain import Position, Side
from multiaccount.store.models import DealRow, PositionRow
from multiaccount.store.repositories.base import Repository, insert_ignore, upsert, when

DEAL_SIDES = {0: "buy", 1: "sell", 2: "balance", 3: "credit", 4: "charge", 5: "correction", 6: "bonus",
              7: "commission"}
DEAL_ENTRIES = {0: "in", 1: "out", 2: "inout", 3: "out_by"}


def _as_mapping(obj: Any) -> Mapping[str, Any]:
    if isinstance(obj, Mapping):
        return obj
    if hasattr(obj, "_asdict"):
        return obj._asdict()
    return {k: getattr(obj, k) for k in dir(obj) if not k.startswith("_")}


def _deal_time(d: Mapping[str, Any]) -> datetime:
    for key in ("at", "time"):
        value = d.get(key)
        if isinstance(value, datetime):
            return when(value)
    if d.get("time_msc"):
        return datetime.fromtimestamp(d["time_msc"] / 1000, UTC)
    if d.get("time") is not None:
        return datetime.fromtimestamp(float(d["time"]), UTC)
    raise ValueError(f"deal {d.get('ticket')} has no time")


def deal_values(account_id: str, deal: Any) -> dict[str, Any]:
    """Normalise an MT5 TradeDeal namedtuple, a dict or a dataclass into a `deals` row."""
    d = _as_mapping(deal)
    side = d.get("side", d.get("type", ""))
    entry = d.get("entry", "")
    return {
        "account_id": account_id, "ticket": int(d["ticket"]),
        "order_ticket": d.get("order_ticket", d.get("order")), "position_id": d.get("position_id"),
        "symbol": d.get("symbol", "") or "",
        "side": DEAL_SIDES.get(side, str(side)) if isinstance(side, int) else str(getattr(side, "value", side)),
        "entry": DEAL_ENTRIES.get(entry, str(entry)) if isinstance(entry, int) else str(entry),
        "volume": float(d.get("volume", 0) or 0), "price": float(d.get("price", 0) or 0),
        "profit": float(d.get("profit", 0) or 0), "commission": float(d.get("commission", 0) or 0),
        "swap": float(d.get("swap", 0) or 0), "fee": float(d.get("fee", 0) or 0),
        "magic": int(d.get("magic", 0) or 0), "comment": str(d.get("comment", "") or "")[:64],
        "at": _deal_time(d),
    }


def _position_values(p: Position, at: datetime) -> dict[str, Any]:
    return {"account_id": p.account_id, "ticket": p.ticket, "symbol": p.symbol, "side": Side(p.side).value,
            "volume": p.volume, "price_open": p.price_open, "sl": p.sl, "tp": p.tp,
            "price_current": p.price_current, "profit": p.profit, "swap": p.swap, "opened_at": when(p.opened_at),
            "magic": p.magic, "comment": p.comment, "is_open": True, "updated_at": at, "closed_at": None}


def to_position(row: PositionRow) -> Position:
    return Position(account_id=row.account_id, ticket=row.ticket, symbol=row.symbol, side=Side(row.side),
                    volume=row.volume, price_open=row.price_open, sl=row.sl, tp=row.tp,
                    price_current=row.price_current, profit=row.profit, swap=row.swap, opened_at=row.opened_at,
                    magic=row.magic, comment=row.comment)


class PositionRepository(Repository):
    def replace_open(self, account_id: str, positions: Iterable[Position], at: datetime | None = None) -> None:
        """The broker's full list of open positions for one account: upsert them, close the missing ones."""
        at = when(at)
        positions = list(positions)
        foreign = [p.ticket for p in positions if p.account_id != account_id]
        if foreign:
            raise ValueError(f"positions {foreign} do not belong to account {account_id}")
        tickets = [p.ticket for p in positions]
        with self._session() as s:
            for p in positions:
                upsert(s, PositionRow.__table__, _position_values(p, at), ["account_id", "ticket"])
            s.execute(update(PositionRow)
                      .where(PositionRow.account_id == account_id, PositionRow.is_open.is_(True),
                             PositionRow.ticket.not_in(tickets))
                      .values(is_open=False, closed_at=at, updated_at=at))

    def open(self, account_id: str | None = None) -> list[Position]:
        q = select(PositionRow).where(PositionRow.is_open.is_(True)).order_by(PositionRow.account_id,
                                                                              PositionRow.ticket)
        if account_id is not None:
            q = q.where(PositionRow.account_id == account_id)
        with self._session() as s:
            return [to_position(r) for r in s.scalars(q)]

    def rows(self, account_id: str | None = None, include_closed: bool = True) -> list[PositionRow]:
        q = select(PositionRow).order_by(PositionRow.account_id, PositionRow.ticket)
        if account_id is not None:
            q = q.where(PositionRow.account_id == account_id)
        if not include_closed:
            q = q.where(PositionRow.is_open.is_(True))
        with self._session() as s:
            return list(s.scalars(q))

    def record_deals(self, account_id: str, deals: Iterable[Any]) -> int:
        """Insert deals not seen before (by ticket); returns how many were new."""
        rows = [deal_values(account_id, d) for d in deals]
        with self._session() as s:
            return insert_ignore(s, DealRow.__table__, rows, ["account_id", "ticket"]) if rows else 0

    def deals(self, account_id: str | None = None, since: datetime | None = None,
              until: datetime | None = None) -> list[DealRow]:
        q = select(DealRow).order_by(DealRow.at, DealRow.ticket)
        if account_id is not None:
            q = q.where(DealRow.account_id == account_id)
        if since is not None:
            q = q.where(DealRow.at >= when(since))
        if until is not None:
            q = q.where(DealRow.at < when(until))
        with self._session() as s:
            return list(s.scalars(q))
