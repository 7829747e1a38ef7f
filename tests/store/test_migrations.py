"""Migrations: up from empty on both dialects, and the models match the migrated schema exactly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from multiaccount.store import Store, current_revision, get_engine, head_revision, upgrade
from multiaccount.store.db import VERSION_TABLE, alembic_config
from multiaccount.store.models import Base


def _diff(url: str) -> list:
    with get_engine(url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": VERSION_TABLE})
        return compare_metadata(ctx, Base.metadata)


def test_upgrade_when_database_empty_then_head_reached_and_autogenerate_finds_no_diff(empty_db_url):
    assert current_revision(empty_db_url) is None
    reached = upgrade(empty_db_url)
    assert reached == head_revision() == current_revision(empty_db_url)
    tables = set(inspect(get_engine(empty_db_url)).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert _diff(empty_db_url) == []


def test_upgrade_when_run_twice_then_idempotent(empty_db_url):
    upgrade(empty_db_url)
    assert upgrade(empty_db_url) == head_revision()


def test_downgrade_when_to_base_then_all_tables_gone_and_upgrade_again_works(empty_db_url):
    upgrade(empty_db_url)
    with get_engine(empty_db_url).begin() as conn:
        cfg = alembic_config(empty_db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    left = set(inspect(get_engine(empty_db_url)).get_table_names()) - {VERSION_TABLE}
    assert left == set()
    upgrade(empty_db_url)
    assert _diff(empty_db_url) == []


def test_open_when_default_url_then_sqlite_file_created_under_home_and_migrated(tmp_path):
    store = Store.open()
    assert store.dialect == "sqlite"
    assert (tmp_path / "home" / "multiaccount.db").exists()
    assert current_revision(store.url) == head_revision()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_open_when_env_url_set_then_it_is_used(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("MULTIACCOUNT_DB_URL", url)
    assert Store.open().url == url and (tmp_path / "elsewhere.db").exists()
