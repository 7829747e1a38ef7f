"""Account snapshots: the balance/equity/margin time series as brokers report it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from multiaccount.domain import AccountState
from multiaccount.store.models import AccountSnapshot
from multiaccount.store.repositories.base import Repository, when

if TYPE_CHECKING:  # pandas is imported when a frame is asked for, not by every store user
    import pandas as pd

SERIES_COLUMNS = ["at", "account_id", "balance", "equity", "margin", "margin_free", "margin_level", "connected"]


def _values(state: AccountState) -> dict:
    return {"account_id": state.account_id, "at": when(state.at), "balance": state.balance,
            "equity": state.equity, "margin": state.margin, "margin_free": state.margin_free,
            "margin_level": state.margin_level, "currency": state.currency, "leverage": state.leverage,
            "margin_so_call": state.margin_so_call, "margin_so_so": state.margin_so_so,
            "connected": state.connected}


def to_state(row: AccountSnapshot) -> AccountState:
    return AccountState(account_id=row.account_id, balance=row.balance, equity=row.equity, margin=row.margin,
                        margin_free=row.margin_free, margin_level=row.margin_level, currency=row.currency,
                        leverage=row.leverage, margin_so_call=row.margin_so_call, margin_so_so=row.margin_so_so,
                        connected=row.connected, at=row.at)


class SnapshotRepository(Repository):
    def record(self, state: AccountState) -> int:
        with self._session() as s:
            row = AccountSnapshot(**_values(state))
            s.add(row)
            s.flush()
            return row.id

    def record_many(self, states: Iterable[AccountState]) -> int:
        rows = [_values(st) for st in states]
        if rows:
            with self._session() as s:
                s.execute(AccountSnapshot.__table__.insert(), rows)
        return len(rows)

    def latest(self) -> dict[str, AccountSnapshot]:
        """Newest snapshot per account (by reading time, then insertion order)."""
        newest = (select(AccountSnapshot.account_id, func.max(AccountSnapshot.at).label("at"))
                  .group_by(AccountSnapshot.account_id).subquery())
        q = (select(AccountSnapshot).join(newest, (AccountSnapshot.account_id == newest.c.account_id)
                                          & (AccountSnapshot.at == newest.c.at)).order_by(AccountSnapshot.id))
        with self._session() as s:
            return {row.account_id: row for row in s.scalars(q)}

    def latest_states(self) -> dict[str, AccountState]:
        return {acc: to_state(row) for acc, row in self.latest().items()}

    def series(self, account_id: str | None = None, since: datetime | None = None,
               until: datetime | None = None) -> pd.DataFrame:
        """Snapshots as a DataFrame (columns SERIES_COLUMNS, `at` tz-aware UTC), oldest first."""
        import pandas as pd

        q = select(*(getattr(AccountSnapshot, c) for c in SERIES_COLUMNS)).order_by(AccountSnapshot.at,
                                                                                     AccountSnapshot.id)
        if account_id is not None:
            q = q.where(AccountSnapshot.account_id == account_id)
        if since is not None:
            q = q.where(AccountSnapshot.at >= when(since))
        if until is not None:
            q = q.where(AccountSnapshot.at < when(until))
        with self._session() as s:
            rows = s.execute(q).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=SERIES_COLUMNS)
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame
