"""Trading state per scope (firm, group, account) with an optimistic version column.

Implements `multiaccount.domain.ports.TradingStateRepository`. A change locks the scope's row, checks
`expected_version`, bumps the version and appends a history row, all in one transaction, so two
writers (realtime monitor, Airflow task, dashboard) can never both win from the same version.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from multiaccount.domain import Scope, TradingState
from multiaccount.domain.ports import StaleStateError, StateRecord
from multiaccount.store.models import TradingStateChangeRow, TradingStateRow
from multiaccount.store.repositories.base import Repository, insert_ignore, when
from multiaccount.store.session import lock_for_write

NEVER = datetime.min.replace(tzinfo=UTC)
MAX_INSERT_RACES = 5


def _record(row: TradingStateRow | TradingStateChangeRow) -> StateRecord:
    return StateRecord(Scope.parse(row.scope), TradingState(row.state), row.reason, row.actor, row.changed_at,
                       row.version)


class SqlTradingStateRepository(Repository):
    def get(self, scope: Scope) -> StateRecord:
        """Current state; ACTIVE with version 0 when never set."""
        with self._session() as s:
            row = s.get(TradingStateRow, str(scope), populate_existing=True)
            return _record(row) if row else StateRecord(scope, TradingState.ACTIVE, "", "", NEVER, 0)

    def all(self) -> list[StateRecord]:
        with self._session() as s:
            return [_record(r) for r in s.scalars(select(TradingStateRow).order_by(TradingStateRow.scope))]

    def set(self, scope: Scope, state: TradingState, reason: str, actor: str,
            expected_version: int | None = None, at: datetime | None = None) -> StateRecord:
        """Change state; raises StaleStateError when `expected_version` is given and no longer current."""
        at = when(at)
        state = TradingState(state)
        key = str(scope)
        with self._session() as s:
            lock_for_write(s)
            for _ in range(MAX_INSERT_RACES):
                current = s.execute(select(TradingStateRow.state, TradingStateRow.version)
                                    .where(TradingStateRow.scope == key).with_for_update()).first()
                version = current.version if current else 0
                if expected_version is not None and expected_version != version:
                    raise StaleStateError(f"{key}: expected version {expected_version}, found {version}")
                values = {"state": state.value, "reason": reason, "actor": actor, "changed_at": at,
                          "version": version + 1}
                if current is None:
                    if not insert_ignore(s, TradingStateRow.__table__, {"scope": key, **values}, ["scope"]):
                        continue  # another writer created the row first: re-read and re-check
                else:
                    s.execute(update(TradingStateRow).where(TradingStateRow.scope == key,
                                                            TradingStateRow.version == version).values(**values))
                s.add(TradingStateChangeRow(scope=key, previous_state=current.state if current else None,
                                            **values))
                s.flush()
                return StateRecord(scope, state, reason, actor, at, version + 1)
            raise StaleStateError(f"{key}: lost {MAX_INSERT_RACES} races creating the state row")

    def history(self, scope: Scope | None = None, limit: int = 100) -> list[StateRecord]:
        """Newest first."""
        q = select(TradingStateChangeRow).order_by(TradingStateChangeRow.id.desc()).limit(limit)
        if scope is not None:
            q = q.where(TradingStateChangeRow.scope == str(scope))
        with self._session() as s:
            return [_record(r) for r in s.scalars(q)]
