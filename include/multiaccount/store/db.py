"""Engine, URL and schema-migration plumbing for the store.

`MULTIACCOUNT_DB_URL` selects the database; the default is a SQLite file under
`multiaccount.paths.home()` in WAL mode with a busy timeout, so the realtime process, Airflow tasks
and the dashboard can read and write it at once. PostgreSQL is the production database.
Engines are cached per (URL, process id): a forked child never reuses its parent's sockets.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool, StaticPool

from multiaccount import paths

try:
    import fcntl
except ImportError:  # Windows: no cross-process migration lock for SQLite
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:  # alembic is imported lazily: most processes only open an already-migrated store
    from alembic.config import Config

log = logging.getLogger(__name__)

VERSION_TABLE = "multiaccount_alembic_version"
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATION_LOCK_KEY = 0x6D61_7374  # "mast": advisory lock id serialising store migrations
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_engines: dict[tuple[str, int], Engine] = {}
_migrated: set[tuple[str, int]] = set()
_lock = threading.RLock()


def db_url() -> str:
    """`MULTIACCOUNT_DB_URL`, else `sqlite:///<home>/multiaccount.db`."""
    env = os.environ.get("MULTIACCOUNT_DB_URL", "").strip()
    if env:
        return env
    return f"sqlite:///{paths.home() / 'multiaccount.db'}"


def redact(url: str) -> str:
    """The URL with its password hidden, for logs and CLI output."""
    return make_url(url).render_as_string(hide_password=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI types
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def _new_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        in_memory = database in ("", ":memory:")
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                  "check_same_thread": False},
                               poolclass=StaticPool if in_memory else None)  # one shared in-memory db
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default `db_url()`), created once per process."""
    url = url or db_url()
    key = (url, os.getpid())
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _new_engine(url)
            log.debug("engine created", extra={"url": redact(url)})
        return engine


def dispose_engine(url: str | None = None) -> None:
    """Close pooled connections of `url` (tests dropping a database call this first)."""
    url = url or db_url()
    with _lock:
        engine = _engines.pop((url, os.getpid()), None)
        _migrated.discard((url, os.getpid()))
    if engine is not None:
        engine.dispose()


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or db_url()).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Serialise migrations across processes: two services starting at once on a fresh database must not
    both create the schema. SQLite: an flock beside the file; PostgreSQL: an advisory lock (taken below)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or fcntl is None:
        yield
        return
    with open(f"{database}.migrate.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Migrate the database at `url` to `revision` (idempotent, safe when processes race); returns the
    revision reached."""
    from alembic import command

    url = url or db_url()
    engine = get_engine(url)
    with _lock, _migration_lock(url), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    reached = current_revision(url) or ""
    log.info("store migrated", extra={"url": redact(url), "revision": reached})
    return reached


def ensure_migrated(url: str | None = None) -> None:
    """Create and migrate on first use; cheap when already at head (checked once per process)."""
    url = url or db_url()
    key = (url, os.getpid())
    if key in _migrated:
        return
    if current_revision(url) != head_revision():
        upgrade(url)
    _migrated.add(key)


# ------------------------------------------------------------------ scratch databases (tests, DR drills)
def _server_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def create_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` (no-op for SQLite, whose file appears on connect)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_engine(_server_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": parsed.database}).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    """Drop a scratch database (PostgreSQL: terminate its sessions first; SQLite: delete the files)."""
    dispose_engine(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            for suffix in ("", "-wal", "-shm", ".migrate.lock"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    admin = create_engine(_server_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": parsed.database})
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        admin.dispose()
