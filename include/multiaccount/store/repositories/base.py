"""Helpers shared by the repositories: dialect-neutral upserts and value normalisation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from multiaccount.domain import Scope, utcnow
from multiaccount.store.session import UnitOfWork

CHUNK = 500


def _insert_for(dialect: str, table: Table):  # noqa: ANN202 - dialect-specific Insert
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"the store supports sqlite and postgresql, not {dialect}")


def dialect_insert(session: Session, table: Table):  # noqa: ANN202 - dialect-specific Insert
    return _insert_for(session.get_bind().dialect.name, table)


def insert_ignore(session: Session, table: Table, values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
                  conflict: Iterable[str]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; returns the number of rows inserted.

    Values are bound as parameters (never baked into the statement) so the compiled SQL is cached."""
    rows = [values] if isinstance(values, Mapping) else list(values)
    if not rows:
        return 0
    stmt = dialect_insert(session, table).on_conflict_do_nothing(index_elements=list(conflict))
    if len(rows) == 1:
        return session.execute(stmt, rows[0]).rowcount or 0
    key = next(iter(table.primary_key.columns))
    inserted = 0
    for start in range(0, len(rows), CHUNK):
        inserted += len(session.execute(stmt.returning(key), rows[start:start + CHUNK]).all())
    return inserted


def upsert(session: Session, table: Table, values: Mapping[str, Any], conflict: Iterable[str],
           update: Iterable[str] | None = None) -> None:
    """INSERT ... ON CONFLICT (conflict) DO UPDATE SET the other given columns."""
    conflict = tuple(conflict)
    cols = tuple(update) if update is not None else tuple(c for c in values if c not in conflict)
    session.execute(_upsert_statement(session.get_bind().dialect.name, table, conflict, cols), dict(values))


@lru_cache(maxsize=512)
def _upsert_statement(dialect: str, table: Table, conflict: tuple[str, ...], cols: tuple[str, ...]):  # noqa: ANN202
    """Built once per shape: `stmt.excluded` rebuilds the table's column proxies on every access (most of
    an upsert's cost), and a statement with bound parameters is immutable, so sharing it is safe."""
    stmt = _insert_for(dialect, table)
    return stmt.on_conflict_do_update(index_elements=list(conflict), set_={c: stmt.excluded[c] for c in cols})


def scope_key(scope: Scope | str) -> str:
    return str(scope)


def when(at: datetime | None) -> datetime:
    """`at` as aware UTC, defaulting to now; naive datetimes are refused (ambiguous)."""
    if at is None:
        return utcnow()
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: pass a timezone-aware datetime")
    return at.astimezone(UTC)


class Repository:
    """Base: every repository works through the store's unit of work."""

    def __init__(self, uow: UnitOfWork):
        self._uow = uow

    def _session(self):  # noqa: ANN202 - context manager
        return self._uow.session()
