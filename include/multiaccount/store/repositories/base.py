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
    """INSERT ... ON CONFLICT DO NOTHING; returns the number of rows inserted."""
    key = next(iter(table.primary_key.columns)).name
    return len(insert_ignore_keys(session, table, values, conflict, key))


def insert_ignore_keys(session: Session, table: Table,
                       values: Mapping[str, Any] | Sequence[Mapping[str, Any]], conflict: Iterable[str],
                       key: str) -> list[Any]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING `key`: the key of every row this call inserted.

    Several rows go as one multi-row statement per CHUNK (one round trip, not one per row); one row skips
    RETURNING (its rowcount says it all). Values are bound as parameters, so the compiled SQL is cached."""
    rows = [values] if isinstance(values, Mapping) else list(values)
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    conflict = tuple(conflict)
    if len(rows) == 1:
        done = session.execute(_insert_ignore_statement(dialect, table, conflict, None), rows[0]).rowcount
        return [rows[0].get(key)] if done else []
    stmt = _insert_ignore_statement(dialect, table, conflict, key)
    inserted: list[Any] = []
    for start in range(0, len(rows), CHUNK):
        inserted.extend(session.execute(stmt, rows[start:start + CHUNK]).scalars())
    return inserted


@lru_cache(maxsize=256)
def _insert_ignore_statement(dialect: str, table: Table, conflict: tuple[str, ...],
                             returning: str | None):
    """Built once per shape, like `_upsert_statement`."""
    stmt = _insert_for(dialect, table).on_conflict_do_nothing(index_elements=list(conflict))
    return stmt if returning is None else stmt.returning(table.c[returning])


def upsert(session: Session, table: Table, values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
           conflict: Iterable[str], update: Iterable[str] | None = None) -> None:
    """INSERT ... ON CONFLICT (conflict) DO UPDATE SET the other given columns.

    Several rows go as one multi-row statement (per page of SQLAlchemy's insertmanyvalues). A key given
    twice keeps its last values, as one upsert per row would: PostgreSQL refuses to update a row twice in
    one statement."""
    conflict = tuple(conflict)
    if isinstance(values, Mapping):
        rows: list[Mapping[str, Any]] = [values]
    else:
        rows = list({tuple(v[c] for c in conflict): v for v in values}.values())
        if not rows:
            return
    cols = tuple(update) if update is not None else tuple(c for c in rows[0] if c not in conflict)
    dialect = session.get_bind().dialect.name
    if len(rows) == 1:
        session.execute(_upsert_statement(dialect, table, conflict, cols), dict(rows[0]))
        return
    # RETURNING is what makes SQLAlchemy send one multi-row INSERT per page ("insertmanyvalues"): an upsert
    # without it goes to the driver's executemany, one round trip per row on psycopg2.
    stmt = _upsert_statement(dialect, table, conflict, cols, conflict[0])
    session.execute(stmt, [dict(r) for r in rows]).all()


@lru_cache(maxsize=512)
def _upsert_statement(dialect: str, table: Table, conflict: tuple[str, ...], cols: tuple[str, ...],
                      returning: str | None = None):
    """Built once per shape: `stmt.excluded` rebuilds the table's column proxies on every access (most of
    an upsert's cost), and a statement with bound parameters is immutable, so sharing it is safe."""
    stmt = _insert_for(dialect, table)
    stmt = stmt.on_conflict_do_update(index_elements=list(conflict), set_={c: stmt.excluded[c] for c in cols})
    return stmt if returning is None else stmt.returning(table.c[returning])


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
