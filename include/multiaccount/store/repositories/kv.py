"""Small named state as JSON (start-of-day equity, equity peaks, cursors)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from multiaccount.store.models import KVRow
from multiaccount.store.repositories.base import Repository, upsert, when


class KVRepository(Repository):
    def get(self, key: str, default: Any = None) -> Any:
        with self._session() as s:
            row = s.get(KVRow, key, populate_existing=True)
            return default if row is None else row.value

    def set(self, key: str, value: Any, at: datetime | None = None) -> None:
        with self._session() as s:
            upsert(s, KVRow.__table__, {"key": key, "value": value, "updated_at": when(at)}, ["key"])

    def delete(self, key: str) -> bool:
        with self._session() as s:
            return bool(s.execute(delete(KVRow).where(KVRow.key == key)).rowcount)

    def items(self, prefix: str = "") -> dict[str, Any]:
        q = select(KVRow.key, KVRow.value).order_by(KVRow.key)
        if prefix:
            q = q.where(KVRow.key.startswith(prefix, autoescape=True))
        with self._session() as s:
            return {k: v for k, v in s.execute(q)}
