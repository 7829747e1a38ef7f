"""What the realtime service writes for Airflow's `risk_watch`: a heartbeat row per component and an
append-only risk-event table read with a cursor on its autoincrement id."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text

from multiaccount.store.models import HeartbeatRow, RiskEventRow
from multiaccount.store.repositories.base import Repository, dialect_insert, when
from multiaccount.store.session import lock_for_write

EVENT_COLUMNS = ("at", "kind", "severity", "scope")


class HeartbeatRepository(Repository):
    def beat(self, component: str, at: datetime | None = None, info: dict[str, Any] | None = None) -> None:
        at = when(at)
        with self._session() as s:
            stmt = dialect_insert(s, HeartbeatRow.__table__)
            s.execute(stmt.on_conflict_do_update(index_elements=["component"], set_={
                "at": stmt.excluded.at, "info": stmt.excluded.info, "beats": HeartbeatRow.__table__.c.beats + 1}),
                {"component": component, "at": at, "info": info or {}, "beats": 1})

    def last(self, component: str) -> HeartbeatRow | None:
        with self._session() as s:
            return s.get(HeartbeatRow, component, populate_existing=True)

    def all(self) -> list[HeartbeatRow]:
        with self._session() as s:
            return list(s.scalars(select(HeartbeatRow).order_by(HeartbeatRow.component)))


def _event_dict(row: RiskEventRow) -> dict[str, Any]:
    return {"id": row.id, "at": row.at, "kind": row.kind, "severity": row.severity, "scope": row.scope,
            "payload": row.payload}


class RiskEventRepository(Repository):
    def append(self, event: Mapping[str, Any]) -> int:
        """Append an event (`kind` required; `at`, `severity`, `scope`, `payload` optional; other keys go
        into payload). Appends are serialised so ids become visible in order and a cursor misses none."""
        if "kind" not in event:
            raise ValueError("a risk event needs a 'kind'")
        payload = dict(event.get("payload") or {})
        payload.update({k: v for k, v in event.items() if k not in (*EVENT_COLUMNS, "payload", "id")})
        with self._session() as s:
            lock_for_write(s)
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(hashtext('multiaccount:risk_events'))"))
            row = RiskEventRow(at=when(event.get("at")), kind=str(event["kind"]),
                               severity=str(event.get("severity", "info")), scope=str(event.get("scope", "firm")),
                               payload=payload)
            s.add(row)
            s.flush()
            return row.id

    def since(self, cursor: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Events with id > cursor, oldest first; pass the last id back as the next cursor."""
        with self._session() as s:
            rows = s.scalars(select(RiskEventRow).where(RiskEventRow.id > cursor).order_by(RiskEventRow.id)
                             .limit(limit))
            return [_event_dict(r) for r in rows]

    def last_id(self) -> int:
        with self._session() as s:
            return s.scalar(select(func.coalesce(func.max(RiskEventRow.id), 0))) or 0
