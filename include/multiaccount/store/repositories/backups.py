"""Index of backup archives (the archives themselves are written by `multiaccount.store.backup`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from multiaccount.store.models import BackupRow
from multiaccount.store.repositories.base import Repository, upsert, when


class BackupIndexRepository(Repository):
    def record(self, name: str, path: str, created_at: datetime, size: int, sha256: str,
               row_counts: dict[str, Any], status: str = "created") -> None:
        with self._session() as s:
            upsert(s, BackupRow.__table__, {"name": name, "path": str(path), "created_at": when(created_at),
                                            "size": size, "sha256": sha256, "row_counts": row_counts,
                                            "status": status}, ["name"])

    def _set(self, name: str, **values: Any) -> None:
        with self._session() as s:
            s.execute(update(BackupRow).where(BackupRow.name == name).values(**values))

    def mark_verified(self, name: str, at: datetime | None = None) -> None:
        self._set(name, status="verified", verified_at=when(at))

    def mark_deleted(self, name: str, at: datetime | None = None) -> None:
        self._set(name, status="deleted", deleted_at=when(at))

    def get(self, name: str) -> BackupRow | None:
        with self._session() as s:
            return s.scalar(select(BackupRow).where(BackupRow.name == name))

    def list(self, include_deleted: bool = False) -> list[BackupRow]:
        q = select(BackupRow).order_by(BackupRow.created_at.desc(), BackupRow.id.desc())
        if not include_deleted:
            q = q.where(BackupRow.status != "deleted")
        with self._session() as s:
            return list(s.scalars(q))
