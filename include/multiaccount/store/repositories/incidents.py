"""Risk violations (every breach, as measured) and incidents (a breach or failure with a timeline)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from multiaccount.domain import Scope, Severity
from multiaccount.store.models import IncidentEntryRow, IncidentRow, RiskViolationRow
from multiaccount.store.repositories.base import Repository, insert_ignore, when


class ViolationRepository(Repository):
    def record(self, scope: Scope | str, limit_name: str, measured: float | None, threshold: float | None,
               severity: Severity | str, action: str = "", reason: str = "",
               detail: dict[str, Any] | None = None, at: datetime | None = None,
               incident_id: int | None = None) -> int:
        with self._session() as s:
            row = RiskViolationRow(scope=str(scope), limit_name=limit_name, measured=measured,
                                   threshold=threshold, severity=str(Severity(severity)), action=action,
                                   reason=reason, detail=detail or {}, at=when(at), incident_id=incident_id)
            s.add(row)
            s.flush()
            return row.id

    def list(self, since: datetime | None = None, until: datetime | None = None, scope: Scope | str | None = None,
             severity: Severity | str | None = None) -> list[RiskViolationRow]:
        q = select(RiskViolationRow).order_by(RiskViolationRow.at, RiskViolationRow.id)
        if since is not None:
            q = q.where(RiskViolationRow.at >= when(since))
        if until is not None:
            q = q.where(RiskViolationRow.at < when(until))
        if scope is not None:
            q = q.where(RiskViolationRow.scope == str(scope))
        if severity is not None:
            q = q.where(RiskViolationRow.severity == str(Severity(severity)))
        with self._session() as s:
            return list(s.scalars(q))


class IncidentError(Exception):
    """An incident operation that makes no sense (unknown id, already closed)."""


class IncidentRepository(Repository):
    def open(self, title: str, severity: Severity | str, scope: Scope | str = "firm", actor: str = "system",
             key: str | None = None, text: str = "", at: datetime | None = None,
             data: dict[str, Any] | None = None) -> IncidentRow:
        """Open an incident with a first timeline entry. With `key`, reopening returns the existing one."""
        at = when(at)
        values = {"key": key, "title": title, "severity": str(Severity(severity)), "scope": str(scope),
                  "status": "open", "opened_at": at, "opened_by": actor, "resolution": ""}
        with self._session() as s:
            if key is not None:
                if not insert_ignore(s, IncidentRow.__table__, values, ["key"]):
                    return s.scalar(select(IncidentRow).where(IncidentRow.key == key))
                row = s.scalar(select(IncidentRow).where(IncidentRow.key == key))
            else:
                row = IncidentRow(**values)
                s.add(row)
            row.entries.append(IncidentEntryRow(at=at, actor=actor, kind="opened", text=text or title,
                                                data=data or {}))
            s.flush()
            return row

    def add_entry(self, incident_id: int, text: str, actor: str = "system", kind: str = "note",
                  data: dict[str, Any] | None = None, at: datetime | None = None) -> int:
        with self._session() as s:
            if s.get(IncidentRow, incident_id) is None:
                raise IncidentError(f"no incident {incident_id}")
            entry = IncidentEntryRow(incident_id=incident_id, at=when(at), actor=actor, kind=kind, text=text,
                                     data=data or {})
            s.add(entry)
            s.flush()
            return entry.id

    def close(self, incident_id: int, actor: str, resolution: str = "", at: datetime | None = None) -> IncidentRow:
        at = when(at)
        with self._session() as s:
            row = s.get(IncidentRow, incident_id, with_for_update=True)
            if row is None:
                raise IncidentError(f"no incident {incident_id}")
            if row.status == "closed":
                return row
            row.status, row.closed_at, row.closed_by, row.resolution = "closed", at, actor, resolution
            row.entries.append(IncidentEntryRow(at=at, actor=actor, kind="closed", text=resolution or "closed",
                                                data={}))
            s.flush()
            return row

    def get(self, incident_id: int) -> IncidentRow | None:
        with self._session() as s:
            return s.get(IncidentRow, incident_id)

    def list(self, status: str | None = None, since: datetime | None = None) -> list[IncidentRow]:
        q = select(IncidentRow).order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
        if status is not None:
            q = q.where(IncidentRow.status == status)
        if since is not None:
            q = q.where(IncidentRow.opened_at >= when(since))
        with self._session() as s:
            return list(s.scalars(q))
