"""Checklist results (daily startup, end of day, monthly review): one row per item per run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from multiaccount.store.models import ChecklistResultRow
from multiaccount.store.repositories.base import Repository, when


def _item(result: Any) -> tuple[str, bool, str]:
    if isinstance(result, Mapping):
        return str(result["item"]), bool(result["ok"]), str(result.get("detail", ""))
    if isinstance(result, tuple):
        item, ok, *rest = result
        return str(item), bool(ok), str(rest[0]) if rest else ""
    return str(result.item), bool(result.ok), str(getattr(result, "detail", ""))


class ChecklistRepository(Repository):
    def record(self, checklist: str, run_id: str, results: Iterable[Any], actor: str = "system",
               at: datetime | None = None) -> int:
        """Store a run's results (mappings, (item, ok, detail) tuples or objects); rerunning the same
        run_id replaces its earlier results."""
        at = when(at)
        rows = [ChecklistResultRow(checklist=checklist, run_id=run_id, item=i, ok=ok, detail=d, actor=actor, at=at)
                for i, ok, d in map(_item, results)]
        with self._session() as s:
            s.execute(ChecklistResultRow.__table__.delete().where(ChecklistResultRow.checklist == checklist,
                                                                  ChecklistResultRow.run_id == run_id))
            s.add_all(rows)
        return len(rows)

    def results(self, checklist: str, run_id: str | None = None) -> list[ChecklistResultRow]:
        """Results of `run_id`, or of the checklist's most recent run."""
        with self._session() as s:
            if run_id is None:
                run_id = s.scalar(select(ChecklistResultRow.run_id).where(ChecklistResultRow.checklist == checklist)
                                  .order_by(ChecklistResultRow.at.desc(), ChecklistResultRow.id.desc()).limit(1))
                if run_id is None:
                    return []
            return list(s.scalars(select(ChecklistResultRow).where(ChecklistResultRow.checklist == checklist,
                                                                   ChecklistResultRow.run_id == run_id)
                                  .order_by(ChecklistResultRow.id)))

    def runs(self, checklist: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Summary per run: checklist, run_id, at, passed, total."""
        q = (select(ChecklistResultRow.checklist, ChecklistResultRow.run_id,
                    func.max(ChecklistResultRow.at).label("at"),
                    func.sum(case((ChecklistResultRow.ok, 1), else_=0)).label("passed"), func.count().label("total"))
             .group_by(ChecklistResultRow.checklist, ChecklistResultRow.run_id)
             .order_by(func.max(ChecklistResultRow.at).desc()).limit(limit))
        if checklist is not None:
            q = q.where(ChecklistResultRow.checklist == checklist)
        with self._session() as s:
            return [dict(r._mapping) for r in s.execute(q)]
