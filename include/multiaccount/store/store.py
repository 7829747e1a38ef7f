"""`Store`: the engine, the unit of work and every repository, built once per process by `Store.open()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from multiaccount.store import repositories as r
from multiaccount.store.db import db_url, ensure_migrated, get_engine, redact
from multiaccount.store.session import UnitOfWork


class Store:
    """Source of truth for state and history.

    `with store.session():` is a unit of work: repository calls inside it share one transaction that
    commits when the block ends and rolls back if it raises. Outside such a block each repository call
    is its own transaction. Rows returned are detached snapshots: read them, do not mutate them.
    """

    def __init__(self, engine: Engine, url: str):
        self.engine = engine
        self.url = url
        self._uow = UnitOfWork(engine)

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> Store:
        """Open (and on first use create and migrate) the store at `url` (default `db_url()`)."""
        url = url or db_url()
        if migrate:
            ensure_migrated(url)
        return cls(get_engine(url), url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._uow.session() as s:
            yield s

    def __repr__(self) -> str:
        return f"Store({redact(self.url)})"

    # ------------------------------------------------------------------ repositories
    @cached_property
    def trading_states(self) -> r.SqlTradingStateRepository:
        return r.SqlTradingStateRepository(self._uow)

    @cached_property
    def orders(self) -> r.SqlOrderLedger:
        return r.SqlOrderLedger(self._uow)

    @cached_property
    def snapshots(self) -> r.SnapshotRepository:
        return r.SnapshotRepository(self._uow)

    @cached_property
    def positions(self) -> r.PositionRepository:
        return r.PositionRepository(self._uow)

    @cached_property
    def signals(self) -> r.SignalRepository:
        return r.SignalRepository(self._uow)

    @cached_property
    def violations(self) -> r.ViolationRepository:
        return r.ViolationRepository(self._uow)

    @cached_property
    def incidents(self) -> r.IncidentRepository:
        return r.IncidentRepository(self._uow)

    @cached_property
    def transfers(self) -> r.TransferRepository:
        return r.TransferRepository(self._uow)

    @cached_property
    def performance(self) -> r.PerformanceRepository:
        return r.PerformanceRepository(self._uow)

    @cached_property
    def outbox(self) -> r.OutboxRepository:
        return r.OutboxRepository(self._uow)

    @cached_property
    def reports(self) -> r.ReportRepository:
        return r.ReportRepository(self._uow)

    @cached_property
    def backups(self) -> r.BackupIndexRepository:
        return r.BackupIndexRepository(self._uow)

    @cached_property
    def audit(self) -> r.AuditRepository:
        return r.AuditRepository(self._uow)

    @cached_property
    def heartbeat(self) -> r.HeartbeatRepository:
        return r.HeartbeatRepository(self._uow)

    @cached_property
    def risk_events(self) -> r.RiskEventRepository:
        return r.RiskEventRepository(self._uow)

    @cached_property
    def checklists(self) -> r.ChecklistRepository:
        return r.ChecklistRepository(self._uow)

    @cached_property
    def kv(self) -> r.KVRepository:
        return r.KVRepository(self._uow)
