"""The unit of work: `store.session()` commits on success and rolls back on error.

Repository methods run inside the caller's open unit of work when there is one (same thread or task),
so several writes (a state change, its audit row, its alert) commit together; otherwise each method
is its own short transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

_current: ContextVar[dict[int, Session] | None] = ContextVar("multiaccount_store_session", default=None)


class UnitOfWork:
    """Owns the sessionmaker of one engine and the per-context current session."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.factory = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        active = _current.get() or {}
        outer = active.get(id(self.engine))  # any Store on the same engine joins the open unit of work
        if outer is not None:
            yield outer
            return
        session = self.factory()
        token = _current.set({**active, id(self.engine): session})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            _current.reset(token)
            session.close()


def lock_for_write(session: Session) -> None:
    """Take the database write lock before reading what we are about to change.

    SQLite (WAL, deferred transactions) fails at once with SQLITE_BUSY when a transaction that has
    read tries to become a writer after another writer committed; starting with a write makes it wait
    on the busy timeout instead. PostgreSQL needs nothing here (row locks do the job).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE kv SET key = key WHERE 1 = 0"))
