"""Audit log of operator and system actions: who did what, to which scope, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from multiaccount.domain import Scope
from multiaccount.store.models import AuditRow
from multiaccount.store.repositories.base import Repository, when


class AuditRepository(Repository):
    def record(self, actor: str, action: str, scope: Scope | str = "firm", detail: dict[str, Any] | None = None,
               at: datetime | None = None) -> int:
        with self._session() as s:
            row = AuditRow(actor=actor, action=action, scope=str(scope), detail=detail or {}, at=when(at))
            s.add(row)
            s.flush()
            return row.id

    def list(self, since: datetime | None = None, actor: str | None = None, action: str | None = None,
             limit: int = 200) -> list[AuditRow]:
        q = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if since is not None:
            q = q.where(AuditRow.at >= when(since))
        if actor is not None:
            q = q.where(AuditRow.actor == actor)
        if action is not None:
            q = q.where(AuditRow.action == action)
        with self._session() as s:
            return list(s.scalars(q))
