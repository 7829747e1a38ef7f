"""Signals as received and what routing did with them on each account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from multiaccount.domain import TradingSignal
from multiaccount.store.models import SignalRouteRow, SignalRow
from multiaccount.store.repositories.base import Repository, insert_ignore, upsert, when

_ROUTE_FIELDS = frozenset({"account_id", "status", "reason", "client_id", "volume", "factors"})


class SignalRepository(Repository):
    def record(self, signal: TradingSignal, received_at: datetime | None = None, source: str = "") -> bool:
        """Store a received signal; False when its id was already recorded (a replay)."""
        values = {"id": signal.id, "symbol": signal.symbol, "side": signal.side.value,
                  "order_type": signal.order_type.value, "entry": signal.entry, "stop": signal.stop,
                  "take_profit": signal.take_profit, "take_profit_ratio": signal.take_profit_ratio,
                  "strategy": signal.strategy, "created": signal.created, "expires": signal.expires,
                  "received_at": when(received_at), "source": source,
                  "payload": signal.model_dump(mode="json")}
        with self._session() as s:
            return insert_ignore(s, SignalRow.__table__, values, ["id"]) == 1

    def record_route(self, signal_id: str, account_id: str, status: str, reason: str = "",
                     client_id: str | None = None, volume: float | None = None,
                     factors: dict[str, Any] | None = None, at: datetime | None = None) -> None:
        """The routing result of one signal on one account (re-routing replaces the earlier result)."""
        self.record_routes(signal_id, [{"account_id": account_id, "status": status, "reason": reason,
                                        "client_id": client_id, "volume": volume, "factors": factors}], at)

    def record_routes(self, signal_id: str, routes: Sequence[Mapping[str, Any]],
                      at: datetime | None = None) -> None:
        """`record_route` for every account of a signal in one statement. A route holds `account_id` and
        `status`, optionally `reason`, `client_id`, `volume`, `factors`; an account given twice keeps its
        last route."""
        at = when(at)
        rows = []
        for route in routes:
            unknown = route.keys() - _ROUTE_FIELDS
            if unknown:
                raise TypeError(f"record_routes: unknown route fields {sorted(unknown)}, "
                                f"expected some of {sorted(_ROUTE_FIELDS)}")
            rows.append({"signal_id": signal_id, "account_id": route["account_id"], "status": route["status"],
                         "reason": route.get("reason") or "", "client_id": route.get("client_id"),
                         "volume": route.get("volume"), "factors": route.get("factors") or {}, "at": at})
        with self._session() as s:
            upsert(s, SignalRouteRow.__table__, rows, ["signal_id", "account_id"])

    def get(self, signal_id: str) -> SignalRow | None:
        """The signal with its `routes` loaded."""
        with self._session() as s:
            return s.get(SignalRow, signal_id)

    def list(self, since: datetime | None = None, limit: int = 500) -> list[SignalRow]:
        q = select(SignalRow).order_by(SignalRow.received_at.desc()).limit(limit)
        if since is not None:
            q = q.where(SignalRow.received_at >= when(since))
        with self._session() as s:
            return list(s.scalars(q))

    def routes(self, signal_id: str | None = None, account_id: str | None = None) -> list[SignalRouteRow]:
        q = select(SignalRouteRow).order_by(SignalRouteRow.id)
        if signal_id is not None:
            q = q.where(SignalRouteRow.signal_id == signal_id)
        if account_id is not None:
            q = q.where(SignalRouteRow.account_id == account_id)
        with self._session() as s:
            return list(s.scalars(q))
