"""Index of generated reports, one row per (kind, period, format): a rerun replaces, never duplicates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from multiaccount.store.models import ReportRow
from multiaccount.store.repositories.base import Repository, upsert, when


class ReportRepository(Repository):
    def upsert(self, kind: str, period: str, format: str, path: str, created_at: datetime | None = None,
               size: int | None = None, sha256: str | None = None, meta: dict[str, Any] | None = None) -> int:
        values = {"kind": kind, "period": period, "format": format, "path": str(path),
                  "created_at": when(created_at), "size": size, "sha256": sha256, "meta": meta or {}}
        with self._session() as s:
            upsert(s, ReportRow.__table__, values, ["kind", "period", "format"])
            return s.scalar(select(ReportRow.id).where(ReportRow.kind == kind, ReportRow.period == period,
                                                       ReportRow.format == format))

    def get(self, kind: str, period: str, format: str) -> ReportRow | None:
        with self._session() as s:
            return s.scalar(select(ReportRow).where(ReportRow.kind == kind, ReportRow.period == period,
                                                    ReportRow.format == format))

    def list(self, kind: str | None = None, limit: int = 200) -> list[ReportRow]:
        q = select(ReportRow).order_by(ReportRow.created_at.desc(), ReportRow.id.desc()).limit(limit)
        if kind is not None:
            q = q.where(ReportRow.kind == kind)
        with self._session() as s:
            return list(s.scalars(q))
